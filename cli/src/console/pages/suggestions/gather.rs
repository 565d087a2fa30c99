//! What the suggestions page reads: the dead-lettered mapping mismatches with the alias that
//! would fix each (grouped by alias), and the unmapped order fields of recent Kentico orders
//! with the PaymentIntent fields they could fill. Plain library calls; nothing is learned.

use paybridge::dead_letters::DeadLetterEntry;
use paybridge::mapping_doc::suggest::{
    AcceptedMapping, Correction, FieldSuggestion, suggest_correction, suggest_fields,
};
use paybridge::webhook::Source;
use serde::Serialize;
use serde_json::Value;

use paybridge::app::Backend;

use super::super::super::ConsoleSettings;
use super::super::{Active, active_in};

/// The most dead letters read.
const DEAD_LETTERS: usize = 500;
/// How far back, and how many, journal entries are read for sample orders.
const SAMPLE_DAYS: i64 = 7;
const JOURNAL_ENTRIES: usize = 2_000;
/// The most sample orders the field suggestions read.
const SAMPLES: usize = 50;
/// The most stored versions whose rules count as accepted.
const VERSIONS: usize = 100;

/// A dead letter a suggestion acts on.
#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    /// The dead letter's id (what a redrive names).
    pub id: String,
    /// The order's id, when the body names one.
    pub order_id: Option<String>,
}

/// One alias and every dead letter it would let through.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionGroup {
    /// The alias (the first dead letter's reading: the same change for all).
    pub correction: Correction,
    /// The sentence `describe()` makes of it.
    pub description: String,
    /// The dead letters it would let through.
    pub dead_letters: Vec<Affected>,
}

impl CorrectionGroup {
    /// What tells one alias from another in a form: its JSON.
    pub fn key(&self) -> String {
        serde_json::to_string(&self.correction.change).unwrap_or_default()
    }
}

/// A mapping mismatch no alias fixes, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Uncorrected {
    /// The dead letter.
    pub dead_letter: Affected,
    /// The field the mismatch named.
    pub field: String,
    /// Why no correction is offered.
    pub why: String,
}

/// One unmapped field and its ranked targets.
#[derive(Debug, Clone, Serialize)]
pub struct FieldGroup {
    /// The order field.
    pub path: String,
    /// One value from a sample, as it is (the page masks it).
    pub sample: Option<String>,
    /// Ranked, best first.
    pub suggestions: Vec<FieldSuggestion>,
}

/// Everything the page shows.
pub struct Gathered {
    /// The version the suggestions were made against.
    pub active: Active,
    /// Corrections, grouped by alias.
    pub corrections: Vec<CorrectionGroup>,
    /// Mismatches without one.
    pub uncorrected: Vec<Uncorrected>,
    /// Field suggestions, by field.
    pub fields: Vec<FieldGroup>,
}

fn order_object(body: &Value) -> &Value {
    (body.pointer("/payload/data/object"))
        .or_else(|| body.pointer("/data/object"))
        .unwrap_or(body)
}

fn affected(entry: &DeadLetterEntry, body: &Value) -> Affected {
    let order = order_object(body);
    let order_id = ["OrderID", "OrderId", "orderId"]
        .iter()
        .find_map(|key| order.get(*key))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    Affected {
        id: entry.id.clone(),
        order_id,
    }
}

fn attribute(entry: &DeadLetterEntry, name: &str) -> Option<String> {
    Some(entry.attribute(name).trim().to_string()).filter(|v| !v.is_empty())
}

/// The Kentico dead letters: bodies (samples) and the mapping mismatches' corrections.
async fn dead_letters(
    backend: &Backend,
) -> Result<(Vec<Value>, Vec<CorrectionGroup>, Vec<Uncorrected>), String> {
    let entries = (backend.dead_letters())
        .list(Some(Source::Kentico), DEAD_LETTERS)
        .await
        .map_err(|e| e.to_string())?;
    let mut bodies = Vec::new();
    let mut groups: Vec<CorrectionGroup> = Vec::new();
    let mut uncorrected = Vec::new();
    for entry in entries {
        let body: Value = serde_json::from_str(&entry.body).unwrap_or(Value::Null);
        if entry.attribute("failure_kind") == "mapping_mismatch" {
            let who = affected(&entry, &body);
            let suggestion = attribute(&entry, "failure_suggestion");
            match attribute(&entry, "failure_field") {
                None => uncorrected.push(Uncorrected {
                    dead_letter: who,
                    field: String::new(),
                    why: "the dead letter does not name the field that did not map".into(),
                }),
                Some(field) => match suggest_correction(&field, &body, suggestion.as_deref()) {
                    Some(correction) => {
                        match groups
                            .iter_mut()
                            .find(|g| g.correction.change == correction.change)
                        {
                            Some(group) => group.dead_letters.push(who),
                            None => groups.push(CorrectionGroup {
                                description: correction.describe(),
                                correction,
                                dead_letters: vec![who],
                            }),
                        }
                    }
                    None => uncorrected.push(Uncorrected {
                        dead_letter: who,
                        field,
                        why:
                            "no alias reads this value surely enough (only a currency, country or \
                              state has one, and only from a confidence of 70): no guess is made"
                                .into(),
                    }),
                },
            }
        }
        // Only orders are samples: a customer event's object has other fields.
        if entry.attribute("event_type").contains("order") {
            bodies.push(body);
        }
    }
    groups.sort_by(|a, b| {
        (b.dead_letters.len(), b.correction.confidence)
            .cmp(&(a.dead_letters.len(), a.correction.confidence))
    });
    Ok((bodies, groups, uncorrected))
}

/// The envelopes of recent Kentico order events in the journal.
async fn journal_samples(backend: &Backend) -> Result<Vec<Value>, String> {
    let since =
        paybridge::clock::unix_millis(time::OffsetDateTime::now_utc()) - SAMPLE_DAYS * 86_400_000;
    let journal = backend.journal();
    let recent = (journal.recent(since, JOURNAL_ENTRIES).await).map_err(|e| e.to_string())?;
    let mut seen = std::collections::BTreeSet::new();
    let mut samples = Vec::new();
    for recent in recent {
        let entry = &recent.entry;
        if entry.source != "kentico"
            || !recent.business_key.starts_with("order:")
            || !seen.insert(entry.event_id.clone())
        {
            continue;
        }
        let envelope =
            (journal.envelope(&entry.source, &entry.event_id).await).map_err(|e| e.to_string())?;
        if let Some(value) = envelope.and_then(|e| serde_json::from_str::<Value>(&e).ok()) {
            samples.push(value);
        }
        if samples.len() >= SAMPLES {
            break;
        }
    }
    Ok(samples)
}

/// The rules of every stored version, as acceptances.
async fn accepted(backend: &Backend) -> Result<Vec<AcceptedMapping>, String> {
    let versions = (backend.mappings().versions(VERSIONS).await).map_err(|e| e.to_string())?;
    Ok(versions
        .iter()
        .filter_map(|v| {
            paybridge::mapping_doc::MappingDocument::parse(&v.document)
                .ok()
                .map(|d| AcceptedMapping::from_document(v.version, &d))
        })
        .flatten()
        .collect())
}

/// The active version of `backend` (version 0 as `settings` have it) and every suggestion
/// against it: what the page shows, and what `paybridge mapping suggest` prints.
pub async fn gather(backend: &Backend, settings: &ConsoleSettings) -> Result<Gathered, String> {
    let active = active_in(backend, settings).await?;
    let (mut samples, corrections, uncorrected) = dead_letters(backend).await?;
    let mut journal = journal_samples(backend).await?;
    journal.truncate(SAMPLES.saturating_sub(samples.len().min(SAMPLES / 2)));
    samples.truncate(SAMPLES / 2);
    samples.append(&mut journal);
    let accepted = accepted(backend).await?;
    let suggestions = suggest_fields(&active.document, &samples, &accepted);
    let mut fields: Vec<FieldGroup> = Vec::new();
    for suggestion in suggestions {
        match fields.iter_mut().find(|f| f.path == suggestion.path) {
            Some(group) => group.suggestions.push(suggestion),
            None => fields.push(FieldGroup {
                sample: sample_value(&samples, &suggestion.path),
                path: suggestion.path.clone(),
                suggestions: vec![suggestion],
            }),
        }
    }
    Ok(Gathered {
        active,
        corrections,
        uncorrected,
        fields,
    })
}

fn sample_value(samples: &[Value], path: &str) -> Option<String> {
    samples
        .iter()
        .find_map(|s| paybridge::mapping_doc::rules::read(order_object(s), path))
}
