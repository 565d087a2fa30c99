//! Ingress decisions against an in-memory queue: statuses, reason codes, counts.

use std::sync::Arc;

use super::*;
use crate::clock::FixedClock;
use crate::config::mode::StripeMode;
use crate::metrics::InMemoryMetrics;
use crate::queue::InMemoryQueue;
use crate::secret::SecretString;
use crate::webhook::signature::sign_header;

const NOW: i64 = 1_700_000_000;
const SECRET: &str = "whsec_unit";
const EVENT: &str = r#"{"id":"evt_1","type":"payment_intent.succeeded","created":1700000000}"#;

struct Harness {
    handler: IngressHandler,
    queue: Arc<InMemoryQueue>,
    metrics: Arc<InMemoryMetrics>,
}

fn harness(limit: usize) -> Harness {
    let queue = Arc::new(InMemoryQueue::new());
    let metrics = Arc::new(InMemoryMetrics::new());
    let handler = IngressHandler::new(
        Source::Stripe,
        SignatureVerifier::new(vec![SecretString::new(SECRET)], 300),
        queue.clone(),
        metrics.clone(),
        Arc::new(FixedClock::at_unix(NOW)),
        limit,
    );
    Harness {
        handler,
        queue,
        metrics,
    }
}

async fn post(h: &Harness, body: &str, signature: Option<&str>) -> IngressResponse {
    h.handler
        .handle(IngressRequest {
            method: "POST",
            signature,
            body: body.as_bytes(),
        })
        .await
}

fn signed(body: &str) -> String {
    sign_header(&[SECRET], NOW, body.as_bytes())
}

#[tokio::test]
async fn accepts_a_signed_event_and_enqueues_it_once() {
    let h = harness(1 << 20);
    let response = post(&h, EVENT, Some(&signed(EVENT))).await;
    assert_eq!(response.status, 202);
    assert_eq!(response.body["event_id"], "evt_1");
    let messages = h.queue.messages();
    assert_eq!(messages.len(), 1);
    let envelope: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
    assert_eq!(envelope["source"], "stripe");
    assert_eq!(envelope["received_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(
        h.metrics.count(
            METRIC_WEBHOOK_REQUESTS,
            &[("Source", "stripe"), ("Outcome", "accepted")]
        ),
        1
    );
}

#[tokio::test]
async fn answers_every_refusal_with_its_status_and_code_and_enqueues_nothing() {
    let h = harness(1 << 20);
    let not_json = "not json";
    let no_id = r#"{"type":"x","created":1}"#;
    let cases: Vec<(&str, Option<String>, u16, &str)> = vec![
        (EVENT, None, 401, "signature_missing"),
        (EVENT, Some("t=1".into()), 400, "signature_malformed"),
        (
            EVENT,
            Some(sign_header(&[SECRET], NOW - 301, EVENT.as_bytes())),
            401,
            "signature_stale",
        ),
        (
            EVENT,
            Some(sign_header(&[SECRET], NOW + 301, EVENT.as_bytes())),
            401,
            "signature_from_future",
        ),
        (
            EVENT,
            Some(sign_header(&["whsec_wrong"], NOW, EVENT.as_bytes())),
            401,
            "signature_mismatch",
        ),
        (not_json, Some(signed(not_json)), 400, "json_malformed"),
        (no_id, Some(signed(no_id)), 400, "envelope_invalid"),
    ];
    for (body, signature, status, code) in cases {
        let response = post(&h, body, signature.as_deref()).await;
        assert_eq!(
            (response.status, response.body["error"]["code"].as_str()),
            (status, Some(code))
        );
        assert!(
            !response.body.to_string().contains(SECRET),
            "a response leaked the secret"
        );
        assert_eq!(
            h.metrics.count(
                METRIC_WEBHOOK_REQUESTS,
                &[("Source", "stripe"), ("Outcome", code)]
            ),
            1
        );
    }
    assert!(h.queue.messages().is_empty());
}

#[tokio::test]
async fn refuses_methods_other_than_post() {
    let h = harness(1 << 20);
    let response = h
        .handler
        .handle(IngressRequest {
            method: "GET",
            signature: Some(&signed(EVENT)),
            body: EVENT.as_bytes(),
        })
        .await;
    assert_eq!(response.status, 405);
    assert!(h.queue.messages().is_empty());
}

#[tokio::test]
async fn refuses_an_event_whose_envelope_exceeds_the_queue_limit() {
    // The body fits, its envelope (with the dead-letter reserve) does not.
    let h = harness(crate::queue::DEAD_LETTER_ATTRIBUTE_RESERVE + EVENT.len() + 50);
    let response = post(&h, EVENT, Some(&signed(EVENT))).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.body["error"]["code"], "payload_too_large");
    assert!(h.queue.messages().is_empty());
}

#[tokio::test]
async fn answers_503_when_the_queue_fails_so_the_sender_retries() {
    let h = harness(1 << 20);
    h.queue.set_failing(true);
    let response = post(&h, EVENT, Some(&signed(EVENT))).await;
    assert_eq!(response.status, 503);
    assert_eq!(response.body["error"]["code"], "queue_unavailable");
}

#[tokio::test]
async fn acknowledges_and_ignores_a_verified_event_of_the_other_stripe_mode() {
    let live = r#"{"id":"evt_live","type":"payment_intent.succeeded","created":1700000000,"livemode":true}"#;
    let test = r#"{"id":"evt_test","type":"payment_intent.succeeded","created":1700000000,"livemode":false}"#;
    let mut h = harness(1 << 20);
    h.handler = h.handler.with_stripe_mode(Some(StripeMode::Test));

    let response = post(&h, live, Some(&signed(live))).await;
    assert_eq!(
        response.status, 200,
        "acknowledged: Stripe must stop retrying it"
    );
    assert_eq!(response.body["status"], "ignored");
    assert_eq!(response.body["reason"], OUTCOME_OTHER_MODE);
    assert_eq!(
        response.body["message"],
        "a live-mode event; this deployment is test mode"
    );
    assert!(h.queue.messages().is_empty(), "not enqueued");
    assert_eq!(
        h.metrics.count(
            METRIC_WEBHOOK_REQUESTS,
            &[("Source", "stripe"), ("Outcome", OUTCOME_OTHER_MODE)]
        ),
        1
    );

    // Its own mode, and an event without livemode (the worker decides), go through.
    assert_eq!(post(&h, test, Some(&signed(test))).await.status, 202);
    assert_eq!(post(&h, EVENT, Some(&signed(EVENT))).await.status, 202);
    // The signature is checked first: a forged event of the other mode is refused, not ignored.
    let forged = post(
        &h,
        live,
        Some(&sign_header(&["whsec_x"], NOW, live.as_bytes())),
    )
    .await;
    assert_eq!(forged.status, 401);
    assert_eq!(h.queue.messages().len(), 2);
}

#[tokio::test]
async fn without_a_pinned_mode_every_verified_event_is_enqueued() {
    let live = r#"{"id":"evt_live","type":"payment_intent.succeeded","created":1700000000,"livemode":true}"#;
    let h = harness(1 << 20);
    assert_eq!(post(&h, live, Some(&signed(live))).await.status, 202);
}

#[tokio::test]
async fn an_event_is_accepted_only_if_its_dead_letter_copy_would_fit_the_queue_too() {
    use crate::queue::DEAD_LETTER_ATTRIBUTE_RESERVE;
    // Accepted as it stands at this limit…
    let roomy = harness(1 << 20);
    assert_eq!(post(&roomy, EVENT, Some(&signed(EVENT))).await.status, 202);
    let size = roomy.queue.messages()[0].body.len();
    // …but with the queue's limit just above the message, its dead-letter copy would not fit.
    let tight = harness(size + 500);
    let response = post(&tight, EVENT, Some(&signed(EVENT))).await;
    assert_eq!(response.status, 413);
    let message = response.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("less what a dead-letter copy adds"),
        "{message}"
    );
    // With the reserve on top, it is accepted.
    let enough = harness(size + 500 + DEAD_LETTER_ATTRIBUTE_RESERVE);
    assert_eq!(post(&enough, EVENT, Some(&signed(EVENT))).await.status, 202);
}

/// A signature header sent twice reaches the verifier as API Gateway passes it to the Lambda:
/// its values joined by a comma. Two timestamps are malformed; a header sent once is read as is.
#[tokio::test]
async fn a_signature_header_sent_twice_is_read_joined_and_refused_as_malformed() {
    use lambda_http::http::{HeaderMap, HeaderValue};
    let h = harness(1 << 20);
    let good = signed(EVENT);
    let mut twice = HeaderMap::new();
    twice.append("stripe-signature", HeaderValue::from_str(&good).unwrap());
    twice.append("stripe-signature", HeaderValue::from_str(&good).unwrap());
    let mut once = HeaderMap::new();
    once.append("stripe-signature", HeaderValue::from_str(&good).unwrap());

    let refused = h
        .handler
        .handle_http("POST", &twice, EVENT.as_bytes())
        .await;
    let accepted = h.handler.handle_http("POST", &once, EVENT.as_bytes()).await;

    assert_eq!(
        (refused.status, refused.outcome),
        (400, "signature_malformed")
    );
    assert_eq!(accepted.status, 202);
    assert_eq!(h.queue.messages().len(), 1);
}

/// A body with a key twice is refused before it is queued: the last value would win here, the
/// first in another reader.
#[tokio::test]
async fn a_signed_body_with_a_duplicate_key_is_refused_and_not_queued() {
    let h = harness(1 << 20);
    let body = r#"{"id":"evt_1","type":"payment_intent.succeeded","created":1700000000,"data":{"object":{"amount":100,"amount":100000}}}"#;
    let response = post(&h, body, Some(&signed(body))).await;
    assert_eq!((response.status, response.outcome), (400, "json_malformed"));
    assert!(h.queue.messages().is_empty());
}
