//! Text normalisation for lookups that accept what people type (countries, states, currency names).

/// Whether `text` has the shape of an e-mail address: one `@`, something before it, a dotted
/// domain after it, no whitespace (what Stripe would take; not whether it is deliverable).
pub(crate) fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// A comparison key: lower-case, common Latin diacritics folded, dots and apostrophes dropped,
/// `&` read as "and", other punctuation as a space, a leading "the" dropped and whitespace
/// collapsed — so "U.S.A." and "usa", "Côte d'Ivoire" and "cote divoire" compare equal.
pub(crate) fn lookup_key(raw: &str) -> String {
    let mut spaced = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        match c {
            '.' | '\'' | '’' | '`' => {}
            '&' => spaced.push_str(" and "),
            c if c.is_alphanumeric() => spaced.push(fold(c)),
            _ => spaced.push(' '),
        }
    }
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let words = match words.split_first() {
        Some((&"the", rest)) if !rest.is_empty() => rest,
        _ => &words[..],
    };
    words.join(" ")
}

fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'č' | 'ć' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ł' => 'l',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ř' => 'r',
        'š' | 'ś' => 's',
        'ù' | 'ú' | 'û' | 'ü' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'ž' | 'ź' | 'ż' => 'z',
        other => other,
    }
}

/// The JSON type of a value in words, for "found …" messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_case_and_accents_do_not_matter() {
        assert_eq!(lookup_key(" U.S.A. "), "usa");
        assert_eq!(lookup_key("Côte d'Ivoire"), "cote divoire");
        assert_eq!(lookup_key("Türkiye"), "turkiye");
    }

    #[test]
    fn a_leading_the_and_ampersands_are_normalised() {
        assert_eq!(lookup_key("The Netherlands"), "netherlands");
        assert_eq!(lookup_key("Bosnia & Herzegovina"), "bosnia and herzegovina");
        assert_eq!(lookup_key("Washington,  D.C."), "washington dc");
    }
}
