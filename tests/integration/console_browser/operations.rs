//! The operator's console in a browser against `paybridge serve`: the Flows numbers move with
//! an order, a rollback on the Mapping page puts the workers back on the earlier version, the
//! console asks for a login beyond loopback, and the Events and Dead letters pages show what
//! happened to an order (screenshots of each page).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use integration_tests::browser::Browser;
use serde_json::{Value, json};

use super::{Console, PAGE};
use crate::serve_process::{KENTICO_WEBHOOK_SECRET, deliver, kentico_order, order_event, wait_for};

/// How long the workers may take with an order on a busy machine (and the Flows outcomes are
/// counted again only every 10 s).
const WORK: Duration = Duration::from_secs(120);
/// Between two looks at a page.
const LOOK: Duration = Duration::from_millis(500);

/// Delivers `order`'s signed `ecommerce.order.created` event to serve's Kentico webhook.
async fn send_order(console: &Console, order: &Value) {
    deliver(
        &reqwest::Client::new(),
        &console.serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(order),
    )
    .await;
}

/// The PaymentIntent the Stripe fake holds for Kentico order `id`, waiting for it.
async fn payment_intent_of(console: &Console, id: i64) -> Value {
    let wanted = id.to_string();
    let of_order = |intent: &Value| intent["metadata"]["kentico_order_id"] == wanted.as_str();
    wait_for(&format!("the PaymentIntent of order {id}"), || {
        console.setup.stripe.payment_intents().iter().any(of_order)
    })
    .await;
    (console.setup.stripe.payment_intents().into_iter())
        .find(of_order)
        .expect("found above")
}

/// The number a `data-number` element of the table shows now.
async fn number(browser: &Browser, name: &str) -> u64 {
    let text = browser.text_of(&format!("td [data-number='{name}']")).await;
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("'{name}' shows '{text}', not a count: {e}"))
}

/// Waits, without reloading, until the `data-number` element `name` shows more than `before`.
async fn wait_for_number_above(browser: &Browser, name: &str, before: u64, timeout: Duration) {
    let started = Instant::now();
    loop {
        let now = number(browser, name).await;
        if now > before {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "'{name}' still shows {now} (not above {before}) after {timeout:?}"
        );
        tokio::time::sleep(LOOK).await;
    }
}

/// Opens `url` again and again until its `main` shows `text` (a page that is not refreshed
/// by script: an operator reloads it).
async fn reload_until(browser: &Browser, url: &str, text: &str, timeout: Duration) {
    let started = Instant::now();
    loop {
        browser.goto(url).await;
        let shown = browser.text_of("main").await;
        if shown.contains(text) {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "{url} did not show '{text}' within {timeout:?}; it shows:\n{shown}"
        );
        tokio::time::sleep(LOOK).await;
    }
}

/// The texts of the cells of each row of the last table on the page (the Mapping page's audit
/// trail).
async fn last_table_rows(browser: &Browser) -> Vec<Vec<String>> {
    let client = browser.client();
    let tables = (client.find_all(Locator::Css("main table")).await).expect("the tables");
    let table = tables.last().expect("a table on the page");
    let mut rows = Vec::new();
    for row in (table.find_all(Locator::Css("tbody tr")).await).expect("its rows") {
        let mut cells = Vec::new();
        for cell in (row.find_all(Locator::Css("td")).await).expect("its cells") {
            cells.push(cell.text().await.expect("a cell's text"));
        }
        rows.push(cells);
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flows_numbers_move_without_a_reload_when_an_order_is_sent() {
    let console = Console::start().await;
    let browser = &console.browser;
    browser.goto(&console.page("/")).await;
    browser.wait_for_text("h1", "Flows", PAGE).await;
    let before = number(browser, "kentico.processed").await;
    // Gone if the page is loaded again: the number below must come from console.js.
    (browser.client())
        .execute("window.paybridgeNotReloaded = true;", vec![])
        .await
        .expect("a mark on the page");

    let order = kentico_order(4101);
    console.setup.kentico.add_order(order.clone());
    send_order(&console, &order).await;

    let intent = payment_intent_of(&console, 4101).await;
    assert_eq!(
        (intent["amount"].as_i64(), intent["currency"].as_str()),
        (Some(4200), Some("eur"))
    );
    wait_for_number_above(browser, "kentico.processed", before, WORK).await;
    let mark = (browser.client())
        .execute("return window.paybridgeNotReloaded === true;", vec![])
        .await
        .expect("the mark read");
    assert_eq!(mark, json!(true), "the page was not reloaded");
    browser.screenshot("flows").await;
    console.browser.close().await;
}

/// Publishes `document` through the Mapping page's form: checked, shown as a diff, confirmed.
/// Saves a screenshot of the diff as `diff_screenshot` when given.
async fn publish(
    console: &Console,
    document: &Value,
    author: &str,
    comment: &str,
    diff_screenshot: Option<&str>,
) {
    let browser = &console.browser;
    browser.goto(&console.page("/mapping")).await;
    browser.wait_for("textarea[name='document']", PAGE).await;
    browser
        .fill("textarea[name='document']", &document.to_string())
        .await;
    browser.fill("input[name='author']", author).await;
    browser.fill("input[name='comment']", comment).await;
    browser
        .click("form[action='/console/mapping/publish'] button[type='submit']")
        .await;
    browser
        .wait_for_text("h1", "Publish this document?", PAGE)
        .await;
    browser.wait_for_text("div.confirm", author, PAGE).await;
    if let Some(name) = diff_screenshot {
        browser.screenshot(name).await;
    }
    browser.click("div.confirm button.danger").await;
    browser.wait_for_text("h1", "Mapping", PAGE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_on_the_mapping_page_puts_the_workers_back_on_the_earlier_version() {
    let console = Console::start().await;
    let browser = &console.browser;
    let first = json!({"schema": 1,
        "payment_intent": {"metadata": [{"key": "sku", "from": ["OrderItems[0].SKUNumber"]}]}});
    let second = json!({"schema": 1,
        "payment_intent": {"metadata": [{"key": "order_status", "from": ["OrderStatusName"]}]}});

    publish(&console, &first, "ada", "SKU to Stripe", None).await;
    browser
        .wait_for_text("main", "Active: version 1", PAGE)
        .await;
    publish(
        &console,
        &second,
        "bob",
        "status instead of SKU",
        Some("mapping-diff"),
    )
    .await;
    browser
        .wait_for_text("main", "Active: version 2", PAGE)
        .await;
    browser
        .click(
            "form[action='/console/mapping/activate']:has(input[name='version'][value='1']) button",
        )
        .await;
    browser
        .wait_for_text("h1", "Activate version 1?", PAGE)
        .await;
    browser.wait_for_text("div.confirm", "\"sku\"", PAGE).await;
    browser.click("div.confirm button.danger").await;

    browser
        .wait_for_text("main", "Active: version 1", PAGE)
        .await;
    let active = browser.text_of("main pre").await;
    assert!(active.contains(r#""key": "sku""#), "{active}");
    assert!(!active.contains("order_status"), "{active}");
    let audit: Vec<(String, String, String)> = (last_table_rows(browser).await.into_iter())
        .map(|cells| {
            assert_eq!(
                cells.len(),
                5,
                "at, author, action, from → to, comment: {cells:?}"
            );
            (cells[1].clone(), cells[2].clone(), cells[3].clone())
        })
        .collect();
    let line = |author: &str, action: &str, change: &str| {
        (author.to_string(), action.to_string(), change.to_string())
    };
    assert_eq!(
        audit,
        [
            line("console", "activated", "2 → 1"),
            line("bob", "published", "1 → 2"),
            line("ada", "published", "0 → 1"),
        ],
        "the audit trail, newest first"
    );
    // The versions (version 1 marked active) and the audit trail, rather than the JSON above.
    (browser.client())
        .execute(
            "document.querySelector('main h2').scrollIntoView();",
            vec![],
        )
        .await
        .expect("scrolled to the versions");
    browser.screenshot("mapping").await;

    let order = kentico_order(4201);
    console.setup.kentico.add_order(order.clone());
    send_order(&console, &order).await;
    let intent = payment_intent_of(&console, 4201).await;
    assert_eq!(
        intent["metadata"]["sku"], "FP-20",
        "version 1's rule: {intent}"
    );
    assert!(
        intent["metadata"].get("order_status").is_none(),
        "not version 2's rule: {intent}"
    );
    console.browser.close().await;
}

/// This machine's address beyond loopback (the one a route to the internet would leave from),
/// or 127.0.0.1 when it has none: the console's login rule follows the address serve is bound
/// to (`0.0.0.0` here), not the one it is reached at.
fn reachable_address() -> String {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").expect("a UDP socket");
    // A UDP connect sends nothing: it only picks the route and so the local address.
    match socket
        .connect("192.0.2.1:9")
        .and_then(|()| socket.local_addr())
    {
        Ok(address) if !address.ip().is_loopback() && !address.ip().is_unspecified() => {
            address.ip().to_string()
        }
        _ => "127.0.0.1".to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_console_asks_for_the_token_before_any_page() {
    let token = "console-t0ken-for-the-browser-test";
    let console = Console::start_with(&["--host", "0.0.0.0", "--console-token", token], &[]).await;
    let browser = &console.browser;
    let port = (console.serve.url.rsplit(':').next()).expect("serve's URL has a port");
    let base = format!("http://{}:{port}", reachable_address());

    browser.goto(&format!("{base}/console/")).await;
    browser.wait_for_text("h1", "Log in", PAGE).await;
    let url = (browser.client().current_url().await).expect("the page's URL");
    assert_eq!(url.path(), "/console/login", "redirected to the login page");
    browser.screenshot("login").await;

    browser.fill("input[name='token']", "not-the-token").await;
    browser
        .click("form[action='/console/login'] button[type='submit']")
        .await;
    browser
        .wait_for_text("main", "That is not the token.", PAGE)
        .await;
    assert_eq!(browser.text_of("h1").await, "Log in");

    browser.fill("input[name='token']", token).await;
    browser.fill("input[name='label']", "ada").await;
    browser
        .click("form[action='/console/login'] button[type='submit']")
        .await;
    browser.wait_for_text("h1", "Flows", PAGE).await;
    browser.wait_for_text("header", "console:ada", PAGE).await;
    browser
        .wait_for("td [data-number='kentico.processed']", PAGE)
        .await;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let api = (client.get(format!("{base}/console/api/flows")).send().await)
        .expect("the console answers");
    assert_eq!(api.status(), 401, "the JSON without a session");
    let error: Value = api.json().await.expect("a JSON error");
    assert_eq!(error["error"]["code"], "console_login_needed");
    let page = (client.get(format!("{base}/console/")).send().await).expect("the console answers");
    assert_eq!(page.status(), 303, "a page without a session");
    assert_eq!(page.headers()["location"], "/console/login");
    console.browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_page_finds_an_order_s_timeline_and_the_dead_letters_page_shows_a_bad_one() {
    let console = Console::start().await;
    let browser = &console.browser;
    let paid = kentico_order(4301);
    console.setup.kentico.add_order(paid.clone());
    let mut misspelt = kentico_order(4302);
    misspelt["OrderCurrencyCode"] = json!("Euro dollars");
    console.setup.kentico.add_order(misspelt.clone());

    send_order(&console, &paid).await;
    send_order(&console, &misspelt).await;
    let intent = payment_intent_of(&console, 4301).await;

    reload_until(browser, &console.page("/events"), "evt-order-4301", WORK).await;
    browser.screenshot("events").await;
    browser.fill("input[name='q']", "4301").await;
    browser.click("form.filters button.primary").await;
    browser.wait_for_text("h1", "Order 4301", PAGE).await;
    let url = (browser.client().current_url().await).expect("the page's URL");
    reload_until(browser, url.as_str(), "done (#", WORK).await;
    let timeline = browser.text_of("main").await;
    let intent_id = intent["id"].as_str().expect("a PaymentIntent id");
    assert!(timeline.contains(intent_id), "{timeline}");
    assert!(timeline.contains("order-worker"), "{timeline}");
    browser.screenshot("order-timeline").await;

    reload_until(browser, &console.page("/dlq"), "mapping_mismatch", WORK).await;
    let listed = browser.text_of("main").await;
    assert!(listed.contains("1 dead-lettered event(s)"), "{listed}");
    assert!(listed.contains("ecommerce.order.created"), "{listed}");
    browser.screenshot("dlq").await;
    assert!(
        !(console.setup.stripe.payment_intents().iter())
            .any(|intent| intent["metadata"]["kentico_order_id"] == "4302"),
        "no PaymentIntent for the dead-lettered order"
    );
    console.browser.close().await;
}
