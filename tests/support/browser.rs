//! A headless Chromium for the console's browser tests: Debian's `chromium`, driven over
//! WebDriver by `chromedriver` (Debian's `chromium-driver`) on a free loopback port; nothing is
//! downloaded at test time. The browser and its driver end when the [`Browser`] is dropped.
//!
//! Drag and drop: WebDriver's actions move a real pointer, so they fire `pointerdown`,
//! `pointermove` and `pointerup`, but Chromium fires no HTML5 `dragstart`/`drop` for them. The
//! console's drag and drop is therefore built on pointer events, and [`Browser::drag_and_drop`]
//! exercises it as a user would.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// The variable naming the Chromium binary (default [`DEFAULT_CHROMIUM`]).
pub const CHROMIUM_VARIABLE: &str = "PAYBRIDGE_TEST_CHROMIUM";
/// Debian's `chromium` package.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver` package.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long chromedriver may take to listen and Chromium to start.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Between two looks while waiting.
const POLL: Duration = Duration::from_millis(50);

/// A headless Chromium with helpers that fail the test with a message saying what was missing.
pub struct Browser {
    client: Client,
    driver: Child,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium (1280×900) through it.
    pub async fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so dropping the Browser ends Chromium with the driver.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{CHROMEDRIVER} does not start ({e}): apt-get install chromium-driver")
            });
        let chromium = std::env::var(CHROMIUM_VARIABLE)
            .ok()
            .filter(|path| !path.is_empty())
            .unwrap_or_else(|| DEFAULT_CHROMIUM.to_string());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        // Held from here on, so an early panic still ends the driver.
        let mut pending = Pending(Some(driver));
        let client = loop {
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match attempt {
                Ok(client) => break client,
                Err(error) if started.elapsed() > START_TIMEOUT => {
                    panic!(
                        "no Chromium session through chromedriver at {url} ({chromium}): {error}"
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Browser {
            client,
            driver: pending.take(),
        }
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        (self.client.goto(url).await).unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The element at the CSS `selector`, waiting up to `timeout` for it to appear.
    pub async fn wait_for(&self, selector: &str, timeout: Duration) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(selector)).await {
                return element;
            }
            if started.elapsed() > timeout {
                panic!("no element '{selector}' within {timeout:?}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits up to `timeout` until the element at `selector` shows a text containing `text`.
    pub async fn wait_for_text(&self, selector: &str, text: &str, timeout: Duration) {
        let started = Instant::now();
        let mut last = String::new();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(selector)).await {
                last = element.text().await.unwrap_or_default();
                if last.contains(text) {
                    return;
                }
            }
            if started.elapsed() > timeout {
                panic!("'{selector}' did not show '{text}' within {timeout:?} (it shows '{last}')");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the element at `selector`.
    pub async fn click(&self, selector: &str) {
        let element = self.find(selector).await;
        (element.click().await).unwrap_or_else(|e| panic!("click '{selector}': {e}"));
    }

    /// Replaces the value of the input at `selector` by typing `text`.
    pub async fn fill(&self, selector: &str, text: &str) {
        let element = self.find(selector).await;
        (element.clear().await).unwrap_or_else(|e| panic!("clear '{selector}': {e}"));
        (element.send_keys(text).await).unwrap_or_else(|e| panic!("type into '{selector}': {e}"));
    }

    /// The visible text of the element at `selector`.
    pub async fn text_of(&self, selector: &str) -> String {
        let element = self.find(selector).await;
        (element.text().await).unwrap_or_else(|e| panic!("text of '{selector}': {e}"))
    }

    /// Drags the element at `from` onto the one at `to` with the pointer (down on the first's
    /// centre, moves in steps, up on the second's centre): pointer events, not HTML5 drag events.
    pub async fn drag_and_drop(&self, from: &str, to: &str) {
        let source = self.find(from).await;
        let target = self.find(to).await;
        let step = Some(Duration::from_millis(100));
        let moves = MouseActions::new("mouse".to_string())
            .then(PointerAction::MoveToElement {
                element: source,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::MoveBy {
                duration: step,
                x: 5.0,
                y: 5.0,
            })
            .then(PointerAction::MoveToElement {
                element: target,
                duration: step,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        (self.client.perform_actions(moves).await)
            .unwrap_or_else(|e| panic!("drag '{from}' to '{to}': {e}"));
        (self.client.release_actions().await)
            .unwrap_or_else(|e| panic!("release after the drag: {e}"));
    }

    /// Saves a PNG of the window to `target/console-screenshots/<name>.png` (under
    /// `CARGO_TARGET_DIR` when set) and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = (self.client.screenshot().await).unwrap_or_else(|e| panic!("screenshot: {e}"));
        let directory = screenshot_directory();
        std::fs::create_dir_all(&directory)
            .unwrap_or_else(|e| panic!("create {}: {e}", directory.display()));
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = directory.join(format!("{file}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Ends the session (Chromium quits), then the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    async fn find(&self, selector: &str) -> Element {
        (self.client.find(Locator::Css(selector)).await)
            .unwrap_or_else(|e| panic!("no element '{selector}': {e}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        end(&mut self.driver);
    }
}

/// The driver until the session is up: ended if the start fails half-way.
struct Pending(Option<Child>);

impl Pending {
    fn take(&mut self) -> Child {
        self.0.take().expect("taken once")
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(driver) = &mut self.0 {
            end(driver);
        }
    }
}

/// Ends chromedriver's process group (it and the Chromium it started), then reaps the driver.
/// `killpg`, not `kill -KILL -<pgid>`: procps' `kill` reads that as "every process" and ends the
/// whole machine's session.
fn end(driver: &mut Child) {
    if let Ok(group) = libc::pid_t::try_from(driver.id())
        && group > 1
    {
        // SAFETY: killpg only sends a signal, to the driver's own group (started with
        // `process_group(0)`, so its id is the driver's pid): never 0 (ours) nor 1 (everyone).
        unsafe {
            libc::killpg(group, libc::SIGKILL);
        }
    }
    let _ = driver.kill();
    let _ = driver.wait();
}

/// `<target>/console-screenshots`: `CARGO_TARGET_DIR` if set (relative to the repository), else
/// the repository's `target/`.
pub fn screenshot_directory() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => crate::repo_root().join(dir),
        _ => crate::repo_root().join("target"),
    };
    target.join("console-screenshots")
}
