//! The console's routes on an embedded store in a temporary directory, through
//! `tower::ServiceExt::oneshot`: pages render and escape, changes publish and roll back, the
//! gate holds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paybridge::app::Backend;
use paybridge::config::worker::WorkerKind;
use paybridge::mapping_doc::MappingDocument;
use paybridge::queue::{DeadLetter, QueueMessage};
use paybridge::secret::SecretString;
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
fn environment_document() -> MappingDocument {
    MappingDocument::parse(r#"{"schema": 1}"#).unwrap()
}

fn console(gate: Gate) -> (Router, ConsoleState) {
    let backend = Backend::embedded(&temp_dir(), 5).unwrap();
    let state = ConsoleState {
        backend,
        settings: Arc::new(ConsoleSettings {
            environment_document: Ok(environment_document()),
        }),
        access: Arc::new(Access::new(gate).unwrap()),
        metrics: None,
    };
    (router(state.clone()), state)
}

async fn body_text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 10 * 1024 * 1024)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    (status, body_text(response).await)
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

async fn post(app: &Router, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
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
async fn dead_letter(state: &ConsoleState, hostile: &str) -> String {
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
        "/console/dlq",
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
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
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

    let (status, text) = get(&app, "/console/api/flows").await;
    assert_eq!(status, StatusCode::OK);
    let flows: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(flows["numbers"]["kentico.dlq"], "1");
    assert_eq!(flows["numbers"]["stripe.dlq"], "0");
    assert_eq!(flows["queues"]["kentico-events-dlq"]["visible"], 1);
    assert_eq!(flows["window_seconds"], 3600);
    assert_eq!(flows["mapping"]["flows"]["order_to_cash"], true);
    let (_, page) = get(&app, "/console/").await;
    assert!(page.contains(r#"data-number="kentico.dlq">1<"#), "{page}");
}

#[tokio::test]
async fn switching_a_flow_off_publishes_version_1_with_only_that_flag_changed() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();

    let (status, confirm) = post(
        &app,
        "/console/flows/switch",
        &[("csrf", &csrf), ("flow", "order_to_cash"), ("on", "false")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        confirm.contains("Switching <code>order_to_cash</code> off means"),
        "{confirm}"
    );
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 0);

    let (status, _) = post(
        &app,
        "/console/flows/switch/confirm",
        &[
            ("csrf", &csrf),
            ("flow", "order_to_cash"),
            ("on", "false"),
            ("expected", "0"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (version, stored) = state.backend.mappings().active().await.unwrap();
    assert_eq!(version, 1);
    let stored = stored.unwrap();
    let document = MappingDocument::parse(&stored.document).unwrap();
    let mut expected = environment_document();
    expected.flows.order_to_cash = false;
    assert_eq!(document, expected);
    assert_eq!(stored.author, "console");
    assert!(
        stored.comment.contains("order_to_cash switched off"),
        "{}",
        stored.comment
    );

    // Confirming again against version 0 is a conflict, shown and not written.
    let (status, conflict) = post(
        &app,
        "/console/flows/switch/confirm",
        &[
            ("csrf", &csrf),
            ("flow", "ledger"),
            ("on", "false"),
            ("expected", "0"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        conflict.contains("Version 1 became active meanwhile"),
        "{conflict}"
    );
    assert_eq!(
        state.backend.mappings().versions(10).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn rolling_back_to_version_0_goes_through_a_confirmation() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    post(
        &app,
        "/console/flows/switch/confirm",
        &[
            ("csrf", &csrf),
            ("flow", "ledger"),
            ("on", "false"),
            ("expected", "0"),
        ],
    )
    .await;
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 1);

    let (status, confirm) = post(
        &app,
        "/console/mapping/activate",
        &[("csrf", &csrf), ("version", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Activate version 0"), "{confirm}");
    assert!(
        confirm.contains(r#"class="removed">-     &quot;ledger&quot;: false"#),
        "{confirm}"
    );
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 1);

    let (status, _) = post(
        &app,
        "/console/mapping/activate/confirm",
        &[("csrf", &csrf), ("version", "0"), ("expected", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 0);
    let (_, page) = get(&app, "/console/mapping").await;
    assert!(
        page.contains("version 0 activated in the console"),
        "{page}"
    );
}

#[tokio::test]
async fn publishing_an_invalid_document_shows_each_problem_with_its_path_and_stores_nothing() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = r#"{"schema": 1, "payment_intent": {"metadata": [{"key": "kentico_order_id", "from": ["OrderID"]}]}, "customer_field_owners": {"email": "nobody"}}"#;

    let (status, page) = post(
        &app,
        "/console/mapping/publish",
        &[
            ("csrf", &csrf),
            ("document", document),
            ("author", "ada"),
            ("comment", "try"),
        ],
    )
    .await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("<code>payment_intent.metadata[0].key</code>"),
        "{page}"
    );
    assert!(
        page.contains("<code>customer_field_owners.email</code>"),
        "{page}"
    );
    assert!(
        state
            .backend
            .mappings()
            .versions(10)
            .await
            .unwrap()
            .is_empty()
    );
    // Confirming it anyway is refused the same way.
    let (status, _) = post(
        &app,
        "/console/mapping/publish/confirm",
        &[("csrf", &csrf), ("document", document), ("expected", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        state
            .backend
            .mappings()
            .versions(10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn publishing_a_valid_document_shows_the_diff_then_publishes_on_confirmation() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = r#"{"schema": 1, "flows": {"customers": false}}"#;

    let (status, page) = post(
        &app,
        "/console/mapping/publish",
        &[
            ("csrf", &csrf),
            ("document", document),
            ("author", "ada"),
            ("comment", "no customers"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"class="added">+     &quot;customers&quot;: false"#),
        "{page}"
    );
    assert!(
        state
            .backend
            .mappings()
            .versions(10)
            .await
            .unwrap()
            .is_empty()
    );

    let (status, _) = post(
        &app,
        "/console/mapping/publish/confirm",
        &[
            ("csrf", &csrf),
            ("document", document),
            ("author", "ada"),
            ("comment", "no customers"),
            ("expected", "0"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let versions = state.backend.mappings().versions(10).await.unwrap();
    assert_eq!((versions.len(), versions[0].author.as_str()), (1, "ada"));
}

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_site_is_refused() {
    let (app, state) = console(Gate::Open);
    let (status, _) = post(
        &app,
        "/console/flows/switch/confirm",
        &[("flow", "ledger"), ("on", "false"), ("expected", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let csrf = state.access.process_csrf().to_string();
    let cross = app
        .clone()
        .oneshot(
            Request::post("/console/flows/switch/confirm")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(form(&[
                    ("csrf", &csrf),
                    ("flow", "ledger"),
                    ("on", "false"),
                    ("expected", "0"),
                ])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 0);
}

#[tokio::test]
async fn beyond_loopback_every_page_needs_a_login_with_the_right_token() {
    let (app, state) = console(Gate::Token(SecretString::new("s3cret")));

    let (status, _) = get(&app, "/console/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = get(&app, "/console/api/flows").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = post(
        &app,
        "/console/flows/switch",
        &[("flow", "ledger"), ("on", "false")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, login) = get(&app, "/console/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(login.contains(r#"name="token""#));

    let csrf = state.access.process_csrf().to_string();
    let (status, _) = post(
        &app,
        "/console/login",
        &[("csrf", &csrf), ("token", "wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&app, "/console/login", &[("token", "s3cret")]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a login needs the form's CSRF token too"
    );

    let response = app
        .clone()
        .oneshot(
            Request::post("/console/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&[
                    ("csrf", &csrf),
                    ("token", "s3cret"),
                    ("label", "ada"),
                ])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/console"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let page = app
        .clone()
        .oneshot(
            Request::get("/console/")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let text = body_text(page).await;
    assert!(text.contains("console:ada"), "{text}");
    // The session's forms carry its own CSRF token, not the process's.
    let session_csrf = text
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert_ne!(session_csrf, csrf);
    let with_process_csrf = app
        .clone()
        .oneshot(
            Request::post("/console/flows/switch")
                .header(header::COOKIE, &session)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&[
                    ("csrf", &csrf),
                    ("flow", "ledger"),
                    ("on", "false"),
                ])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(with_process_csrf.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn beyond_loopback_without_a_token_every_page_explains_how_to_set_one() {
    let (app, _) = console(Gate::NoToken);
    for path in [
        "/console/",
        "/console/login",
        "/console/dlq",
        "/console/api/flows",
    ] {
        let (status, text) = get(&app, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(text.contains("PAYBRIDGE_CONSOLE_TOKEN"), "{text}");
    }
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
