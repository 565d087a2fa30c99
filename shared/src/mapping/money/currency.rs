//! The `Currency` newtype: an ISO 4217 code, parsed strictly, with a suggestion when it is not one.

use iso_currency::IntoEnumIterator;

use crate::mapping::error::MappingError;
use crate::mapping::text::lookup_key;

/// An ISO 4217 currency that money can be charged in (upper-case alpha code).
/// It cannot hold an unknown code nor a special one such as `XXX` or `XAU`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an ISO 4217 alpha code in any case, surrounding whitespace ignored. Anything else
    /// is an error naming `field` — never a silent guess — with a suggestion when the text is a
    /// currency name ("US Dollar"), a symbol ("€") or a near-miss code ("UDS").
    pub fn parse(field: &str, raw: &str) -> Result<Currency, MappingError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(MappingError::new(field, "currency is missing"));
        }
        let upper = trimmed.to_ascii_uppercase();
        match iso_currency::Currency::from_code(&upper) {
            Some(iso) if iso.is_special() => Err(MappingError::new(
                field,
                format!(
                    "currency '{trimmed}' is an ISO 4217 special code ({}), not money a shop can charge",
                    iso.name()
                ),
            )),
            Some(iso) => Ok(Currency(iso)),
            None => {
                let error = MappingError::new(
                    field,
                    format!("currency '{trimmed}' is not an ISO 4217 code"),
                );
                Err(match suggest(trimmed) {
                    Some(code) => error.with_suggestion(code),
                    None => error,
                })
            }
        }
    }

    /// The upper-case ISO 4217 alpha code, e.g. `USD`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// The lower-case code Stripe's API takes, e.g. `usd`.
    pub fn stripe_code(&self) -> String {
        self.0.code().to_ascii_lowercase()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Ties between near-miss codes go to the currency a shop most likely uses.
const COMMON: &[&str] = &[
    "USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "CNY", "SEK", "NOK", "DKK", "PLN", "CZK",
    "HUF", "NZD", "SGD", "HKD", "INR", "MXN", "BRL", "ZAR",
];

const SYMBOLS: &[(&str, &str)] = &[
    ("$", "USD"),
    ("US$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("CA$", "CAD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("₽", "RUB"),
    ("₺", "TRY"),
    ("₪", "ILS"),
    ("฿", "THB"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
];

/// Names people write that differ from ISO's ("United States dollar", "Pound sterling"),
/// as lookup keys in the singular.
const NAME_ALIASES: &[(&str, &str)] = &[
    ("us dollar", "USD"),
    ("usd dollar", "USD"),
    ("american dollar", "USD"),
    ("dollar", "USD"),
    ("british pound", "GBP"),
    ("pound", "GBP"),
    ("sterling", "GBP"),
    ("yen", "JPY"),
    ("japan yen", "JPY"),
    ("yuan", "CNY"),
    ("chinese yuan", "CNY"),
    ("renminbi", "CNY"),
    ("korean won", "KRW"),
    ("swedish krona", "SEK"),
    ("czech crown", "CZK"),
    ("russian rouble", "RUB"),
];

fn suggest(raw: &str) -> Option<&'static str> {
    recognise(raw).map(|(code, _)| code)
}

/// How a text that is not an ISO 4217 code was read as one (the "did you mean" of
/// [`Currency::parse`], and the reason a suggested alias gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recognised {
    /// A currency sign (`€`, `US$`).
    Symbol,
    /// ISO's English name or a common one (`US Dollar`, `Pound Sterling`), singular or plural.
    Name,
    /// The letters of the text are a code, or one letter from one (`UDS`, `usd.`).
    NearCode,
    /// A code among other words (`USD - US Dollar`, `EUR (€)`), the only one there.
    CodeInText,
    /// Within two typos of a name (`Candian dollar`).
    NearName,
}

impl Recognised {
    /// Whether the text is the currency's sign or name, not a near miss.
    pub(crate) fn is_exact(self) -> bool {
        matches!(self, Recognised::Symbol | Recognised::Name)
    }
}

/// The chargeable ISO 4217 code `raw` most likely stands for, and how it was recognised.
pub(crate) fn recognise(raw: &str) -> Option<(&'static str, Recognised)> {
    let raw = raw.trim();
    if let Some((_, code)) = SYMBOLS.iter().find(|(symbol, _)| *symbol == raw) {
        return Some((code, Recognised::Symbol));
    }
    let key = singular(&lookup_key(raw));
    if let Some(code) = by_name(&key) {
        return Some((code, Recognised::Name));
    }
    let letters: String = raw.chars().filter(char::is_ascii_alphabetic).collect();
    if (2..=4).contains(&letters.len()) {
        if let Some(code) = near_code(&letters.to_ascii_uppercase()) {
            return Some((code, Recognised::NearCode));
        }
    }
    if let Some(code) = code_in_text(raw) {
        return Some((code, Recognised::CodeInText));
    }
    near_name(&key).map(|code| (code, Recognised::NearName))
}

/// The one chargeable code written as a word of `raw`, in capitals (`USD - US Dollar`).
fn code_in_text(raw: &str) -> Option<&'static str> {
    let mut codes: Vec<&'static str> = raw
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| word.len() == 3 && word.chars().all(|c| c.is_ascii_uppercase()))
        .filter_map(iso_currency::Currency::from_code)
        .filter(|iso| !iso.is_special())
        .map(|iso| iso.code())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    match codes.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

fn singular(key: &str) -> String {
    let words: Vec<&str> = key
        .split(' ')
        .map(|word| match word.strip_suffix('s') {
            Some(stem) if stem.len() >= 3 => stem,
            _ => word,
        })
        .collect();
    words.join(" ")
}

fn chargeable() -> impl Iterator<Item = iso_currency::Currency> {
    iso_currency::Currency::iter().filter(|iso| !iso.is_special())
}

fn by_name(key: &str) -> Option<&'static str> {
    if let Some((_, code)) = NAME_ALIASES.iter().find(|(alias, _)| *alias == key) {
        return Some(code);
    }
    chargeable()
        .find(|iso| singular(&lookup_key(iso.name())) == key)
        .map(|iso| iso.code())
}

fn near_code(upper: &str) -> Option<&'static str> {
    let candidates: Vec<&'static str> = chargeable()
        .map(|iso| iso.code())
        .filter(|code| strsim::osa_distance(code, upper) <= 1)
        .collect();
    if let Some(common) = COMMON.iter().find(|code| candidates.contains(code)) {
        return Some(common);
    }
    match candidates.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

fn near_name(key: &str) -> Option<&'static str> {
    if key.chars().count() < 4 {
        return None;
    }
    let names = NAME_ALIASES
        .iter()
        .map(|(alias, code)| (alias.to_string(), *code));
    let iso_names = chargeable().map(|iso| (singular(&lookup_key(iso.name())), iso.code()));
    names
        .chain(iso_names)
        .map(|(name, code)| (strsim::osa_distance(&name, key), code))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, code)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion_for(raw: &str) -> Option<String> {
        Currency::parse("OrderCurrencyCode", raw)
            .err()
            .and_then(|error| error.suggestion)
    }

    #[test]
    fn accepts_iso_codes_in_any_case_and_trims_them() {
        let currency = Currency::parse("OrderCurrencyCode", " usd ").unwrap();

        assert_eq!(currency.code(), "USD");
        assert_eq!(currency.stripe_code(), "usd");
        assert_eq!(Currency::parse("x", "Eur").unwrap().code(), "EUR");
    }

    #[test]
    fn a_currency_name_is_refused_with_its_code_as_the_suggestion() {
        let error = Currency::parse("OrderCurrencyCode", "US Dollar").unwrap_err();

        assert_eq!(
            error.to_string(),
            "OrderCurrencyCode: currency 'US Dollar' is not an ISO 4217 code — did you mean USD?"
        );
        assert_eq!(suggestion_for("us dollars").as_deref(), Some("USD"));
        assert_eq!(suggestion_for("Euro").as_deref(), Some("EUR"));
        assert_eq!(suggestion_for("Pound Sterling").as_deref(), Some("GBP"));
        assert_eq!(suggestion_for("Japanese yen").as_deref(), Some("JPY"));
        assert_eq!(suggestion_for("swiss francs").as_deref(), Some("CHF"));
    }

    #[test]
    fn a_symbol_is_refused_with_its_code_as_the_suggestion() {
        assert_eq!(suggestion_for("$").as_deref(), Some("USD"));
        assert_eq!(suggestion_for("€").as_deref(), Some("EUR"));
        assert_eq!(suggestion_for("£").as_deref(), Some("GBP"));
        assert_eq!(suggestion_for("¥").as_deref(), Some("JPY"));
    }

    #[test]
    fn a_near_miss_code_is_refused_with_the_closest_code_as_the_suggestion() {
        assert_eq!(suggestion_for("UDS").as_deref(), Some("USD"));
        assert_eq!(suggestion_for("EURO").as_deref(), Some("EUR"));
        assert_eq!(suggestion_for("GPB").as_deref(), Some("GBP"));
    }

    #[test]
    fn a_misspelt_name_is_refused_with_the_closest_currency() {
        assert_eq!(suggestion_for("Swedish kronor").as_deref(), Some("SEK"));
        assert_eq!(suggestion_for("Candian dollar").as_deref(), Some("CAD"));
    }

    #[test]
    fn a_code_among_other_words_is_suggested_when_it_is_the_only_one() {
        assert_eq!(suggestion_for("USD - US Dollar").as_deref(), Some("USD"));
        assert_eq!(
            recognise("EUR (Euro zone)"),
            Some(("EUR", Recognised::CodeInText))
        );
        assert_eq!(suggestion_for("USD or EUR"), None);
    }

    #[test]
    fn text_unlike_any_currency_gets_no_suggestion() {
        let error = Currency::parse("OrderCurrencyCode", "banana bread").unwrap_err();

        assert_eq!(error.suggestion, None);
        assert_eq!(
            error.to_string(),
            "OrderCurrencyCode: currency 'banana bread' is not an ISO 4217 code"
        );
    }

    #[test]
    fn an_empty_currency_is_missing() {
        let error = Currency::parse("OrderCurrencyCode", "  ").unwrap_err();

        assert_eq!(error.to_string(), "OrderCurrencyCode: currency is missing");
    }

    #[test]
    fn special_iso_codes_are_refused_because_nobody_pays_in_them() {
        let error = Currency::parse("OrderCurrencyCode", "XXX").unwrap_err();

        assert!(
            error.problem.contains("special code (No currency)"),
            "{error}"
        );
    }
}
