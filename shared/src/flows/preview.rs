//! What a mapping version would send for an order event, without sending it: the exact form
//! body of the Stripe request the order worker makes for a new order (built by the same code,
//! [`super::order_requests`]), the aliases it applied, and what Stripe's limits changed. A
//! publish replays the document on sample events with it (`paybridge mapping publish`), and an
//! operator reads it before publishing (`paybridge mapping preview`).

use serde::Serialize;
use serde_json::Value;

use super::PaymentMode;
use super::order_events::{read_order, sent_by};
use super::order_requests::{self, OrderInput};
use crate::connectors::stripe::encode_form;
use crate::mapping::{MappingError, to_minor_units};
use crate::mapping_doc::{AppliedMapping, Flow};

/// The request an order event makes under a mapping version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The mapping version it was made under (0: the environment's).
    pub version: u32,
    /// `POST /v1/payment_intents` or `POST /v1/checkout/sessions`.
    pub request: String,
    /// The form body, exactly as sent (a customer's Stripe Customer, looked up when the order
    /// is worked off, is not in it).
    pub body: String,
    /// The body's fields, decoded, in order: what an operator reads.
    pub fields: Vec<(String, String)>,
    /// `(field, spelling, code)` for each alias applied to the order.
    pub aliases: Vec<(String, String, String)>,
    /// What Stripe's limits made paybridge change (a metadata value cut to 500 characters).
    pub notes: Vec<String>,
}

impl Preview {
    /// The preview with each field's value replaced by `mask(name, value)` (what an operator's
    /// screen shows of personal data): the body stays byte for byte as sent except where a
    /// value changed, and a changed value is encoded as the body encodes every value.
    pub fn masked(mut self, mask: impl Fn(&str, &str) -> String) -> Preview {
        let pairs: Vec<&str> = self.body.split('&').filter(|p| !p.is_empty()).collect();
        let mut body = Vec::with_capacity(pairs.len());
        for (index, pair) in pairs.iter().enumerate() {
            let Some((name, value)) = self.fields.get_mut(index) else {
                body.push((*pair).to_string());
                continue;
            };
            let hidden = mask(name, value);
            if hidden == *value {
                body.push((*pair).to_string());
                continue;
            }
            let raw_key = pair.split_once('=').map_or(*pair, |(key, _)| key);
            body.push(format!("{raw_key}={}", encode_value(&hidden)));
            *value = hidden;
        }
        self.body = body.join("&");
        self
    }
}

/// One value encoded as a Stripe form body encodes it.
fn encode_value(value: &str) -> String {
    let one = std::collections::BTreeMap::from([("v", value)]);
    match encode_form(&one) {
        Ok(pair) => pair.strip_prefix("v=").unwrap_or(&pair).to_string(),
        Err(_) => String::new(),
    }
}

/// Why an event has no preview.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum PreviewError {
    /// Not a Kentico order event.
    #[error("not a Kentico order event: {0}")]
    NotAnOrder(String),
    /// The flow is switched off in this version: the event would be ignored.
    #[error("{0}")]
    SwitchedOff(String),
    /// The order does not map: the event would be dead-lettered with this reason.
    #[error("mapping_mismatch: {0}")]
    Mismatch(String),
}

impl From<MappingError> for PreviewError {
    fn from(error: MappingError) -> Self {
        PreviewError::Mismatch(error.to_string())
    }
}

/// The request `event` (a whole Kentico order event: `type`, `data.object`, …) makes under
/// `mapping`.
pub fn preview_order(mapping: &AppliedMapping, event: &Value) -> Result<Preview, PreviewError> {
    let event_type = event["type"].as_str().unwrap_or_default();
    if !super::order_events::EVENT_TYPES.contains(&event_type) {
        return Err(PreviewError::NotAnOrder(format!(
            "its type is '{event_type}', not one of {}",
            super::order_events::EVENT_TYPES.join(", ")
        )));
    }
    if let Some(off) = mapping.switched_off(Flow::OrderToCash) {
        return Err(PreviewError::SwitchedOff(off));
    }
    let mut object = (event.pointer("/data/object").cloned())
        .ok_or_else(|| MappingError::new("data.object", "the event carries no order object"))?;
    let aliases = mapping.aliases.apply_to_order(&mut object);
    let platform = sent_by(event, mapping.kentico_platform)
        .map_err(|e| PreviewError::Mismatch(failures_reason(e)))?;
    let order = read_order(&object, platform, mapping)?;
    let amount = to_minor_units("OrderGrandTotal", order.grand_total, &order.currency)?;
    let currency = order.currency.stripe_code();
    let input = OrderInput {
        order: &order,
        object: &object,
        site: event["site"].as_str(),
        stripe_customer: None,
    };
    let (request, body, metadata) = match mapping.payment_mode {
        PaymentMode::PaymentElement => {
            let params = order_requests::intent_params(mapping, &input, amount, &currency)?;
            let body = encode_form(&params).map_err(|e| PreviewError::Mismatch(e.to_string()))?;
            ("POST /v1/payment_intents", body, params.metadata)
        }
        PaymentMode::Checkout => {
            let params = order_requests::session_params(mapping, &input, amount, &currency)?;
            let body = encode_form(&params).map_err(|e| PreviewError::Mismatch(e.to_string()))?;
            ("POST /v1/checkout/sessions", body, params.metadata)
        }
    };
    let notes = (metadata.iter())
        .filter(|(key, value)| {
            key.as_str() == "paybridge_truncated" || value.ends_with("…[truncated]")
        })
        .map(|(key, value)| match key.as_str() {
            "paybridge_truncated" => format!("metadata: over Stripe's 50 keys, {value}"),
            _ => format!("metadata[{key}]: cut to Stripe's 500 characters"),
        })
        .collect();
    Ok(Preview {
        version: mapping.version,
        request: request.to_string(),
        fields: decode(&body),
        body,
        aliases,
        notes,
    })
}

/// The request `event` makes under `mapping` as if its payment mode were `mode`: the mapping
/// designer shows a PaymentIntent's and a Checkout Session's request whichever mode the
/// deployment runs.
pub fn preview_order_as(
    mapping: &AppliedMapping,
    event: &Value,
    mode: PaymentMode,
) -> Result<Preview, PreviewError> {
    if mapping.payment_mode == mode {
        return preview_order(mapping, event);
    }
    let mut forced = mapping.clone();
    forced.settings.payment_mode = mode;
    preview_order(&forced, event)
}

/// The reason a handler error gives (for a platform mismatch).
fn failures_reason(error: crate::worker::HandlerError) -> String {
    match error {
        crate::worker::HandlerError::Permanent { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// The form body's fields, percent-decoded.
fn decode(body: &str) -> Vec<(String, String)> {
    (body.split('&'))
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = text.get(index + 1..index + 3).unwrap_or_default();
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a sample event does under a mapping version: its preview, or why it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleOutcome {
    /// The sample's name (its file).
    pub name: String,
    /// Its preview under the new version.
    pub outcome: Result<Preview, PreviewError>,
    /// Whether it mapped under the active version and does not under the new one: a publish
    /// refuses a version that breaks an order the active one takes.
    pub regression: bool,
}

/// Replays `samples` (name, event) under `active` and `candidate`; every Kentico order event
/// among them is previewed under the candidate, and marked a regression when it mapped under
/// the active version but not under the candidate. Other events are left out.
pub fn replay_samples(
    active: &AppliedMapping,
    candidate: &AppliedMapping,
    samples: &[(String, Value)],
) -> Vec<SampleOutcome> {
    (samples.iter())
        .filter_map(|(name, event)| {
            let outcome = preview_order(candidate, event);
            if matches!(outcome, Err(PreviewError::NotAnOrder(_))) {
                return None;
            }
            let regression = matches!(outcome, Err(PreviewError::Mismatch(_)))
                && preview_order(active, event).is_ok();
            Some(SampleOutcome {
                name: name.clone(),
                outcome,
                regression,
            })
        })
        .collect()
}

/// The Kentico and Stripe events a sample file holds, whatever wraps them: an API Gateway
/// request (`body`, base64 or not), an SQS batch (`Records[].body`, a queue envelope's
/// `payload`), a queue envelope, or a bare event (`type` and `data`). Anything else holds none.
pub fn events_in(file: &Value) -> Vec<Value> {
    if let Some(records) = file["Records"].as_array() {
        return (records.iter())
            .filter_map(|record| record["body"].as_str())
            .filter_map(|body| serde_json::from_str::<Value>(body).ok())
            .flat_map(|body| events_in(&body))
            .collect();
    }
    if let Some(body) = file["body"].as_str() {
        let text = match file["isBase64Encoded"].as_bool() {
            Some(true) => {
                use base64::Engine;
                let decoded = base64::engine::general_purpose::STANDARD.decode(body);
                decoded.ok().and_then(|bytes| String::from_utf8(bytes).ok())
            }
            _ => Some(body.to_string()),
        };
        return (text.and_then(|t| serde_json::from_str::<Value>(&t).ok()))
            .map(|event| events_in(&event))
            .unwrap_or_default();
    }
    if file["payload"].is_object() {
        return events_in(&file["payload"]);
    }
    if file["type"].is_string() && file["data"].is_object() {
        return vec![file.clone()];
    }
    Vec::new()
}

#[cfg(test)]
mod tests;
