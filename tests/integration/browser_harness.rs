//! The browser-test harness the console's tests stand on: a page served on loopback, driven in
//! headless Chromium (Debian's `chromium` and `chromium-driver`) — a click, typing, and a drag
//! made of pointer events, as the console's drag and drop will be.

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use integration_tests::browser::Browser;

const WAIT: Duration = Duration::from_secs(10);

/// A button whose script changes a text, an input, and a card dragged onto a bin with pointer
/// events (`pointerdown` / `pointermove` / `pointerup`; Chromium fires no HTML5 drag events for
/// WebDriver's pointer).
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>harness</title>
<style>
  #card { width: 120px; height: 60px; background: #5b8def; color: white; touch-action: none;
          position: absolute; left: 40px; top: 160px; cursor: grab; }
  #bin { width: 200px; height: 120px; border: 2px dashed #444; position: absolute;
         left: 500px; top: 140px; }
</style></head>
<body>
  <button id="greet">Greet</button>
  <p id="message">Not clicked</p>
  <input id="name" value="">
  <div id="card">Card</div>
  <div id="bin">Bin</div>
  <p id="status">Nothing dropped</p>
<script>
  document.getElementById('greet').addEventListener('click', () => {
    const name = document.getElementById('name').value || 'nobody';
    document.getElementById('message').textContent = 'Clicked by ' + name;
  });
  const card = document.getElementById('card');
  const bin = document.getElementById('bin');
  let grab = null;
  card.addEventListener('pointerdown', (e) => {
    card.setPointerCapture(e.pointerId);
    grab = { dx: e.clientX - card.offsetLeft, dy: e.clientY - card.offsetTop };
  });
  card.addEventListener('pointermove', (e) => {
    if (!grab) return;
    card.style.left = (e.clientX - grab.dx) + 'px';
    card.style.top = (e.clientY - grab.dy) + 'px';
  });
  card.addEventListener('pointerup', (e) => {
    if (!grab) return;
    grab = null;
    const box = bin.getBoundingClientRect();
    const inside = e.clientX >= box.left && e.clientX <= box.right
      && e.clientY >= box.top && e.clientY <= box.bottom;
    document.getElementById('status').textContent = inside ? 'Card dropped in the bin' : 'Missed';
  });
</script>
</body></html>"#;

/// The page on a free loopback port; its URL.
async fn serve_page() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}/", listener.local_addr().expect("its address"));
    let app = Router::new().route("/", get(|| async { Html(PAGE) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_typing_and_a_pointer_drag_in_headless_chromium_change_the_page() {
    let url = serve_page().await;
    let browser = Browser::start().await;

    browser.goto(&url).await;
    browser.wait_for("#greet", WAIT).await;
    browser.fill("#name", "Ada").await;
    browser.click("#greet").await;
    browser.drag_and_drop("#card", "#bin").await;

    browser
        .wait_for_text("#message", "Clicked by Ada", WAIT)
        .await;
    browser
        .wait_for_text("#status", "Card dropped in the bin", WAIT)
        .await;
    assert_eq!(browser.text_of("#message").await, "Clicked by Ada");
    let screenshot = browser.screenshot("browser_harness").await;
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is a PNG",
        screenshot.display()
    );
    browser.close().await;
}
