//! `CountryCode` (ISO 3166-1 alpha-2) and the lookup that turns what shops type into one.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::mapping::error::MappingError;
use crate::mapping::text::lookup_key;

/// An ISO 3166-1 alpha-2 country code, upper-case, e.g. `GB`; serializes as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(&'static str);

impl CountryCode {
    /// The two-letter code, e.g. `GB`.
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// ISO's English short name, e.g. `Germany`.
    pub fn name(&self) -> &'static str {
        rust_iso3166::from_alpha2(self.0).map_or(self.0, |country| country.name)
    }
}

impl std::fmt::Display for CountryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// Names shops really use that ISO spells differently.
const ALIASES: &[(&str, &str)] = &[
    ("United Kingdom", "GB"),
    ("UK", "GB"),
    ("Great Britain", "GB"),
    ("Britain", "GB"),
    ("England", "GB"),
    ("Scotland", "GB"),
    ("Wales", "GB"),
    ("Northern Ireland", "GB"),
    ("United States", "US"),
    ("United States of America", "US"),
    ("America", "US"),
    ("South Korea", "KR"),
    ("Korea", "KR"),
    ("Republic of Korea", "KR"),
    ("North Korea", "KP"),
    ("Czech Republic", "CZ"),
    ("Russia", "RU"),
    ("Vietnam", "VN"),
    ("Iran", "IR"),
    ("Syria", "SY"),
    ("Taiwan", "TW"),
    ("Bolivia", "BO"),
    ("Venezuela", "VE"),
    ("Tanzania", "TZ"),
    ("Moldova", "MD"),
    ("Laos", "LA"),
    ("Holland", "NL"),
    ("Netherlands", "NL"),
    ("Ivory Coast", "CI"),
    ("Macedonia", "MK"),
    ("Turkey", "TR"),
    ("Vatican", "VA"),
    ("Vatican City", "VA"),
    ("Brunei", "BN"),
    ("Palestine", "PS"),
    ("Micronesia", "FM"),
    ("UAE", "AE"),
    ("Bosnia", "BA"),
    ("Macau", "MO"),
    ("Cape Verde", "CV"),
    ("Swaziland", "SZ"),
    ("Burma", "MM"),
    ("East Timor", "TL"),
    ("Slovak Republic", "SK"),
    ("Democratic Republic of the Congo", "CD"),
    ("Republic of the Congo", "CG"),
];

struct Entry {
    code: &'static str,
    display: &'static str,
}

/// Every accepted spelling, keyed by [`lookup_key`]: aliases win over ISO names, and ISO names
/// without their parenthesis ("Bolivia (Plurinational State of)" → "Bolivia") count when unique.
fn names() -> &'static HashMap<String, Entry> {
    static NAMES: OnceLock<HashMap<String, Entry>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = HashMap::new();
        let mut short_names: HashMap<String, Option<Entry>> = HashMap::new();
        for country in rust_iso3166::ALL {
            if let Some((short, _)) = country.name.split_once(" (") {
                let entry = Entry {
                    code: country.alpha2,
                    display: short,
                };
                short_names
                    .entry(lookup_key(short))
                    .and_modify(|slot| *slot = None)
                    .or_insert(Some(entry));
            }
        }
        names.extend(
            short_names
                .into_iter()
                .filter_map(|(key, entry)| Some((key, entry?))),
        );
        for country in rust_iso3166::ALL {
            let entry = Entry {
                code: country.alpha2,
                display: country.name,
            };
            names.insert(lookup_key(country.name), entry);
        }
        for &(alias, code) in ALIASES {
            names.insert(
                lookup_key(alias),
                Entry {
                    code,
                    display: alias,
                },
            );
        }
        names
    })
}

/// Turns a country as a shop wrote it into its ISO 3166-1 alpha-2 code: alpha-2 or alpha-3
/// codes, ISO English names and common aliases ("UK", "USA", "Holland"), ignoring case, dots
/// and accents. Anything else is an error naming `field`, suggesting the closest name's code.
pub fn standardize_country(field: &str, raw: &str) -> Result<CountryCode, MappingError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(MappingError::new(field, "country is missing"));
    }
    let key = lookup_key(trimmed);
    if let Some(entry) = names().get(&key) {
        return Ok(CountryCode(entry.code));
    }
    let upper = key.to_ascii_uppercase();
    let by_code = match upper.len() {
        2 => rust_iso3166::from_alpha2(&upper),
        3 => rust_iso3166::from_alpha3(&upper),
        _ => None,
    };
    if let Some(country) = by_code {
        return Ok(CountryCode(country.alpha2));
    }
    let error = MappingError::new(field, format!("country '{trimmed}' is unknown"));
    Err(match closest(&key) {
        Some(entry) => error.with_suggestion(format!("{} ({})", entry.code, entry.display)),
        None => error,
    })
}

/// The nearest spelling within a typo or two; codes are too short to guess from.
fn closest(key: &str) -> Option<&'static Entry> {
    let length = key.chars().count();
    let allowed = match length {
        0..=3 => return None,
        4..=6 => 1,
        7..=11 => 2,
        _ => 3,
    };
    let mut candidates: Vec<(usize, &String, &Entry)> = names()
        .iter()
        .map(|(name, entry)| (strsim::osa_distance(name, key), name, entry))
        .filter(|(distance, _, _)| *distance <= allowed)
        .collect();
    candidates.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    candidates.first().map(|(_, _, entry)| *entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> &'static str {
        standardize_country("AddressCountry", raw).unwrap().as_str()
    }

    #[test]
    fn accepts_alpha2_and_alpha3_codes_in_any_case() {
        assert_eq!(code("gb"), "GB");
        assert_eq!(code(" DEU "), "DE");
        assert_eq!(code("usa"), "US");
    }

    #[test]
    fn accepts_iso_english_names_ignoring_case_and_accents() {
        assert_eq!(code("Germany"), "DE");
        assert_eq!(code("cote d'ivoire"), "CI");
        assert_eq!(
            code("United Kingdom of Great Britain and Northern Ireland"),
            "GB"
        );
        assert_eq!(code("Bolivia (Plurinational State of)"), "BO");
        assert_eq!(code("Réunion"), "RE");
    }

    #[test]
    fn accepts_the_names_shops_use_that_iso_does_not() {
        for (raw, expected) in [
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("Great Britain", "GB"),
            ("England", "GB"),
            ("Scotland", "GB"),
            ("Wales", "GB"),
            ("Northern Ireland", "GB"),
            ("U.S.A.", "US"),
            ("United States", "US"),
            ("America", "US"),
            ("South Korea", "KR"),
            ("Korea", "KR"),
            ("Republic of Korea", "KR"),
            ("North Korea", "KP"),
            ("Czech Republic", "CZ"),
            ("Czechia", "CZ"),
            ("Russia", "RU"),
            ("Vietnam", "VN"),
            ("Iran", "IR"),
            ("Syria", "SY"),
            ("Taiwan", "TW"),
            ("Venezuela", "VE"),
            ("Tanzania", "TZ"),
            ("Moldova", "MD"),
            ("Laos", "LA"),
            ("Holland", "NL"),
            ("The Netherlands", "NL"),
            ("Ivory Coast", "CI"),
            ("Macedonia", "MK"),
            ("North Macedonia", "MK"),
            ("Turkey", "TR"),
            ("Türkiye", "TR"),
            ("Vatican", "VA"),
            ("Brunei", "BN"),
            ("Palestine", "PS"),
            ("Micronesia", "FM"),
            ("UAE", "AE"),
            ("Bosnia", "BA"),
            ("Hong Kong", "HK"),
            ("Macau", "MO"),
            ("Macao", "MO"),
        ] {
            assert_eq!(code(raw), expected, "{raw}");
        }
    }

    #[test]
    fn an_unknown_country_is_refused_with_the_closest_name_suggested() {
        let error = standardize_country("AddressCountry", "Germny").unwrap_err();

        assert_eq!(
            error.to_string(),
            "AddressCountry: country 'Germny' is unknown — did you mean DE (Germany)?"
        );
    }

    #[test]
    fn an_unknown_code_or_nonsense_gets_no_suggestion() {
        assert_eq!(standardize_country("x", "ZZ").unwrap_err().suggestion, None);
        assert_eq!(
            standardize_country("x", "Atlantis Prime")
                .unwrap_err()
                .suggestion,
            None
        );
    }

    #[test]
    fn an_empty_country_is_missing() {
        assert_eq!(
            standardize_country("AddressCountry", " ")
                .unwrap_err()
                .to_string(),
            "AddressCountry: country is missing"
        );
    }

    #[test]
    fn serializes_as_the_two_letter_code() {
        let country = standardize_country("x", "Japan").unwrap();

        assert_eq!(serde_json::to_string(&country).unwrap(), "\"JP\"");
        assert_eq!(country.name(), "Japan");
    }
}
