//! Every `events/` file fed to its function's handler: valid ones land, forged and stale ones don't.

use std::sync::Arc;

use base64::Engine;
use integration_tests::{apigw, now_unix, repo_root};
use paybridge::clock::{FixedClock, SystemClock};
use paybridge::ingress::lambda::handle;
use paybridge::webhook::Source;
use paybridge::webhook::sample::{sign_event, source_of};
use paybridge::webhook::signature::SignatureHeader;
use serde_json::Value;

use crate::support::{KENTICO_SECRET, STRIPE_SECRET, ingress};

fn load(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn signed_at(event: &Value, source: Source) -> i64 {
    SignatureHeader::parse(
        event["headers"][source.signature_header()]
            .as_str()
            .expect("a signature header"),
    )
    .expect("a parsable signature")
    .timestamp
}

fn raw_body(event: &Value) -> Vec<u8> {
    let body = event["body"].as_str().unwrap();
    if event["isBase64Encoded"].as_bool().unwrap_or(false) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    } else {
        body.as_bytes().to_vec()
    }
}

fn secret(source: Source) -> &'static str {
    match source {
        Source::Kentico => KENTICO_SECRET,
        _ => STRIPE_SECRET,
    }
}

/// Feeds `name` to its function at the moment it was signed, and returns status, reason and queue.
async fn feed_at_signing_time(name: &str) -> (u16, Option<String>, usize) {
    let event = load(name);
    let source = source_of(&event).unwrap();
    let clock = Arc::new(FixedClock::at_unix(signed_at(&event, source)));
    let ingress = ingress(source, &[], clock).await;
    let response = handle(&ingress.handler, apigw::request(&event)).await;
    let (status, body) = apigw::parts(response);
    let queued = ingress.queued().await;
    if status == 202 {
        let envelope: Value = serde_json::from_str(&queued[0].body).unwrap();
        assert_eq!(
            envelope["payload"].to_string(),
            serde_json::from_slice::<Value>(&raw_body(&event))
                .unwrap()
                .to_string()
        );
        assert!(
            queued[0]
                .body
                .contains(std::str::from_utf8(&raw_body(&event)).unwrap().trim()),
            "{name}: payload not verbatim"
        );
    }
    (
        status,
        body["error"]["code"].as_str().map(str::to_string),
        queued.len(),
    )
}

#[tokio::test]
async fn valid_sample_events_are_accepted_and_enqueued() {
    for name in [
        "stripe-webhook-valid.json",
        "kentico-webhook-valid.json",
        "kentico-webhook-valid-base64.json",
        "kentico-webhook-xbyk-valid.json",
    ] {
        assert_eq!(feed_at_signing_time(name).await, (202, None, 1), "{name}");
    }
}

#[tokio::test]
async fn tampered_sample_events_are_refused_even_when_fresh() {
    for name in [
        "stripe-webhook-tampered.json",
        "kentico-webhook-tampered.json",
    ] {
        assert_eq!(
            feed_at_signing_time(name).await,
            (401, Some("signature_mismatch".into()), 0),
            "{name}"
        );
    }
}

#[tokio::test]
async fn stale_sample_events_are_refused_as_stale_today() {
    for name in ["stripe-webhook-stale.json", "kentico-webhook-stale.json"] {
        let event = load(name);
        let source = source_of(&event).unwrap();
        let ingress = ingress(source, &[], Arc::new(SystemClock)).await;
        let (status, body) = apigw::parts(handle(&ingress.handler, apigw::request(&event)).await);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("signature_stale")),
            "{name}"
        );
        assert!(ingress.queued().await.is_empty());
    }
}

#[tokio::test]
async fn a_sample_re_signed_now_is_accepted_on_any_day() {
    for name in [
        "stripe-webhook-valid.json",
        "kentico-webhook-valid-base64.json",
        "stripe-webhook-stale.json",
    ] {
        let mut event = load(name);
        let source = source_of(&event).unwrap();
        sign_event(&mut event, source, secret(source), now_unix(), false).unwrap();
        let ingress = ingress(source, &[], Arc::new(SystemClock)).await;
        let response = handle(&ingress.handler, apigw::request(&event)).await;
        assert_eq!(response.status(), 202, "{name}");
        assert_eq!(ingress.queued().await.len(), 1, "{name}");
    }
}

#[test]
fn every_events_file_is_covered_by_a_test() {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "kentico-webhook-stale.json",
            "kentico-webhook-tampered.json",
            "kentico-webhook-valid-base64.json",
            "kentico-webhook-valid.json",
            "kentico-webhook-xbyk-valid.json",
            "order-worker-sqs-xbyk.json",
            "order-worker-sqs.json",
            "payment-worker-sqs.json",
            "reconciler-schedule.json",
            "stripe-webhook-stale.json",
            "stripe-webhook-tampered.json",
            "stripe-webhook-valid.json",
        ],
        "a new events/ file needs a test here (the SQS ones: order_to_cash::samples; the schedule: money::reconcile)"
    );
}
