//! What went wrong talking to Stripe, and whether trying again can help.

use serde::Deserialize;

/// A failed Stripe call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with a non-2xx status and (usually) its error object.
    #[error(
        "Stripe answered {status} {error_type}{}: {message}{}",
        detail(code.as_deref(), decline_code.as_deref(), param.as_deref()),
        request_id.as_deref().map(|id| format!(" (request {id})")).unwrap_or_default()
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// `error.type`: `card_error`, `invalid_request_error`, `idempotency_error`, `api_error`…
        error_type: String,
        /// `error.code`, e.g. `card_declined`, `resource_missing`.
        code: Option<String>,
        /// `error.decline_code`, the issuer's reason for a card decline.
        decline_code: Option<String>,
        /// `error.param`, the parameter at fault.
        param: Option<String>,
        /// `error.message`, human-readable.
        message: String,
        /// The `Request-Id` header, for Stripe's dashboard logs and support.
        request_id: Option<String>,
        /// The `Stripe-Should-Retry` header, when Stripe sent one.
        should_retry: Option<bool>,
    },
    /// Stripe could not be reached or the answer was cut off (connect error, timeout).
    #[error("Stripe could not be reached: {0}")]
    Transport(String),
    /// Stripe answered 2xx with a body that is not the expected object.
    #[error("Stripe's answer could not be read: {0}")]
    Decode(String),
    /// The connector is misconfigured or an argument (id, idempotency key) is invalid; nothing was sent.
    #[error("Stripe connector misconfigured: {0}")]
    Config(String),
}

impl StripeError {
    /// Whether the same call (with the same idempotency key) may succeed later.
    ///
    /// Stripe's `Stripe-Should-Retry` header wins when present; otherwise 409 (a concurrent
    /// request holds the idempotency key, which Stripe's own SDKs retry), 429 and 5xx are
    /// transient and every other status is the caller's problem.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api {
                status,
                should_retry,
                ..
            } => should_retry.unwrap_or(*status == 409 || *status == 429 || *status >= 500),
            Self::Transport(_) => true,
            Self::Decode(_) | Self::Config(_) => false,
        }
    }

    /// The HTTP status, for an [`StripeError::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Maps a non-2xx answer; a body that is not Stripe's error object (a proxy's HTML page)
    /// keeps its status, so a 502 from a load balancer stays transient.
    pub(crate) fn from_response(
        status: u16,
        request_id: Option<String>,
        should_retry: Option<bool>,
        body: &[u8],
    ) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: ErrorObject,
        }
        #[derive(Deserialize)]
        struct ErrorObject {
            #[serde(rename = "type")]
            error_type: Option<String>,
            code: Option<String>,
            decline_code: Option<String>,
            param: Option<String>,
            message: Option<String>,
        }
        let (error_type, code, decline_code, param, message) =
            match serde_json::from_slice::<Envelope>(body) {
                Ok(Envelope { error: e }) => (
                    e.error_type.unwrap_or_else(|| "unknown_error".to_owned()),
                    e.code,
                    e.decline_code,
                    e.param,
                    e.message.unwrap_or_default(),
                ),
                Err(_) => (
                    "unrecognized_response".to_owned(),
                    None,
                    None,
                    None,
                    snippet(body),
                ),
            };
        Self::Api {
            status,
            error_type,
            code,
            decline_code,
            param,
            message,
            request_id,
            should_retry,
        }
    }

    /// Replaces every occurrence of `secret` in the texts, so no log line can carry the key
    /// even if Stripe or a proxy echoes it back.
    pub(crate) fn redact(self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let scrub = |s: String| s.replace(secret, "[redacted]");
        match self {
            Self::Api {
                status,
                error_type,
                code,
                decline_code,
                param,
                message,
                request_id,
                should_retry,
            } => Self::Api {
                status,
                error_type: scrub(error_type),
                code: code.map(scrub),
                decline_code: decline_code.map(scrub),
                param: param.map(scrub),
                message: scrub(message),
                request_id,
                should_retry,
            },
            Self::Transport(s) => Self::Transport(scrub(s)),
            Self::Decode(s) => Self::Decode(scrub(s)),
            Self::Config(s) => Self::Config(scrub(s)),
        }
    }
}

/// ` (code, decline: …, param: …)` for the Display line, empty when Stripe gave none.
fn detail(code: Option<&str>, decline_code: Option<&str>, param: Option<&str>) -> String {
    let parts: Vec<String> = [
        code.map(str::to_owned),
        decline_code.map(|d| format!("decline: {d}")),
        param.map(|p| format!("param: {p}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The start of an unexpected body, enough to recognise it in a log line.
fn snippet(body: &[u8]) -> String {
    const MAX_CHARS: usize = 200;
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.trim().chars().take(MAX_CHARS).collect();
    if text.trim().chars().count() > MAX_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD_DECLINED: &str = r#"{"error": {"type": "card_error", "code": "card_declined",
        "decline_code": "insufficient_funds", "param": "payment_method",
        "message": "Your card has insufficient funds.", "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "charge": "ch_1"}}"#;

    #[test]
    fn maps_stripes_error_object_with_the_request_id() {
        let error =
            StripeError::from_response(402, Some("req_123".into()), None, CARD_DECLINED.as_bytes());

        assert_eq!(
            error,
            StripeError::Api {
                status: 402,
                error_type: "card_error".into(),
                code: Some("card_declined".into()),
                decline_code: Some("insufficient_funds".into()),
                param: Some("payment_method".into()),
                message: "Your card has insufficient funds.".into(),
                request_id: Some("req_123".into()),
                should_retry: None,
            }
        );
        assert_eq!(
            error.to_string(),
            "Stripe answered 402 card_error (card_declined, decline: insufficient_funds, \
             param: payment_method): Your card has insufficient funds. (request req_123)"
        );
    }

    #[test]
    fn a_card_decline_and_a_missing_resource_are_permanent() {
        let declined = StripeError::from_response(402, None, None, CARD_DECLINED.as_bytes());
        let missing = StripeError::from_response(
            404,
            None,
            None,
            br#"{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'","param":"intent"}}"#,
        );

        assert!(!declined.is_transient());
        assert!(!missing.is_transient());
        assert_eq!(missing.status(), Some(404));
    }

    #[test]
    fn rate_limits_conflicts_and_server_errors_are_transient_unless_stripe_says_otherwise() {
        let body = br#"{"error":{"type":"api_error","message":"boom"}}"#;
        for status in [409, 429, 500, 502, 503] {
            assert!(StripeError::from_response(status, None, None, body).is_transient());
            assert!(!StripeError::from_response(status, None, Some(false), body).is_transient());
        }
        assert!(StripeError::from_response(400, None, Some(true), body).is_transient());
        assert!(!StripeError::from_response(400, None, None, body).is_transient());
    }

    #[test]
    fn a_body_that_is_not_stripes_error_object_keeps_its_status_and_a_snippet() {
        let html = format!("<html>{}</html>", "Bad Gateway ".repeat(40));

        let error = StripeError::from_response(502, None, None, html.as_bytes());

        match &error {
            StripeError::Api {
                error_type,
                message,
                ..
            } => {
                assert_eq!(error_type, "unrecognized_response");
                assert!(message.starts_with("<html>Bad Gateway"));
                assert!(message.chars().count() <= 201);
            }
            other => panic!("expected Api, got {other:?}"),
        }
        assert!(error.is_transient());
    }

    #[test]
    fn transport_is_transient_and_decode_or_config_are_not() {
        assert!(StripeError::Transport("connection refused".into()).is_transient());
        assert!(!StripeError::Decode("missing field `id`".into()).is_transient());
        assert!(!StripeError::Config("empty key".into()).is_transient());
    }

    #[test]
    fn redact_removes_the_secret_key_from_every_text() {
        let key = "sk_test_51SecretValue";
        let body = format!(
            r#"{{"error":{{"type":"invalid_request_error","message":"Invalid API Key provided: {key}"}}}}"#
        );

        let api = StripeError::from_response(401, None, None, body.as_bytes()).redact(key);
        let transport = StripeError::Transport(format!("proxy said {key}")).redact(key);

        for error in [api, transport] {
            assert!(!error.to_string().contains(key), "{error}");
            assert!(!format!("{error:?}").contains(key));
        }
    }
}
