//! The console's routes on an embedded store in a temporary directory, through
//! `tower::ServiceExt::oneshot`: pages render and escape (here), changes publish and roll back
//! (`changes`), the gate holds (`access`).

mod access;
mod changes;
mod designer;
mod events;
mod suggestions;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paybridge::app::Backend;
use paybridge::config::worker::WorkerKind;
use paybridge::mapping_doc::MappingDocument;
use paybridge::queue::{DeadLetter, QueueMessage};
use tower::ServiceExt as _;

use super::*;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "paybridge-console-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Version 0 of the tests: a document with every default.
pub(super) fn environment_document() -> MappingDocument {
    MappingDocument::parse(r#"{"schema": 1}"#).unwrap()
}

pub(super) fn console(gate: Gate) -> (Router, ConsoleState) {
    let backend = Backend::embedded(&temp_dir(), 5).unwrap();
    let state = ConsoleState {
        backend,
        settings: Arc::new(ConsoleSettings {
            environment_document: Ok(environment_document()),
            base_settings: Ok(paybridge::config::flow::FlowSettings::default()),
            stripe_mode: None,
        }),
        access: Arc::new(Access::new(gate).unwrap()),
        metrics: None,
        outcomes: Arc::default(),
    };
    (router(state.clone()), state)
}

pub(super) async fn body_text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 10 * 1024 * 1024)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub(super) async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (status, body_text(response).await)
}

pub(super) fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

pub(super) async fn post(app: &Router, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(pairs)))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    (status, body_text(response).await)
}

/// Puts a dead letter whose body and reason carry `hostile` on the Kentico DLQ.
pub(super) async fn dead_letter(state: &ConsoleState, hostile: &str) -> String {
    let message = QueueMessage {
        message_id: "m-1".into(),
        receipt_handle: "r-1".into(),
        body: serde_json::json!({
            "source": "kentico", "event_id": "evt_hostile", "event_type": "order.created",
            "payload": {"data": {"object": {"OrderID": 7, "CustomerEmail": "ada@example.com", "note": hostile}}}
        })
        .to_string(),
        receive_count: 1,
        attributes: BTreeMap::from([("event_type".to_string(), "order.created".to_string())]),
    };
    let failure = DeadLetter {
        reason: format!("currency {hostile} is not ISO 4217"),
        kind: "mapping_mismatch".into(),
        failed_at: "2026-12-02T12:00:00.000Z".into(),
        details: vec![],
    };
    let settler = state.backend.stores(WorkerKind::Order, 30).settler;
    settler.dead_letter(&message, &failure).await.unwrap();
    let listed = state.backend.dead_letters().list(None, 10).await.unwrap();
    listed[0].id.clone()
}

const HOSTILE: &str = "<script>alert('x')</script>";

#[tokio::test]
async fn every_page_renders_with_the_security_headers() {
    let (app, _) = console(Gate::Open);
    for path in [
        "/console/",
        "/console/mapping",
        "/console/events",
        "/console/events?q=1042",
        "/console/orders/1042",
        "/console/reconciliation",
        "/console/dlq",
        "/console/suggestions",
        "/console/mapping/diff?version=0",
    ] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        // An order id is answered with its timeline.
        if path == "/console/events?q=1042" {
            assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
            assert_eq!(headers[header::LOCATION], "/console/orders/1042");
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .split(';')
                .next(),
            Some("default-src 'self'")
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let text = body_text(response).await;
        assert!(text.contains("Dead letters") && text.contains("/console/assets/console.css"));
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_assets_are_served_from_the_binary_with_their_types() {
    let (app, _) = console(Gate::Open);
    let css = app
        .clone()
        .oneshot(
            Request::get("/console/assets/console.css")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
    let js = app
        .clone()
        .oneshot(
            Request::get("/console/assets/console.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        js.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(body_text(js).await.contains("/console/api/flows"));
    let (missing, _) = get(&app, "/console/assets/other.js").await;
    assert_eq!(missing, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_hostile_dead_letter_is_shown_escaped_and_masked() {
    let (app, state) = console(Gate::Open);
    let id = dead_letter(&state, HOSTILE).await;

    let (status, list) = get(&app, "/console/dlq").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("mapping_mismatch"), "{list}");
    assert!(!list.contains(HOSTILE), "{list}");
    assert!(list.contains("&lt;script&gt;"), "{list}");

    let (status, shown) = get(&app, &format!("/console/dlq/message?id={id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!shown.contains("<script>alert"), "{shown}");
    assert!(shown.contains("&lt;script&gt;"), "{shown}");
    assert!(
        shown.contains("a***@example.com") && !shown.contains("ada@example.com"),
        "{shown}"
    );

    let (_, order) = get(&app, "/console/orders/7").await;
    assert!(
        order.contains(&id) && !order.contains("<script>alert"),
        "{order}"
    );
}

#[tokio::test]
async fn the_flows_api_and_page_show_the_queue_and_dlq_depths() {
    let (app, state) = console(Gate::Open);
    dead_letter(&state, "x").await;
    let journal = state.backend.journal();
    for (event_id, outcome) in [
        ("evt_1", "done"),
        ("evt_2", "ignored"),
        ("evt_3", "retried"),
    ] {
        let entry = paybridge::journal::JournalEntry {
            at: "2026-12-02T12:00:00.000Z".into(),
            source: "stripe".into(),
            event_id: event_id.into(),
            event_type: "payment_intent.succeeded".into(),
            worker: "payment-worker".into(),
            outcome: outcome.into(),
            detail: String::new(),
            receive_count: 1,
        };
        journal.record("order:1", &entry, "{}").await.unwrap();
    }

    let (status, text) = get(&app, "/console/api/flows").await;
    assert_eq!(status, StatusCode::OK);
    let flows: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(flows["numbers"]["kentico.dlq"], "1");
    assert_eq!(flows["numbers"]["stripe.dlq"], "0");
    assert_eq!(flows["numbers"]["stripe.processed"], "1");
    assert_eq!(flows["numbers"]["stripe.ignored"], "1");
    assert_eq!(flows["numbers"]["stripe.failed"], "1");
    assert_eq!(flows["numbers"]["stripe.error_rate"], "33.3%");
    assert_eq!(flows["outcomes"]["stripe"]["total"], 3);
    assert_eq!(flows["queues"]["kentico-events-dlq"]["visible"], 1);
    assert_eq!(flows["window_seconds"], 3600);
    assert_eq!(flows["mapping"]["flows"]["order_to_cash"], true);
    let (_, page) = get(&app, "/console/").await;
    assert!(page.contains(r#"data-number="kentico.dlq">1<"#), "{page}");
}

#[tokio::test]
async fn dead_letters_are_purged_only_after_the_confirmation() {
    let (app, state) = console(Gate::Open);
    let id = dead_letter(&state, "x").await;
    let csrf = state.access.process_csrf().to_string();

    let (status, confirm) = post(
        &app,
        "/console/dlq/action",
        &[
            ("csrf", &csrf),
            ("action", "purge"),
            ("reason", "mapping_mismatch"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        confirm.contains(&id) && confirm.contains("for good"),
        "{confirm}"
    );
    assert_eq!(
        state
            .backend
            .dead_letters()
            .list(None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let (_, none) = post(
        &app,
        "/console/dlq/action",
        &[("csrf", &csrf), ("action", "purge"), ("reason", "other")],
    )
    .await;
    assert!(none.contains("No dead letter matches"), "{none}");

    let (status, _) = post(
        &app,
        "/console/dlq/action/confirm",
        &[("csrf", &csrf), ("action", "purge"), ("ids", &id)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        state
            .backend
            .dead_letters()
            .list(None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_events_page_lists_the_latest_and_finds_an_event_by_its_id() {
    let (app, state) = console(Gate::Open);
    let entry = paybridge::journal::JournalEntry {
        at: "2026-12-02T12:00:00.000Z".into(),
        source: "stripe".into(),
        event_id: "evt_findme".into(),
        event_type: "payment_intent.succeeded".into(),
        worker: "payment-worker".into(),
        outcome: "ignored".into(),
        detail: "not ours: ada@example.com".into(),
        receive_count: 1,
    };
    state
        .backend
        .journal()
        .record("order:1042", &entry, "{}")
        .await
        .unwrap();

    let (_, latest) = get(&app, "/console/events").await;
    assert!(latest.contains("evt_findme"), "{latest}");
    let (status, found) = get(&app, "/console/events?q=evt_findme").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        found.contains(r#"href="/console/orders/1042""#) && found.contains("a***@example.com"),
        "{found}"
    );
    assert!(!found.contains("ada@example.com"), "{found}");
    let (_, nothing) = get(&app, "/console/events?q=evt_unknown").await;
    assert!(nothing.contains("Nothing recorded for"), "{nothing}");
    let (_, order) = get(&app, "/console/orders/1042").await;
    assert!(
        order.contains("evt_findme") && order.contains("payment-worker"),
        "{order}"
    );
}

#[tokio::test]
async fn a_dead_letter_is_redriven_onto_its_queue_after_the_confirmation() {
    let (app, state) = console(Gate::Open);
    let id = dead_letter(&state, "x").await;
    let csrf = state.access.process_csrf().to_string();
    let (_, stripe_only) = get(&app, "/console/dlq?source=stripe").await;
    assert!(!stripe_only.contains(&id), "{stripe_only}");
    let (_, kentico_only) = get(&app, "/console/dlq?source=kentico&reason=mapping_mismatch").await;
    assert!(kentico_only.contains(&id), "{kentico_only}");

    let (status, confirm) = post(
        &app,
        "/console/dlq/action",
        &[("csrf", &csrf), ("action", "redrive"), ("ids", &id)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("back on their queue"), "{confirm}");
    let (status, _) = post(
        &app,
        "/console/dlq/action/confirm",
        &[("csrf", &csrf), ("action", "redrive"), ("ids", &id)],
    )
    .await;

    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        state
            .backend
            .dead_letters()
            .list(None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let depths = state.backend.depths().await;
    let kentico = depths.iter().find(|d| d.queue == "kentico-events").unwrap();
    assert_eq!(kentico.visible, 1);
}
