//! Mapping changes from the console: flow switches, activation, publishing.

use axum::http::StatusCode;
use paybridge::mapping_doc::MappingDocument;

use super::*;

/// How many mapping versions are stored.
async fn stored_versions(state: &ConsoleState) -> usize {
    state.backend.mappings().versions(100).await.unwrap().len()
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
    assert_eq!(stored_versions(&state).await, 1);
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
    assert_eq!(stored_versions(&state).await, 0, "nothing stored");
    // Confirming it anyway is refused the same way.
    let (status, _) = post(
        &app,
        "/console/mapping/publish/confirm",
        &[("csrf", &csrf), ("document", document), ("expected", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored_versions(&state).await, 0, "nothing stored");
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
        page.contains("sample order event(s): 2 map, none breaks."),
        "the built-in samples replayed: {page}"
    );
    assert_eq!(stored_versions(&state).await, 0, "nothing stored");

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
async fn a_document_that_breaks_the_sample_orders_is_refused_with_each_of_them() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    // Every built-in sample maps under version 0; an order id is no statement descriptor
    // suffix (Stripe needs a letter), so none maps under this one.
    let document = r#"{"schema": 1, "payment_intent": {"statement_descriptor_suffix": {"from": ["OrderID"]}}}"#;

    for path in [
        "/console/mapping/publish",
        "/console/mapping/publish/confirm",
    ] {
        let (status, page) = post(
            &app,
            path,
            &[
                ("csrf", &csrf),
                ("document", document),
                ("comment", "suffix"),
                ("expected", "0"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {page}");
        assert!(page.contains("This version would break orders"), "{page}");
        assert!(
            page.contains("2 that the active version maps would no longer map"),
            "{page}"
        );
        assert!(
            page.contains("<code>events/order-worker-sqs.json</code>: breaks: mapping_mismatch: payment_intent.statement_descriptor_suffix"),
            "{page}"
        );
        assert!(
            page.contains("<textarea"),
            "the document is back in the form to mend: {page}"
        );
    }
    assert_eq!(stored_versions(&state).await, 0, "nothing stored");
}
