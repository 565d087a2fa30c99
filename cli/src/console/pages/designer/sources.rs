//! The designer's sample events and their source fields: the built-in sample (the order of
//! `events/kentico-webhook-valid.json`), the recent Kentico order events of the journal, or a
//! pasted event; and every leaf of its `data.object` in the rules' path syntax, masked.

use paybridge::app::Backend;
use paybridge::flows::order_events::EVENT_TYPES;
use paybridge::flows::preview::events_in;
use serde_json::Value;

use super::super::super::mask::mask_json;

/// The API Gateway request the built-in sample is the body of.
const BUILT_IN_FILE: &str = include_str!("../../../../../events/kentico-webhook-valid.json");

/// How far back the journal's samples go (a week, in ms) and how many are listed.
const JOURNAL_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
const JOURNAL_SAMPLES: usize = 20;

/// The picker's value of the built-in sample.
pub const BUILT_IN: &str = "builtin";
/// The picker's value of a pasted event.
pub const PASTED: &str = "pasted";
/// The prefix of a journal sample's picker value (`journal:{event_id}`).
const JOURNAL: &str = "journal:";

/// The built-in sample event.
pub fn built_in() -> Result<Value, String> {
    let file: Value = serde_json::from_str(BUILT_IN_FILE).map_err(|e| e.to_string())?;
    events_in(&file)
        .into_iter()
        .next()
        .ok_or_else(|| "the built-in sample holds no event".to_string())
}

/// A recent Kentico order event of the journal, for the picker.
pub struct JournalSample {
    /// The picker's value.
    pub value: String,
    /// What the picker shows: type, event id, business key, when.
    pub label: String,
}

/// The recent Kentico order events of the journal (newest first, one per event id).
pub async fn journal_samples(backend: &Backend) -> Result<Vec<JournalSample>, String> {
    let since = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 - JOURNAL_WINDOW_MS;
    let recent = (backend.journal().recent(since, 500).await).map_err(|e| e.to_string())?;
    let mut samples: Vec<JournalSample> = Vec::new();
    for recent in recent {
        let entry = recent.entry;
        let value = format!("{JOURNAL}{}", entry.event_id);
        let is_order =
            entry.source == "kentico" && EVENT_TYPES.contains(&entry.event_type.as_str());
        if !is_order || samples.iter().any(|s| s.value == value) {
            continue;
        }
        samples.push(JournalSample {
            label: format!(
                "{} {} ({}, {})",
                entry.event_type, entry.event_id, recent.business_key, entry.at
            ),
            value,
        });
        if samples.len() == JOURNAL_SAMPLES {
            break;
        }
    }
    Ok(samples)
}

/// The event a picker value names: the built-in one, a journal event, or `pasted` parsed.
pub async fn resolve(backend: &Backend, sample: &str, pasted: &str) -> Result<Value, String> {
    if let Some(event_id) = sample.strip_prefix(JOURNAL) {
        let envelope = (backend.journal().envelope("kentico", event_id).await)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the journal keeps no event {event_id}"))?;
        let value: Value = serde_json::from_str(&envelope).map_err(|e| e.to_string())?;
        return events_in(&value)
            .into_iter()
            .next()
            .ok_or_else(|| format!("the journal's copy of {event_id} holds no event"));
    }
    if sample == PASTED {
        let value: Value = serde_json::from_str(pasted)
            .map_err(|e| format!("the pasted event is not JSON: {e}"))?;
        return events_in(&value).into_iter().next().ok_or_else(|| {
            "the pasted text holds no Kentico event (`type` and `data`)".to_string()
        });
    }
    built_in()
}

/// Every leaf of the event's `data.object` as (path, masked value), in document order:
/// `OrderNumber`, `Customer.CustomerEmail`, `OrderItems[0].SKUNumber`.
pub fn source_fields(event: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    leaves(
        &mask_json(&event["data"]["object"]),
        String::new(),
        &mut out,
    );
    out
}

fn leaves(value: &Value, path: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let next = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                leaves(child, next, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                leaves(child, format!("{path}[{index}]"), out);
            }
        }
        Value::String(text) if !path.is_empty() => out.push((path, text.clone())),
        Value::Null if !path.is_empty() => out.push((path, String::new())),
        other if !path.is_empty() => out.push((path, other.to_string())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_sample_is_an_order_with_nested_and_listed_fields() {
        let event = built_in().unwrap();
        let fields = source_fields(&event);
        let paths: Vec<&str> = fields.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.contains(&"OrderID"));
        assert!(paths.contains(&"Customer.CustomerEmail"));
        assert!(paths.contains(&"OrderItems[1].SKUNumber"));
        let email = fields
            .iter()
            .find(|(p, _)| p == "Customer.CustomerEmail")
            .unwrap();
        assert_ne!(email.1, "ada@example.com", "the value is masked");
    }
}
