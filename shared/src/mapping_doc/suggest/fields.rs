//! Field suggestions: for each field of the sample orders that neither paybridge nor a rule of
//! the document maps yet, the PaymentIntent fields it could fill, each with a confidence, its
//! reasons and the rule to add.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::evidence::{Evidence, observe};
use super::keys::{derive_key, taken_keys, usable};
use super::shapes::Shape;
use super::{AcceptedMapping, Target, first_element_path};
use crate::mapping::built_in_order_fields;
use crate::mapping_doc::document::{FieldRule, MappingDocument, MetadataRule, Transform};

/// Stripe takes 50 metadata keys; paybridge's own use 6 (as validation counts them).
const MAX_DOCUMENT_KEYS: usize = 44;
/// Stripe's limits: a metadata value, the statement descriptor (prefix and suffix together).
const MAX_METADATA_VALUE: usize = 500;
const MAX_DESCRIPTOR: usize = 22;

/// What each signal adds to a suggestion's confidence (0–100).
const METADATA_BASE: i32 = 20;
const DESCRIPTOR_BASE: i32 = 10;
const NAME_EXACT: i32 = 30;
const NAME_NEAR: i32 = 20;
const SHAPE_EVERY: i32 = 20;
const SHAPE_MOST: i32 = 10;
const SHAPE_FITS_NAME: i32 = 10;
const SHAPE_DENIES_NAME: i32 = -15;
const IN_EVERY_SAMPLE: i32 = 10;
const ACCEPTED_HERE: i32 = 45;
const ACCEPTED_SAME_NAME: i32 = 25;
const TOO_LONG_FOR_DESCRIPTOR: i32 = -15;

/// One way to map one field: the target, how sure, why, and the rule that does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldSuggestion {
    /// The order field (`Customer.CustomerLoyaltyTier`).
    pub path: String,
    /// 0–100: the sum of the signals' weights, capped.
    pub confidence: u8,
    /// Why, one sentence per signal, in the order they were weighed.
    pub reasons: Vec<String>,
    /// The rule to add.
    pub rule: SuggestedRule,
}

/// The rule a suggestion adds to a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestedRule {
    /// A new `payment_intent.metadata[]` entry.
    Metadata(MetadataRule),
    /// `payment_intent.statement_descriptor_suffix` (offered only while the document has none).
    StatementDescriptorSuffix(FieldRule),
}

impl FieldSuggestion {
    /// What the suggestion fills.
    pub fn target(&self) -> Target {
        match &self.rule {
            SuggestedRule::Metadata(rule) => Target::Metadata {
                key: rule.key.clone(),
            },
            SuggestedRule::StatementDescriptorSuffix(_) => Target::StatementDescriptorSuffix,
        }
    }

    /// Adds the rule to `document`.
    pub fn apply(&self, document: &mut MappingDocument) {
        let rules = &mut document.payment_intent;
        match &self.rule {
            SuggestedRule::Metadata(rule) => rules.metadata.push(rule.clone()),
            SuggestedRule::StatementDescriptorSuffix(rule) => {
                rules.statement_descriptor_suffix = Some(rule.clone());
            }
        }
    }
}

/// Suggestions for every field of `samples` (orders: events' `data.object`, Kentico 13 or
/// Xperience by Kentico; a whole event or queued message is read at its order) that is not
/// paybridge's own and that no rule of `document` maps, ranked by confidence, then path and
/// target. Each rule, added alone, passes the document's validation.
pub fn suggest_fields(
    document: &MappingDocument,
    samples: &[Value],
    accepted: &[AcceptedMapping],
) -> Vec<FieldSuggestion> {
    let mapped = mapped_fields(document);
    let rules = &document.payment_intent;
    let mut taken = taken_keys(rules.metadata.iter().map(|rule| rule.key.as_str()));
    let metadata_room = rules.metadata.len() < MAX_DOCUMENT_KEYS;
    let descriptor_free = rules.statement_descriptor_suffix.is_none();
    let mut out = Vec::new();
    for field in observe(samples) {
        if mapped.contains(&field.path) {
            continue;
        }
        let earlier = acceptances(&field, accepted);
        let mut targets: Vec<Target> = Vec::new();
        if metadata_room {
            let derived = derive_key(&field.name, field.parent.as_deref(), &taken);
            for accepted in &earlier {
                if let Target::Metadata { key } = &accepted.target {
                    if usable(key, &taken) {
                        taken.insert(key.clone());
                        targets.push(accepted.target.clone());
                    }
                }
            }
            // The derived key once more, unless an acceptance proposed it already.
            if let Some(key) = derived.filter(|key| !taken.contains(key)) {
                taken.insert(key.clone());
                targets.push(Target::Metadata { key });
            }
        }
        let accepted_descriptor =
            (earlier.iter()).any(|a| a.target == Target::StatementDescriptorSuffix);
        if descriptor_free && (accepted_descriptor || fits_descriptor(&field)) {
            targets.push(Target::StatementDescriptorSuffix);
        }
        out.extend(
            targets
                .into_iter()
                .map(|target| score(&field, target, &earlier)),
        );
    }
    out.sort_by(|a, b| {
        (b.confidence.cmp(&a.confidence))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.target().cmp(&b.target()))
    });
    out
}

/// The fields paybridge maps itself, and those the document's rules read, as first-element
/// paths. `OrderNumber` is read (Xperience by Kentico) only for a description that asks for it,
/// never sent on its own, so it stays a suggestion.
fn mapped_fields(document: &MappingDocument) -> BTreeSet<String> {
    let mut mapped = built_in_order_fields();
    mapped.remove("OrderNumber");
    let rules = &document.payment_intent;
    let from = (rules.metadata.iter().flat_map(|rule| &rule.from)).chain(
        rules
            .statement_descriptor_suffix
            .iter()
            .flat_map(|rule| &rule.from),
    );
    mapped.extend(from.map(|path| first_element_path(path)));
    mapped
}

/// An earlier acceptance that speaks for this field: of this path, or of a field of the same
/// name elsewhere; the latest version for each target.
struct Earlier {
    target: Target,
    version: u32,
    same_path: bool,
    path: String,
}

fn acceptances(field: &Evidence, accepted: &[AcceptedMapping]) -> Vec<Earlier> {
    let mut found: Vec<Earlier> = Vec::new();
    for mapping in accepted {
        let path = first_element_path(&mapping.path);
        let same_path = path == field.path;
        let leaf = path.rsplit('.').next().unwrap_or_default();
        let field_leaf = field.path.rsplit('.').next().unwrap_or_default();
        if !same_path && leaf != field_leaf {
            continue;
        }
        let candidate = Earlier {
            target: mapping.target.clone(),
            version: mapping.version,
            same_path,
            path,
        };
        match found.iter_mut().find(|e| e.target == candidate.target) {
            Some(existing) => {
                if (candidate.same_path, candidate.version) > (existing.same_path, existing.version)
                {
                    *existing = candidate;
                }
            }
            None => found.push(candidate),
        }
    }
    found.sort_by(|a, b| a.target.cmp(&b.target));
    found
}

/// A statement descriptor shows a short reference the buyer recognises: a name that says so,
/// or values that are all codes.
fn fits_descriptor(field: &Evidence) -> bool {
    let named = (field.name_match.as_ref()).is_some_and(|m| m.concept.descriptor);
    let coded = field.dominant_shape() == Some((Shape::Reference, field.values.len()));
    named || coded
}

fn score(field: &Evidence, target: Target, earlier: &[Earlier]) -> FieldSuggestion {
    let mut confidence = 0;
    let mut reasons = Vec::new();
    let mut add = |points: i32, reason: String| {
        confidence += points;
        reasons.push(reason);
    };
    match &target {
        Target::Metadata { .. } => add(
            METADATA_BASE,
            "metadata keeps any value beside the payment, searchable in Stripe".into(),
        ),
        Target::StatementDescriptorSuffix => add(
            DESCRIPTOR_BASE,
            "a short reference on the buyer's card statement helps them recognise the payment"
                .into(),
        ),
    }
    if let Some(name) = &field.name_match {
        add(
            if name.fuzzy { NAME_NEAR } else { NAME_EXACT },
            name.reason(),
        );
    }
    let expected_shape = field.name_match.as_ref().and_then(|m| m.concept.shape);
    if let Some((shape, count)) = field.dominant_shape() {
        let total = field.values.len();
        let every = count == total;
        let most = count * 5 >= total * 4;
        // Free text is what any field may hold: it neither speaks for a target nor against one.
        if shape != Shape::Text && most {
            let (points, reason) = match (every, total) {
                (true, 1) => (
                    SHAPE_EVERY,
                    format!("the sample value looks like {}", shape.phrase()),
                ),
                (true, _) => (
                    SHAPE_EVERY,
                    format!("every sample value looks like {}", shape.phrase()),
                ),
                (false, _) => (
                    SHAPE_MOST,
                    format!(
                        "{count} of {total} sample values look like {}",
                        shape.phrase()
                    ),
                ),
            };
            add(points, reason);
            if expected_shape.is_some_and(|expected| fits(expected, shape)) {
                add(SHAPE_FITS_NAME, "which fits the name".into());
            }
        }
        if let Some(expected) = expected_shape.filter(|expected| every && !fits(*expected, shape)) {
            add(
                SHAPE_DENIES_NAME,
                format!("but the name suggests {}", expected.phrase()),
            );
        }
        if shape == Shape::Email {
            add(
                0,
                "receipt_email stays paybridge's own (from Customer.CustomerEmail)".into(),
            );
        }
    }
    let present = field.values.len().min(field.samples);
    if present == field.samples && field.samples > 1 {
        add(
            IN_EVERY_SAMPLE,
            format!("present in all {} samples", field.samples),
        );
    } else if present < field.samples {
        add(
            0,
            format!("present in {present} of {} samples", field.samples),
        );
    }
    for earlier in earlier.iter().filter(|e| e.target == target) {
        if earlier.same_path {
            add(
                ACCEPTED_HERE,
                format!("accepted for this field in version {}", earlier.version),
            );
        } else {
            add(
                ACCEPTED_SAME_NAME,
                format!(
                    "accepted for '{}', a field of the same name, in version {}",
                    earlier.path, earlier.version
                ),
            );
        }
    }
    let (rule, notes) = make_rule(field, &target);
    if target == Target::StatementDescriptorSuffix && field.longest() > MAX_DESCRIPTOR {
        confidence += TOO_LONG_FOR_DESCRIPTOR;
    }
    reasons.extend(notes);
    FieldSuggestion {
        path: field.path.clone(),
        confidence: u8::try_from(confidence.clamp(0, 100)).unwrap_or(0),
        reasons,
        rule,
    }
}

/// Whether values of `shape` are what a concept expecting `expected` holds.
fn fits(expected: Shape, shape: Shape) -> bool {
    expected == shape
        || matches!(
            (expected, shape),
            (Shape::Reference, Shape::Integer) | (Shape::Text, _) | (Shape::Amount, Shape::Integer)
        )
}

/// The rule for `target`, with the steps the samples need and a sentence for each.
fn make_rule(field: &Evidence, target: &Target) -> (SuggestedRule, Vec<String>) {
    let mut transform = Vec::new();
    let mut notes = Vec::new();
    let longest = field.longest();
    match target {
        Target::Metadata { key } => {
            if field.needs_trim() {
                transform.push(Transform::Trim);
                notes.push("some sample values have spaces around them, so the rule trims".into());
            }
            if longest > MAX_METADATA_VALUE {
                transform.push(Transform::Truncate {
                    length: MAX_METADATA_VALUE,
                });
                notes.push(format!("a sample value is {longest} characters and a metadata value takes {MAX_METADATA_VALUE}, so the rule truncates"));
            }
            let rule = MetadataRule {
                key: key.clone(),
                from: vec![field.path.clone()],
                transform,
            };
            (SuggestedRule::Metadata(rule), notes)
        }
        Target::StatementDescriptorSuffix => {
            let lettered = (field.values.iter()).all(|v| v.chars().any(char::is_alphabetic));
            if lettered {
                if field.needs_trim() {
                    transform.push(Transform::Trim);
                }
                transform.push(Transform::Upper);
            } else {
                transform.push(Transform::Template {
                    template: "REF {0}".into(),
                });
                notes.push("Stripe wants a letter in a statement descriptor and some values have none, so the rule writes 'REF {0}'".into());
            }
            transform.push(Transform::Truncate {
                length: MAX_DESCRIPTOR,
            });
            if longest > MAX_DESCRIPTOR {
                notes.push(format!("a sample value is {longest} characters; the statement descriptor takes {MAX_DESCRIPTOR} with its prefix, so the rule truncates"));
            }
            let rule = FieldRule {
                from: vec![field.path.clone()],
                transform,
            };
            (SuggestedRule::StatementDescriptorSuffix(rule), notes)
        }
    }
}
