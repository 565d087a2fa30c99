//! The few fields ingress reads from a verified event (`id`, `type`, `created`), and its source.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where an event came from. Serialized lower-case in the queue envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Stripe webhooks, signed with `Stripe-Signature`.
    Stripe,
    /// The Kentico module's events, signed with `X-Kentico-Signature`.
    Kentico,
    /// Events the reconciliation sweep makes up to heal what a missed Stripe webhook left
    /// undone: Stripe-shaped, on the Stripe queue, never received over HTTP.
    Reconciler,
}

impl Source {
    /// Every source with a webhook and a queue of its own, in the order operators see them.
    pub const ALL: [Source; 2] = [Self::Stripe, Self::Kentico];

    /// The source whose queue carries this source's events (the reconciler's go to Stripe's).
    pub fn queue(self) -> Source {
        match self {
            Self::Stripe | Self::Reconciler => Self::Stripe,
            Self::Kentico => Self::Kentico,
        }
    }

    /// The lower-case name used in envelopes, attributes, metrics and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stripe => "stripe",
            Self::Kentico => "kentico",
            Self::Reconciler => "reconciler",
        }
    }

    /// The HTTP header carrying the signature of this source's webhooks.
    pub fn signature_header(self) -> &'static str {
        match self {
            Self::Kentico => "x-kentico-signature",
            Self::Stripe | Self::Reconciler => "stripe-signature",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stripe" => Ok(Self::Stripe),
            "kentico" => Ok(Self::Kentico),
            "reconciler" => Ok(Self::Reconciler),
            other => Err(format!(
                "unknown source '{other}' (expected stripe, kentico or reconciler)"
            )),
        }
    }
}

/// The identifying fields of an event, common to Stripe's and Kentico's formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    /// `evt_…` for Stripe, a GUID for Kentico.
    pub id: String,
    /// e.g. `payment_intent.succeeded`, `ecommerce.order.created`.
    pub event_type: String,
    /// Unix seconds the sender created the event.
    pub created: i64,
    /// Stripe's `livemode`, when the event carries one (Kentico's events do not).
    pub livemode: Option<bool>,
}

/// Why a body is not an acceptable event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventEnvelopeError {
    /// Not UTF-8 or not JSON at all.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// JSON, but not an object with the required fields.
    #[error("the event is missing or has invalid fields: {}", .0.join("; "))]
    InvalidFields(Vec<String>),
}

impl EventEnvelopeError {
    /// The stable reason code used in responses, logs and metrics.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "json_malformed",
            Self::InvalidFields(_) => "envelope_invalid",
        }
    }
}

/// Longest event id or type accepted: far above Stripe's and Kentico's, far below SQS's limits.
const MAX_FIELD_CHARS: usize = 255;

#[derive(Deserialize)]
struct Fields {
    id: Option<Value>,
    #[serde(rename = "type")]
    event_type: Option<Value>,
    created: Option<Value>,
    livemode: Option<Value>,
}

impl EventEnvelope {
    /// Reads `id`, `type` and `created` from a JSON event body, listing every problem at once.
    /// The body must be strict JSON ([`super::strict_json`]): no key twice in an object, no
    /// nesting deeper than [`super::strict_json::MAX_DEPTH`].
    pub fn parse(body: &str) -> Result<Self, EventEnvelopeError> {
        super::strict_json::check(body)
            .map_err(|e| EventEnvelopeError::MalformedJson(e.to_string()))?;
        let value: Value = serde_json::from_str(body)
            .map_err(|e| EventEnvelopeError::MalformedJson(e.to_string()))?;
        if !value.is_object() {
            return Err(EventEnvelopeError::InvalidFields(vec![
                "the event must be a JSON object".to_string(),
            ]));
        }
        let fields: Fields = serde_json::from_value(value)
            .map_err(|e| EventEnvelopeError::MalformedJson(e.to_string()))?;
        let mut problems = Vec::new();
        let id = text_field("id", fields.id, &mut problems);
        let event_type = text_field("type", fields.event_type, &mut problems);
        let created = match fields.created {
            None | Some(Value::Null) => {
                problems.push("created is missing".to_string());
                None
            }
            Some(Value::Number(n)) if n.as_i64().is_some_and(|c| c > 0) => n.as_i64(),
            Some(_) => {
                problems.push("created must be a positive integer (unix seconds)".to_string());
                None
            }
        };
        // A `livemode` that is not a boolean would slip past the mode check: refused.
        let livemode = match fields.livemode {
            None | Some(Value::Null) => None,
            Some(Value::Bool(livemode)) => Some(livemode),
            Some(_) => {
                problems.push("livemode must be true or false".to_string());
                None
            }
        };
        match (id, event_type, created) {
            (Some(id), Some(event_type), Some(created)) if problems.is_empty() => Ok(Self {
                id,
                event_type,
                created,
                livemode,
            }),
            _ => Err(EventEnvelopeError::InvalidFields(problems)),
        }
    }
}

fn text_field(name: &str, value: Option<Value>, problems: &mut Vec<String>) -> Option<String> {
    match value {
        None | Some(Value::Null) => problems.push(format!("{name} is missing")),
        Some(Value::String(s)) if s.trim().is_empty() => problems.push(format!("{name} is empty")),
        Some(Value::String(s)) if s.chars().count() > MAX_FIELD_CHARS => problems.push(format!(
            "{name} is longer than {MAX_FIELD_CHARS} characters"
        )),
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            problems.push(format!("{name} contains control characters"))
        }
        Some(Value::String(s)) => return Some(s),
        Some(_) => problems.push(format!("{name} must be a string")),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_stripe_event() {
        let body = r#"{"id":"evt_1","object":"event","type":"charge.succeeded","created":1700000000,"data":{"object":{}}}"#;
        assert_eq!(
            EventEnvelope::parse(body),
            Ok(EventEnvelope {
                id: "evt_1".into(),
                event_type: "charge.succeeded".into(),
                created: 1_700_000_000,
                livemode: None,
            })
        );
    }

    #[test]
    fn lists_every_missing_field_at_once() {
        let err = EventEnvelope::parse(r#"{"data":{}}"#).unwrap_err();
        assert_eq!(
            err,
            EventEnvelopeError::InvalidFields(vec![
                "id is missing".into(),
                "type is missing".into(),
                "created is missing".into()
            ])
        );
        assert_eq!(err.reason_code(), "envelope_invalid");
    }

    #[test]
    fn refuses_wrongly_typed_fields() {
        let err = EventEnvelope::parse(r#"{"id":7,"type":"","created":"yesterday"}"#).unwrap_err();
        assert_eq!(
            err,
            EventEnvelopeError::InvalidFields(vec![
                "id must be a string".into(),
                "type is empty".into(),
                "created must be a positive integer (unix seconds)".into()
            ])
        );
    }

    #[test]
    fn refuses_json_that_is_not_an_object() {
        assert_eq!(
            EventEnvelope::parse("[1,2]").unwrap_err().reason_code(),
            "envelope_invalid"
        );
    }

    #[test]
    fn refuses_malformed_json() {
        for body in ["", "{", "{\"id\":}", "not json"] {
            assert_eq!(
                EventEnvelope::parse(body).unwrap_err().reason_code(),
                "json_malformed",
                "{body:?}"
            );
        }
    }

    #[test]
    fn refuses_a_livemode_that_is_not_a_boolean() {
        let body = r#"{"id":"evt_1","type":"charge.succeeded","created":1,"livemode":"true"}"#;
        assert_eq!(
            EventEnvelope::parse(body).unwrap_err(),
            EventEnvelopeError::InvalidFields(vec!["livemode must be true or false".into()])
        );
        let body = r#"{"id":"evt_1","type":"charge.succeeded","created":1,"livemode":true}"#;
        assert_eq!(EventEnvelope::parse(body).unwrap().livemode, Some(true));
    }

    #[test]
    fn refuses_duplicate_keys_and_deep_nesting_as_malformed() {
        let duplicate = r#"{"id":"evt_1","type":"charge.succeeded","created":1,"created":2}"#;
        let nested = format!(
            r#"{{"id":"evt_1","type":"t","created":1,"data":{}1{}}}"#,
            "[".repeat(70),
            "]".repeat(70)
        );
        for body in [duplicate, nested.as_str()] {
            assert_eq!(
                EventEnvelope::parse(body).unwrap_err().reason_code(),
                "json_malformed",
                "{body}"
            );
        }
    }

    #[test]
    fn source_round_trips_through_its_name() {
        for source in Source::ALL {
            assert_eq!(source.as_str().parse::<Source>(), Ok(source));
        }
        assert!("paypal".parse::<Source>().is_err());
    }
}
