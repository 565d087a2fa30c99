//! Suggestions from the console: an alias for a dead-lettered mismatch, published and
//! redriven after a confirmation; a stale confirmation; escaping; CSRF.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use paybridge::config::worker::WorkerKind;
use paybridge::mapping_doc::MappingDocument;
use paybridge::queue::{DeadLetter, QueueMessage};

use super::*;

/// Dead-letters a Kentico order whose currency is `currency`, as the order worker does.
async fn mismatch(state: &ConsoleState, order_id: u32, currency: &str) -> String {
    let message = QueueMessage {
        message_id: format!("m-{order_id}"),
        receipt_handle: format!("r-{order_id}"),
        body: serde_json::json!({
            "source": "kentico", "event_id": format!("evt_{order_id}"), "event_type": "order.created",
            "payload": {"data": {"object": {"OrderID": order_id, "OrderCurrencyCode": currency,
                "OrderGiftNote": "leave at the door"}}}
        })
        .to_string(),
        receive_count: 1,
        attributes: BTreeMap::from([("event_type".to_string(), "order.created".to_string())]),
    };
    let failure = DeadLetter {
        reason: format!("currency '{currency}' is not ISO 4217"),
        kind: "mapping_mismatch".into(),
        failed_at: "2026-12-02T12:00:00.000Z".into(),
        details: vec![
            ("field".into(), "OrderCurrencyCode".into()),
            ("suggestion".into(), "USD".into()),
        ],
    };
    let settler = state.backend.stores(WorkerKind::Order, 30).settler;
    settler.dead_letter(&message, &failure).await.unwrap();
    let listed = state.backend.dead_letters().list(None, 10).await.unwrap();
    let entry = listed
        .iter()
        .find(|e| e.body.contains(&format!("evt_{order_id}")))
        .unwrap();
    entry.id.clone()
}

const USD_KEY: &str = r#"{"alias":"currency_alias","spelling":"US Dollar","code":"USD"}"#;

async fn kentico_visible(state: &ConsoleState) -> u64 {
    let depths = state.backend.depths().await;
    depths
        .iter()
        .find(|d| d.queue == "kentico-events")
        .unwrap()
        .visible
}

#[tokio::test]
async fn a_us_dollar_mismatch_shows_the_usd_alias_and_accepting_publishes_and_redrives_it() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let id = mismatch(&state, 1042, "US Dollar").await;

    let (status, page) = get(&app, "/console/suggestions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("add aliases.currencies[&quot;US Dollar&quot;] = &quot;USD&quot;"),
        "{page}"
    );
    assert!(page.contains(&id), "{page}");
    assert!(page.contains("(order 1042)"), "{page}");
    // The unmapped field of the dead letter's order is suggested too.
    assert!(page.contains("OrderGiftNote"), "{page}");

    let (status, api) = get(&app, "/console/api/suggestions").await;
    assert_eq!(status, StatusCode::OK);
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["corrections"][0]["correction"]["change"]["code"], "USD");
    assert_eq!(api["corrections"][0]["dead_letters"][0]["id"], id.as_str());
    assert!(
        api["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "OrderGiftNote")
    );

    let (status, confirm) = post(
        &app,
        "/console/suggestions/correct",
        &[("csrf", &csrf), ("key", USD_KEY)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{confirm}");
    assert!(
        confirm.contains("&quot;US Dollar&quot;: &quot;USD&quot;"),
        "{confirm}"
    );
    assert!(confirm.contains(&id), "{confirm}");
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 0);

    let (status, done) = post(
        &app,
        "/console/suggestions/correct/confirm",
        &[
            ("csrf", &csrf),
            ("key", USD_KEY),
            ("expected", "0"),
            ("ids", &id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Version 1 is active; 1 of 1"), "{done}");
    let (version, stored) = state.backend.mappings().active().await.unwrap();
    assert_eq!(version, 1);
    let stored = stored.unwrap();
    let document = MappingDocument::parse(&stored.document).unwrap();
    assert_eq!(document.aliases.currencies["US Dollar"], "USD");
    assert_eq!(stored.author, "console");
    assert!(stored.comment.contains("US Dollar"), "{}", stored.comment);
    assert!(
        state
            .backend
            .dead_letters()
            .list(None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(kentico_visible(&state).await, 1);
}

#[tokio::test]
async fn a_stale_confirmation_is_a_conflict_and_redrives_nothing() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let id = mismatch(&state, 7, "US Dollar").await;
    // Someone publishes version 1 after the confirmation was shown against version 0.
    state
        .backend
        .mappings()
        .publish(
            r#"{"schema": 1}"#,
            "someone",
            "meanwhile",
            0,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();

    let (status, conflict) = post(
        &app,
        "/console/suggestions/correct/confirm",
        &[
            ("csrf", &csrf),
            ("key", USD_KEY),
            ("expected", "0"),
            ("ids", &id),
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
    assert_eq!(kentico_visible(&state).await, 0);
}

#[tokio::test]
async fn a_hostile_value_is_escaped_on_the_suggestions_page() {
    let (app, state) = console(Gate::Open);
    mismatch(&state, 9, HOSTILE).await;
    let (status, page) = get(&app, "/console/suggestions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(HOSTILE), "{page}");
    assert!(page.contains("Mismatches without a correction"), "{page}");
}

#[tokio::test]
async fn accepting_a_field_suggestion_publishes_its_rule() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    mismatch(&state, 11, "US Dollar").await;
    let (status, confirm) = post(
        &app,
        "/console/suggestions/field",
        &[
            ("csrf", &csrf),
            ("path", "OrderGiftNote"),
            ("target", "metadata.order_gift_note"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{confirm}");
    let (status, done) = post(
        &app,
        "/console/suggestions/field/confirm",
        &[
            ("csrf", &csrf),
            ("path", "OrderGiftNote"),
            ("target", "metadata.order_gift_note"),
            ("expected", "0"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (version, stored) = state.backend.mappings().active().await.unwrap();
    assert_eq!(version, 1);
    let document = MappingDocument::parse(&stored.unwrap().document).unwrap();
    assert_eq!(document.payment_intent.metadata[0].key, "order_gift_note");
}

#[tokio::test]
async fn accepting_a_suggestion_without_the_csrf_token_is_refused() {
    let (app, state) = console(Gate::Open);
    let id = mismatch(&state, 5, "US Dollar").await;
    let (status, _) = post(
        &app,
        "/console/suggestions/correct/confirm",
        &[("key", USD_KEY), ("expected", "0"), ("ids", &id)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 0);
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
}

#[tokio::test]
async fn the_cli_prints_the_same_suggestions_with_their_dead_letters() {
    let (_, state) = console(Gate::Open);
    let empty = crate::mapping::suggestions_text(
        &crate::console::suggestions(&state.backend, &state.settings)
            .await
            .unwrap(),
    );
    assert!(
        empty.contains("mismatches:\n  none\n"),
        "nothing dead-lettered: {empty}"
    );
    let id = mismatch(&state, 1042, "US Dollar").await;
    mismatch(&state, 1043, "US Dollar").await;

    let g = crate::console::suggestions(&state.backend, &state.settings)
        .await
        .unwrap();
    let text = crate::mapping::suggestions_text(&g);

    assert!(
        text.contains("add aliases.currencies[\"US Dollar\"] = \"USD\""),
        "{text}"
    );
    assert!(text.contains(&format!("{id} (order 1042)")), "{text}");
    assert!(text.contains("(order 1043)"), "one alias for both: {text}");
    assert!(text.contains("OrderGiftNote"), "an unmapped field: {text}");
    assert!(!text.contains("mismatches:\n  none"), "{text}");
}
