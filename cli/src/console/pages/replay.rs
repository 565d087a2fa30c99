//! What a publish in the console replays first, as `paybridge mapping publish` does: the
//! candidate document on the sample order events — the ones shipped with paybridge (`events/`,
//! built into the binary) and the Kentico order events the journal holds from the last week —
//! and the refusal of a version that breaks an order the active version maps.

use maud::{Markup, html};
use paybridge::flows::preview::{SampleOutcome, events_in, replay_samples};
use paybridge::mapping::platform::KenticoPlatform;
use paybridge::mapping_doc::{AppliedMapping, MappingDocument};
use serde_json::Value;

use super::super::ConsoleState;
use super::super::mask::mask_text;
use super::Active;
use super::designer::sources;

/// The sample files shipped with paybridge that hold Kentico order events (API Gateway requests
/// and SQS batches), for each platform: a shop replays its own platform's (the other's are
/// refused under any version, and say nothing about this one).
const K13: [(&str, &str); 2] = [
    (
        "events/kentico-webhook-valid.json",
        include_str!("../../../../events/kentico-webhook-valid.json"),
    ),
    (
        "events/order-worker-sqs.json",
        include_str!("../../../../events/order-worker-sqs.json"),
    ),
];
const XBYK: [(&str, &str); 2] = [
    (
        "events/kentico-webhook-xbyk-valid.json",
        include_str!("../../../../events/kentico-webhook-xbyk-valid.json"),
    ),
    (
        "events/order-worker-sqs-xbyk.json",
        include_str!("../../../../events/order-worker-sqs-xbyk.json"),
    ),
];

/// What replaying a candidate found.
pub struct Replayed {
    /// Each sample order event under the candidate (a regression marked).
    pub outcomes: Vec<SampleOutcome>,
    /// Why the journal's samples are missing, when it did not answer (the built-in ones were
    /// still replayed).
    pub journal_error: Option<String>,
}

impl Replayed {
    /// The samples the candidate breaks.
    pub fn regressions(&self) -> Vec<&SampleOutcome> {
        self.outcomes.iter().filter(|o| o.regression).collect()
    }
}

/// The built-in samples of `platform`, then the journal's (`journal:{event_id}`).
async fn samples(
    state: &ConsoleState,
    platform: KenticoPlatform,
) -> (Vec<(String, Value)>, Option<String>) {
    let mut samples: Vec<(String, Value)> = Vec::new();
    let built_in = match platform {
        KenticoPlatform::K13 => K13,
        KenticoPlatform::Xbyk => XBYK,
    };
    for (name, text) in built_in {
        let Ok(file) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        samples.extend(events_in(&file).into_iter().map(|e| (name.to_string(), e)));
    }
    let listed = match sources::journal_samples(&state.backend).await {
        Ok(listed) => listed,
        Err(error) => return (samples, Some(error)),
    };
    for sample in listed {
        match sources::resolve(&state.backend, &sample.value, "").await {
            Ok(event) => samples.push((sample.value, event)),
            Err(error) => return (samples, Some(error)),
        }
    }
    (samples, None)
}

/// Replays `candidate` (to become version `active.version + 1`) on the samples, against the
/// active version; `Err` when the environment's settings cannot be read.
pub async fn replay(
    state: &ConsoleState,
    active: &Active,
    candidate: &MappingDocument,
) -> Result<Replayed, String> {
    let base = state.settings.base_settings.clone()?;
    let current = AppliedMapping::new(active.version, &active.document, &base);
    let next = AppliedMapping::new(active.version.saturating_add(1), candidate, &base);
    let (samples, journal_error) = samples(state, base.kentico_platform).await;
    Ok(Replayed {
        outcomes: replay_samples(&current, &next, &samples),
        journal_error,
    })
}

/// The replay as the confirmation and refusal pages show it: one line per sample (mapped, or
/// why not), regressions first and marked.
pub fn view(replayed: &Replayed) -> Markup {
    let mapped = replayed
        .outcomes
        .iter()
        .filter(|o| o.outcome.is_ok())
        .count();
    let mut outcomes: Vec<&SampleOutcome> = replayed.outcomes.iter().collect();
    outcomes.sort_by_key(|o| !o.regression);
    html! {
        p { "Replayed on " (replayed.outcomes.len()) " sample order event(s): " (mapped) " map"
            @match replayed.regressions().len() {
                0 => ", none breaks.",
                n => { ", " strong.bad { (n) " that the active version maps would no longer map" } "." }
            }
        }
        @if let Some(error) = &replayed.journal_error {
            p.muted { "The journal's recent orders were not replayed: " (error) }
        }
        ul.samples {
            @for sample in outcomes {
                li class=[sample.regression.then_some("bad")] {
                    code { (sample.name) } ": "
                    @match &sample.outcome {
                        Ok(preview) => { "maps (" (preview.request) ")" }
                        Err(error) => { @if sample.regression { "breaks: " } (mask_text(&error.to_string())) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_sample_holds_an_order_event_of_its_platform() {
        let platforms = [(K13, None), (XBYK, Some("xbyk"))];
        for (name, text, platform) in (platforms.iter())
            .flat_map(|(files, platform)| files.iter().map(move |(n, t)| (n, t, platform)))
        {
            let file: Value = serde_json::from_str(text).unwrap();
            let events = events_in(&file);
            assert!(!events.is_empty(), "{name} holds no event");
            assert!(
                (events.iter()).all(|e| e["type"].as_str().unwrap().starts_with("ecommerce.order")),
                "{name}"
            );
            assert!(
                (events.iter()).all(|e| e["platform"].as_str() == *platform),
                "{name}"
            );
        }
    }
}
