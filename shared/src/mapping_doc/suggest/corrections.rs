//! Corrections for dead-lettered mapping mismatches that an alias can fix: a currency, country
//! or state spelled in a way paybridge does not read, and the alias that makes it read.

use serde::Serialize;
use serde_json::Value;

use super::order_object;
use crate::mapping::address::known_states;
use crate::mapping::money::{Currency, Recognised, recognise_currency};
use crate::mapping::standardize_country;
use crate::mapping::text::lookup_key;
use crate::mapping_doc::MappingDocument;
use crate::mapping_doc::rules::{Step, parse_path, read};

/// Below this a correction is not offered: an alias applies to every later order, so a guess
/// would quietly charge or ship the wrong way.
pub const MIN_CORRECTION_CONFIDENCE: u8 = 70;
/// What agreeing with, or contradicting, the dead letter's own "did you mean" adds.
const DETAIL_AGREES: i32 = 5;
const DETAIL_DIFFERS: i32 = -15;

/// An alias that would let the dead-lettered order through, and why it is likely right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    /// The field the mismatch named (`OrderShippingAddress.AddressCountry`).
    pub field: String,
    /// The value the order had there, trimmed.
    pub value: String,
    /// Why the value stands for the code.
    pub explanation: String,
    /// 0–100; at least [`MIN_CORRECTION_CONFIDENCE`].
    pub confidence: u8,
    /// The alias to add.
    pub change: CorrectionChange,
}

/// The alias a correction adds to `aliases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "alias", rename_all = "snake_case")]
pub enum CorrectionChange {
    /// `aliases.countries[spelling] = code`.
    CountryAlias {
        /// As the shop writes it.
        spelling: String,
        /// ISO 3166 alpha-2.
        code: String,
    },
    /// `aliases.currencies[spelling] = code`.
    CurrencyAlias {
        /// As the shop writes it.
        spelling: String,
        /// ISO 4217.
        code: String,
    },
    /// `aliases.states[country][spelling] = code`.
    StateAlias {
        /// ISO 3166 alpha-2 of the address's country.
        country: String,
        /// As the shop writes it.
        spelling: String,
        /// The state's code.
        code: String,
    },
}

impl CorrectionChange {
    /// The code the alias reads the spelling as.
    pub fn code(&self) -> &str {
        match self {
            CorrectionChange::CountryAlias { code, .. }
            | CorrectionChange::CurrencyAlias { code, .. }
            | CorrectionChange::StateAlias { code, .. } => code,
        }
    }
}

impl Correction {
    /// Adds the alias to `document`.
    pub fn apply(&self, document: &mut MappingDocument) {
        let aliases = &mut document.aliases;
        match &self.change {
            CorrectionChange::CountryAlias { spelling, code } => {
                aliases.countries.insert(spelling.clone(), code.clone());
            }
            CorrectionChange::CurrencyAlias { spelling, code } => {
                aliases.currencies.insert(spelling.clone(), code.clone());
            }
            CorrectionChange::StateAlias {
                country,
                spelling,
                code,
            } => {
                (aliases.states.entry(country.clone()).or_default())
                    .insert(spelling.clone(), code.clone());
            }
        }
    }

    /// The change in one sentence: `add aliases.currencies["US Dollar"] = "USD" …`.
    pub fn describe(&self) -> String {
        match &self.change {
            CorrectionChange::CountryAlias { spelling, code } => format!(
                "add aliases.countries[\"{spelling}\"] = \"{code}\": orders whose country is '{spelling}' are read as {code} ({})",
                country_name(code)
            ),
            CorrectionChange::CurrencyAlias { spelling, code } => format!(
                "add aliases.currencies[\"{spelling}\"] = \"{code}\": orders in '{spelling}' are charged in {code} ({})",
                currency_name(code)
            ),
            CorrectionChange::StateAlias {
                country,
                spelling,
                code,
            } => format!(
                "add aliases.states[\"{country}\"][\"{spelling}\"] = \"{code}\": addresses in {country} with the state '{spelling}' are read as {code}"
            ),
        }
    }
}

/// The alias that fixes the mapping mismatch at `field` (a dead letter's `field` detail,
/// relative to `data.object`) of the dead-lettered `payload` (the queued message, the event
/// or the order), given the dead letter's `suggestion` detail if it had one. `None` when the
/// field is not a currency, country or state, the value reads already, or the likeliest code
/// is below [`MIN_CORRECTION_CONFIDENCE`].
pub fn suggest_correction(
    field: &str,
    payload: &Value,
    detail_suggestion: Option<&str>,
) -> Option<Correction> {
    let steps = parse_path(field)?;
    let Some(Step::Key(column)) = steps.last() else {
        return None;
    };
    let order = order_object(payload);
    let value = read(order, field)?.trim().to_string();
    if value.is_empty() {
        return None;
    }
    let guess = match column.as_str() {
        "OrderCurrencyCode" => currency(&value),
        "AddressCountry" | "OrderAddressCountry" => country(&value),
        "AddressState" | "OrderAddressState" => {
            let country_column = column.replace("State", "Country");
            let country_field = format!("{}{country_column}", &field[..field.len() - column.len()]);
            state(&read(order, &country_field)?, &value)
        }
        _ => None,
    }?;
    let mut confidence = guess.confidence;
    let mut explanation = guess.explanation;
    if let Some(detail) = detail_suggestion.and_then(|d| d.split_whitespace().next()) {
        if detail.eq_ignore_ascii_case(guess.change.code()) {
            confidence += DETAIL_AGREES;
            explanation.push_str("; the dead letter suggested it too");
        } else {
            confidence += DETAIL_DIFFERS;
            explanation.push_str(&format!("; the dead letter suggested {detail} instead"));
        }
    }
    let confidence = u8::try_from(confidence.clamp(0, 100)).unwrap_or(0);
    (confidence >= MIN_CORRECTION_CONFIDENCE).then(|| Correction {
        field: field.to_string(),
        value,
        explanation,
        confidence,
        change: guess.change,
    })
}

struct Guess {
    change: CorrectionChange,
    confidence: i32,
    explanation: String,
}

fn country_name(code: &str) -> &'static str {
    rust_iso3166::from_alpha2(code).map_or("", |c| c.name)
}

fn currency_name(code: &str) -> String {
    iso_currency::Currency::from_code(code).map_or_else(String::new, |c| c.name().to_string())
}

fn currency(value: &str) -> Option<Guess> {
    if Currency::parse("value", value).is_ok() {
        return None;
    }
    let (code, how) = recognise_currency(value)?;
    let name = currency_name(code);
    let letters: String = value.chars().filter(char::is_ascii_alphabetic).collect();
    let (confidence, explanation) = match how {
        Recognised::Symbol if value == "$" => (
            55,
            "'$' is the sign of the US dollar, but also of the Canadian, Australian and other dollars".to_string(),
        ),
        Recognised::Symbol => (90, format!("'{value}' is the sign of {code} ({name})")),
        Recognised::Name => (95, format!("'{value}' is a name of {code} ({name})")),
        Recognised::CodeInText => (90, format!("'{value}' holds the code {code} ({name}) and no other")),
        Recognised::NearCode if letters.eq_ignore_ascii_case(code) => (
            90,
            format!("'{value}' is the code {code} ({name}) with other characters"),
        ),
        Recognised::NearCode => (75, format!("'{value}' is one letter from the code {code} ({name})")),
        Recognised::NearName => (75, format!("'{value}' is a typo or two from {name} ({code})")),
    };
    Some(Guess {
        change: CorrectionChange::CurrencyAlias {
            spelling: value.to_string(),
            code: code.to_string(),
        },
        confidence,
        explanation,
    })
}

fn country(value: &str) -> Option<Guess> {
    if standardize_country("value", value).is_ok() {
        return None;
    }
    let code_of = |text: &str| standardize_country("value", text).ok().map(|c| c.as_str());
    let guess = |code: &'static str, confidence: i32, explanation: String| Guess {
        change: CorrectionChange::CountryAlias {
            spelling: value.to_string(),
            code: code.to_string(),
        },
        confidence,
        explanation,
    };
    let (inside, outside) = bracketed(value);
    let bracketed_code = inside.filter(|code| {
        (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphabetic())
    });
    if let Some(code) = bracketed_code.as_deref().and_then(code_of) {
        let outside_code = code_of(&outside);
        if outside_code.is_none_or(|other| other == code) {
            return Some(guess(
                code,
                95,
                format!(
                    "'{value}' carries the ISO code {code} ({}) in brackets",
                    country_name(code)
                ),
            ));
        }
        return None;
    }
    let mut codes: Vec<(&'static str, String)> = spans(value)
        .into_iter()
        .filter(|span| span.chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .filter_map(|span| code_of(&span).map(|code| (code, span)))
        .collect();
    codes.sort();
    codes.dedup_by(|a, b| a.0 == b.0);
    if let [(code, span)] = codes.as_slice() {
        return Some(guess(
            code,
            80,
            format!(
                "'{value}' contains '{span}', which is {code} ({})",
                country_name(code)
            ),
        ));
    }
    if !codes.is_empty() {
        return None;
    }
    let suggested = standardize_country("value", value).err()?.suggestion?;
    let code = suggested.split_whitespace().next()?;
    let code = rust_iso3166::from_alpha2(code)?.alpha2;
    Some(guess(
        code,
        80,
        format!("'{value}' is a typo or two from {suggested}"),
    ))
}

fn state(country_value: &str, value: &str) -> Option<Guess> {
    let country = standardize_country("value", country_value).ok()?;
    let table = known_states(&country)?;
    let key = lookup_key(value);
    let code_of = |text: &str| {
        let key = lookup_key(text);
        (table.iter())
            .find(|(name, code)| lookup_key(name) == key || code.eq_ignore_ascii_case(&key))
            .map(|(_, code)| *code)
    };
    if code_of(value).is_some() {
        return None;
    }
    let guess = |code: &str, confidence: i32, explanation: String| Guess {
        change: CorrectionChange::StateAlias {
            country: country.as_str().to_string(),
            spelling: value.to_string(),
            code: code.to_string(),
        },
        confidence,
        explanation,
    };
    if let (Some(inside), _) = bracketed(value) {
        if let Some(code) = code_of(&inside) {
            return Some(guess(
                code,
                90,
                format!("'{value}' carries the state {code} in brackets"),
            ));
        }
    }
    let mut codes: Vec<&str> = spans(value)
        .iter()
        .filter_map(|span| code_of(span))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    if let [code] = codes.as_slice() {
        return Some(guess(
            code,
            80,
            format!("'{value}' names the state {code} among other words"),
        ));
    }
    if !codes.is_empty() || key.chars().count() < 4 {
        return None;
    }
    let allowed = if key.chars().count() <= 6 { 1 } else { 2 };
    let mut near: Vec<(usize, &str, &str)> = (table.iter())
        .map(|(name, code)| (strsim::osa_distance(&lookup_key(name), &key), *name, *code))
        .filter(|(distance, _, _)| *distance <= allowed)
        .collect();
    near.sort_unstable();
    match near.as_slice() {
        [(best, name, code), rest @ ..] if rest.first().is_none_or(|next| next.0 > *best) => {
            Some(guess(
                code,
                80,
                format!("'{value}' is a typo or two from {name} ({code})"),
            ))
        }
        _ => None,
    }
}

/// The text in the first brackets (`(GB)`, `[GB]`), trimmed, and the text around them.
fn bracketed(value: &str) -> (Option<String>, String) {
    let Some(open) = value.find(['(', '[']) else {
        return (None, value.to_string());
    };
    let Some(close) = value[open..].find([')', ']']).map(|at| open + at) else {
        return (None, value.to_string());
    };
    let inside = value[open + 1..close].trim().to_string();
    let outside = format!("{} {}", &value[..open], &value[close + 1..]);
    (Some(inside), outside.trim().to_string())
}

/// Every run of consecutive words of `value` but the whole, longest first.
fn spans(value: &str) -> Vec<String> {
    let key = lookup_key(value);
    let words: Vec<&str> = key.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    for length in (1..words.len()).rev() {
        for window in words.windows(length) {
            out.push(window.join(" "));
        }
    }
    out
}
