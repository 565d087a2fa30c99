//! Signed webhooks through the Lambda handler onto a real (moto) SQS queue; refusals enqueue nothing.

use integration_tests::{apigw, now_unix};
use paybridge::ingress::lambda::handle;
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;
use serde_json::Value;

use crate::support::{KENTICO_SECRET, STRIPE_SECRET, live_ingress};

const STRIPE_BODY: &str = "{\n  \"id\": \"evt_1Integration\",\n  \"object\": \"event\",\n  \"type\": \"payment_intent.succeeded\",\n  \"created\": 1764417612,\n  \"data\": {\"object\": {\"id\": \"pi_1\", \"amount\": 1099, \"description\": \"Kaffee für Zoë ☕\"}}\n}";

/// (name, body, signature header, expected status, expected reason code)
type Case = (&'static str, Vec<u8>, Option<String>, u16, &'static str);

fn stripe_request(body: &[u8], signature: Option<&str>) -> lambda_http::Request {
    let mut headers = vec![("content-type", "application/json; charset=utf-8")];
    if let Some(signature) = signature {
        headers.push(("stripe-signature", signature));
    }
    apigw::request(&apigw::event(
        "POST",
        "/webhooks/stripe",
        &headers,
        body,
        false,
    ))
}

#[tokio::test]
async fn a_signed_stripe_event_lands_on_the_queue_byte_for_byte() {
    // The second secret of a rotation signs: both are configured.
    let ingress = live_ingress(
        Source::Stripe,
        &[(
            "STRIPE_WEBHOOK_SECRETS",
            "whsec_old_secret,whsec_paybridge_local_dev_only",
        )],
    )
    .await;
    let signature = sign_header(&[STRIPE_SECRET], now_unix(), STRIPE_BODY.as_bytes());

    let (status, body) = apigw::parts(
        handle(
            &ingress.handler,
            stripe_request(STRIPE_BODY.as_bytes(), Some(&signature)),
        )
        .await,
    );

    assert_eq!(status, 202, "{body}");
    assert_eq!(body["event_id"], "evt_1Integration");
    let queued = ingress.queued().await;
    assert_eq!(queued.len(), 1);
    let received_at = serde_json::from_str::<Value>(&queued[0].body).unwrap()["received_at"]
        .as_str()
        .unwrap()
        .to_string();
    let expected = format!(
        r#"{{"source":"stripe","event_id":"evt_1Integration","event_type":"payment_intent.succeeded","received_at":"{received_at}","payload":{STRIPE_BODY}}}"#
    );
    assert_eq!(queued[0].body, expected);
    assert_eq!(
        queued[0].attributes,
        [
            ("event_id".to_string(), "evt_1Integration".to_string()),
            (
                "event_type".to_string(),
                "payment_intent.succeeded".to_string()
            ),
            ("source".to_string(), "stripe".to_string()),
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(ingress.count("accepted"), 1);
}

#[tokio::test]
async fn a_base64_encoded_kentico_event_is_decoded_verified_and_enqueued() {
    let ingress = live_ingress(Source::Kentico, &[]).await;
    let body = br#"{"id":"2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29","type":"ecommerce.order.created","created":1764417600,"site":"DancingGoat","data":{"object":{"OrderID":1042}}}"#;
    let signature = sign_header(&[KENTICO_SECRET], now_unix(), body);
    let event = apigw::event(
        "POST",
        "/webhooks/kentico",
        &[("x-kentico-signature", &signature)],
        body,
        true,
    );

    let (status, response) = apigw::parts(handle(&ingress.handler, apigw::request(&event)).await);

    assert_eq!(status, 202, "{response}");
    let queued = ingress.queued().await;
    assert_eq!(queued.len(), 1);
    let envelope: Value = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!(envelope["source"], "kentico");
    assert_eq!(envelope["event_type"], "ecommerce.order.created");
    assert!(queued[0].body.ends_with(&format!(
        r#""payload":{}}}"#,
        std::str::from_utf8(body).unwrap()
    )));
    assert_eq!(queued[0].attributes["source"], "kentico");
}

#[tokio::test]
async fn every_refused_request_gets_its_status_and_reason_and_enqueues_nothing() {
    let ingress = live_ingress(Source::Stripe, &[]).await;
    let now = now_unix();
    let body = STRIPE_BODY.as_bytes();
    let mut tampered = body.to_vec();
    tampered[20] ^= 0x02;
    let not_json = b"{\"id\": \"evt_1\", ";
    let no_type = br#"{"id":"evt_1","created":1764417612}"#;
    let oversized = vec![b' '; 1_048_577];
    let cases: Vec<Case> = vec![
        (
            "no signature",
            body.to_vec(),
            None,
            401,
            "signature_missing",
        ),
        (
            "garbage signature",
            body.to_vec(),
            Some("sha256=abc".into()),
            400,
            "signature_malformed",
        ),
        (
            "stale",
            body.to_vec(),
            Some(sign_header(&[STRIPE_SECRET], now - 301, body)),
            401,
            "signature_stale",
        ),
        (
            "future",
            body.to_vec(),
            Some(sign_header(&[STRIPE_SECRET], now + 600, body)),
            401,
            "signature_from_future",
        ),
        (
            "wrong secret",
            body.to_vec(),
            Some(sign_header(&["whsec_attacker"], now, body)),
            401,
            "signature_mismatch",
        ),
        (
            "tampered",
            tampered,
            Some(sign_header(&[STRIPE_SECRET], now, body)),
            401,
            "signature_mismatch",
        ),
        (
            "malformed JSON",
            not_json.to_vec(),
            Some(sign_header(&[STRIPE_SECRET], now, not_json)),
            400,
            "json_malformed",
        ),
        (
            "missing type",
            no_type.to_vec(),
            Some(sign_header(&[STRIPE_SECRET], now, no_type)),
            400,
            "envelope_invalid",
        ),
        (
            "over 1 MiB",
            oversized.clone(),
            Some(sign_header(&[STRIPE_SECRET], now, &oversized)),
            413,
            "payload_too_large",
        ),
    ];
    for (case, body, signature, status, code) in &cases {
        let (got_status, response) = apigw::parts(
            handle(&ingress.handler, stripe_request(body, signature.as_deref())).await,
        );
        assert_eq!(
            (got_status, response["error"]["code"].as_str()),
            (*status, Some(*code)),
            "{case}"
        );
        assert!(
            response["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{case}"
        );
        assert!(
            !response.to_string().contains(STRIPE_SECRET),
            "{case} leaked the secret"
        );
    }
    let get = apigw::event("GET", "/webhooks/stripe", &[], b"", false);
    let response = handle(&ingress.handler, apigw::request(&get)).await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    assert!(
        ingress.queued().await.is_empty(),
        "a refused request was enqueued"
    );
    assert_eq!(ingress.count("signature_mismatch"), 2);
    assert_eq!(ingress.count("method_not_allowed"), 1);
    assert_eq!(ingress.count("accepted"), 0);
}

#[tokio::test]
async fn an_event_that_fits_only_without_its_envelope_is_refused_with_413() {
    let ingress = live_ingress(Source::Stripe, &[]).await;
    let now = now_unix();
    let event_with_padding = |size: usize| {
        let head = r#"{"id":"evt_big","type":"invoice.updated","created":1764417612,"pad":""#;
        let mut body = head.to_string();
        body.push_str(&"x".repeat(size - head.len() - 2));
        body.push_str("\"}");
        body
    };
    // Within the accepted size (the queue's limit less the dead-letter reserve) as a body, over
    // it once wrapped.
    let near_limit =
        event_with_padding(1_048_576 - paybridge::queue::DEAD_LETTER_ATTRIBUTE_RESERVE - 50);
    let fits = event_with_padding(1_000_000);

    let refused = handle(
        &ingress.handler,
        stripe_request(
            near_limit.as_bytes(),
            Some(&sign_header(&[STRIPE_SECRET], now, near_limit.as_bytes())),
        ),
    )
    .await;
    let accepted = handle(
        &ingress.handler,
        stripe_request(
            fits.as_bytes(),
            Some(&sign_header(&[STRIPE_SECRET], now, fits.as_bytes())),
        ),
    )
    .await;

    assert_eq!(
        apigw::parts(refused).1["error"]["code"],
        "payload_too_large"
    );
    assert_eq!(accepted.status(), 202);
    let queued = ingress.queued().await;
    assert_eq!(queued.len(), 1);
    assert!(queued[0].body.contains("evt_big") && queued[0].body.len() > 1_000_000);
}

#[tokio::test]
async fn answers_503_when_the_queue_does_not_take_the_event() {
    let ingress = live_ingress(
        Source::Stripe,
        &[(
            "STRIPE_EVENTS_QUEUE_URL",
            &format!(
                "{}/123456789012/no-such-queue",
                integration_tests::moto::endpoint()
            ),
        )],
    )
    .await;
    let signature = sign_header(&[STRIPE_SECRET], now_unix(), STRIPE_BODY.as_bytes());

    let (status, body) = apigw::parts(
        handle(
            &ingress.handler,
            stripe_request(STRIPE_BODY.as_bytes(), Some(&signature)),
        )
        .await,
    );

    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("queue_unavailable"))
    );
    assert!(
        !body.to_string().contains("no-such-queue"),
        "internal detail leaked: {body}"
    );
    assert_eq!(ingress.count("queue_unavailable"), 1);
}
