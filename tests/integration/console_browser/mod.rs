//! The console in a real headless Chromium (Debian's `chromium` through `chromedriver`), against
//! `paybridge serve` on loopback with the Stripe and Kentico fakes: what an operator does there
//! reaches the workers, Stripe and Kentico. Each test saves screenshots of the pages it visits
//! (`target/console-screenshots/`, kept by CI as artifacts).

mod designer;
mod operations;
mod suggestions;

use std::time::Duration;

use integration_tests::browser::Browser;

use crate::serve_process::{Serve, Setup};

/// How long a page may take to show what a test waits for.
pub const PAGE: Duration = Duration::from_secs(20);

/// `paybridge serve` with the fakes, reading the active mapping version at every event, and a
/// browser.
pub struct Console {
    pub setup: Setup,
    pub serve: Serve,
    pub browser: Browser,
}

impl Console {
    /// Starts serve (console at `/console`, loopback: no login) and a browser.
    pub async fn start() -> Console {
        Console::start_with(&[], &[]).await
    }

    /// [`Console::start`] with extra serve arguments and environment.
    pub async fn start_with(args: &[&str], env: &[(&str, &str)]) -> Console {
        let setup = Setup::new().await;
        let mut all_env = vec![("MAPPING_REFRESH_SECONDS", "0")];
        all_env.extend_from_slice(env);
        let serve = setup.serve_with(args, &all_env).await;
        let browser = Browser::start().await;
        Console {
            setup,
            serve,
            browser,
        }
    }

    /// The URL of a console page (`path` under `/console`, e.g. `/mapping`).
    pub fn page(&self, path: &str) -> String {
        format!("{}/console{path}", self.serve.url)
    }
}
