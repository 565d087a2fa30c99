//! Re-signs sample API Gateway events with a fresh timestamp, so `events/` works on any day.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::Source;
use super::signature::sign_header;

/// Why a file is not a sample event this tool can sign.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The JSON is not an API Gateway v2 HTTP event with a body.
    #[error("not an API Gateway HTTP API (payload v2) event: {0}")]
    NotAnApiGatewayEvent(&'static str),
    /// A base64 body did not decode.
    #[error("the body is marked isBase64Encoded but is not base64: {0}")]
    BadBase64(String),
    /// The source could not be inferred from `rawPath`.
    #[error("cannot tell the source from rawPath '{0}'; pass --source stripe|kentico")]
    UnknownSource(String),
}

/// Infers the source from the event's `rawPath` (`/webhooks/stripe`, `/webhooks/kentico`).
pub fn source_of(event: &Value) -> Result<Source, SampleError> {
    let path = event["rawPath"].as_str().unwrap_or_default();
    if path.ends_with("/stripe") {
        Ok(Source::Stripe)
    } else if path.ends_with("/kentico") {
        Ok(Source::Kentico)
    } else {
        Err(SampleError::UnknownSource(path.to_string()))
    }
}

/// Signs the event's body at `timestamp` with `secret` and sets the source's signature header.
/// With `tamper`, one byte of the body is changed after signing: a fresh, forged sample.
pub fn sign_event(
    event: &mut Value,
    source: Source,
    secret: &str,
    timestamp: i64,
    tamper: bool,
) -> Result<(), SampleError> {
    let base64 = event["isBase64Encoded"].as_bool().unwrap_or(false);
    let raw = event["body"]
        .as_str()
        .ok_or(SampleError::NotAnApiGatewayEvent("no string body"))?;
    let mut body = if base64 {
        STANDARD
            .decode(raw)
            .map_err(|e| SampleError::BadBase64(e.to_string()))?
    } else {
        raw.as_bytes().to_vec()
    };
    let header = sign_header(&[secret], timestamp, &body);
    if tamper {
        tamper_one_byte(&mut body);
    }
    let headers = event
        .get_mut("headers")
        .and_then(Value::as_object_mut)
        .ok_or(SampleError::NotAnApiGatewayEvent("no headers object"))?;
    headers.insert(source.signature_header().to_string(), Value::String(header));
    event["body"] = Value::String(if base64 {
        STANDARD.encode(&body)
    } else {
        String::from_utf8_lossy(&body).into_owned()
    });
    if let Some(time_epoch) = event.pointer_mut("/requestContext/timeEpoch") {
        *time_epoch = Value::from(timestamp * 1000);
    }
    Ok(())
}

/// Changes the first digit of the body (or else its last byte), keeping it valid JSON where it was.
fn tamper_one_byte(body: &mut [u8]) {
    if let Some(digit) = body.iter_mut().find(|b| b.is_ascii_digit()) {
        *digit = if *digit == b'9' { b'1' } else { *digit + 1 };
    } else if let Some(last) = body.last_mut() {
        *last ^= 0x01;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretString;
    use crate::webhook::SignatureVerifier;

    fn event(body: &str, base64: bool) -> Value {
        serde_json::json!({
            "version": "2.0", "rawPath": "/webhooks/stripe", "headers": {},
            "requestContext": {"timeEpoch": 0},
            "isBase64Encoded": base64,
            "body": if base64 { STANDARD.encode(body) } else { body.to_string() },
        })
    }

    fn verifies(event: &Value, now: i64) -> bool {
        let body = if event["isBase64Encoded"].as_bool().unwrap() {
            STANDARD.decode(event["body"].as_str().unwrap()).unwrap()
        } else {
            event["body"].as_str().unwrap().as_bytes().to_vec()
        };
        SignatureVerifier::new(vec![SecretString::new("whsec_s")], 300)
            .verify(event["headers"]["stripe-signature"].as_str(), &body, now)
            .is_ok()
    }

    #[test]
    fn signs_plain_and_base64_bodies() {
        for base64 in [false, true] {
            let mut e = event(r#"{"id":"evt_1","amount":100}"#, base64);
            sign_event(&mut e, Source::Stripe, "whsec_s", 1_700_000_000, false).unwrap();
            assert!(verifies(&e, 1_700_000_000), "base64={base64}");
            assert_eq!(e["requestContext"]["timeEpoch"], 1_700_000_000_000i64);
        }
    }

    #[test]
    fn a_tampered_sample_no_longer_verifies_but_stays_json() {
        let mut e = event(r#"{"id":"evt_1","amount":100}"#, false);
        sign_event(&mut e, Source::Stripe, "whsec_s", 1_700_000_000, true).unwrap();
        assert!(!verifies(&e, 1_700_000_000));
        assert_eq!(e["body"], r#"{"id":"evt_2","amount":100}"#);
    }

    #[test]
    fn refuses_files_that_are_not_http_events() {
        let mut e = serde_json::json!({"Records": []});
        assert!(sign_event(&mut e, Source::Stripe, "whsec_s", 1, false).is_err());
        assert!(source_of(&e).is_err());
    }
}
