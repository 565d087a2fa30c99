//! Cross-check with Stripe's official Node library: its test headers verify here, byte-identical.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use integration_tests::{apigw, now_unix, repo_root};
use paybridge::clock::SystemClock;
use paybridge::ingress::lambda::handle;
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;

use crate::support::{STRIPE_SECRET, ingress};

/// The header `stripe.webhooks.generateTestHeaderString` makes for `payload`.
fn stripe_node_header(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let dir = repo_root().join("tests/stripe-node");
    assert!(
        dir.join("node_modules/stripe").exists(),
        "Stripe's Node library is not installed: run `npm install --prefix tests/stripe-node --no-package-lock` (the README's test command does)"
    );
    let mut child = Command::new("node")
        .arg(dir.join("sign.mjs"))
        .arg(secret)
        .arg(timestamp.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node is installed");
    child.stdin.take().unwrap().write_all(payload).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "node sign.mjs failed");
    String::from_utf8(output.stdout).unwrap()
}

fn payloads() -> Vec<Vec<u8>> {
    let stripe_example_event = std::fs::read(repo_root().join("tests/fixtures/stripe/event.json"))
        .expect("Stripe's example event fixture");
    vec![
        stripe_example_event,
        "{\"id\":\"evt_ü\",\"type\":\"charge.succeeded\",\"created\":1764417612,\"note\":\"Zoë ☕ 🎉\"}"
            .as_bytes()
            .to_vec(),
        b"{\"id\": \"evt_ws\", \"type\": \"a.b\", \"created\": 1}\n".to_vec(),
    ]
}

#[tokio::test]
async fn headers_from_stripes_node_library_verify_and_tampering_is_refused() {
    let ingress = ingress(Source::Stripe, &[], Arc::new(SystemClock)).await;
    for payload in payloads() {
        let now = now_unix();
        let header = stripe_node_header(&payload, STRIPE_SECRET, now);
        assert_eq!(
            header,
            sign_header(&[STRIPE_SECRET], now, &payload),
            "our signer differs from Stripe's"
        );

        let genuine = apigw::event(
            "POST",
            "/webhooks/stripe",
            &[("stripe-signature", &header)],
            &payload,
            false,
        );
        let mut tampered_body = payload.clone();
        let last = tampered_body.len() - 2;
        tampered_body[last] ^= 0x01;
        let tampered = apigw::event(
            "POST",
            "/webhooks/stripe",
            &[("stripe-signature", &header)],
            &tampered_body,
            false,
        );

        assert_eq!(
            handle(&ingress.handler, apigw::request(&genuine))
                .await
                .status(),
            202
        );
        let (status, body) =
            apigw::parts(handle(&ingress.handler, apigw::request(&tampered)).await);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("signature_mismatch"))
        );
    }
    assert_eq!(ingress.queued().await.len(), payloads().len());
}
