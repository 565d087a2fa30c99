//! Merges our keys into Kentico's `OrderCustomData` XML (`<CustomData><Key>value</Key>…</CustomData>`) without losing what other modules stored there.

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::Event;

use super::error::KenticoError;

/// Longest custom-data value we write; the field is one nvarchar(max) shared by every module.
pub const MAX_VALUE_CHARS: usize = 4000;

/// Kentico's custom-data root element (CMS.Helpers.CustomData). Kentico parses the field
/// only when it starts with exactly `<CustomData>` (any case); anything else is kept as
/// one opaque value, so we always write the bare root with no attributes or declaration.
const ROOT: &str = "CustomData";

/// Returns `existing` (the order's current `OrderCustomData`) with every key of `updates`
/// set to its value: elements we set are replaced in place, all other elements (and their
/// attributes and children) are kept byte for byte, new keys are appended. Keys match
/// ASCII-case-insensitively because Kentico's custom-data dictionary does. An empty
/// `existing` starts a new `<CustomData>`; one that is not `<CustomData>` XML is refused
/// (`Decode`) rather than overwritten.
pub fn merge_custom_data(
    existing: &str,
    updates: &[(String, String)],
) -> Result<String, KenticoError> {
    for (key, value) in updates {
        validate_key(key)?;
        validate_value(key, value)?;
    }
    if updates.is_empty() {
        return Ok(existing.to_string());
    }
    // Later duplicates win, like a dictionary assignment.
    let mut ours: Vec<(&str, &str)> = Vec::new();
    for (key, value) in updates {
        match ours.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(slot) => slot.1 = value,
            None => ours.push((key, value)),
        }
    }
    let element = |key: &str, value: &str| format!("<{key}>{}</{key}>", escape(value));

    let mut out = format!("<{ROOT}>");
    let mut written = vec![false; ours.len()];
    for segment in top_level_segments(existing.trim())? {
        let Segment::Element { name, raw } = segment else {
            if let Segment::Other(raw) = segment {
                out.push_str(raw);
            }
            continue;
        };
        match ours
            .iter()
            .position(|(key, _)| key.eq_ignore_ascii_case(&name))
        {
            Some(i) if !written[i] => {
                out.push_str(&element(ours[i].0, ours[i].1));
                written[i] = true;
            }
            // A second copy of one of our keys: drop it, or Kentico's last-wins would revive it.
            Some(_) => {}
            None => out.push_str(raw),
        }
    }
    for (i, (key, value)) in ours.iter().enumerate() {
        if !written[i] {
            out.push_str(&element(key, value));
        }
    }
    out.push_str(&format!("</{ROOT}>"));
    Ok(out)
}

/// A custom-data key must be an XML element name. We accept the ASCII subset
/// (`[A-Za-z_][A-Za-z0-9_.-]*`, not starting with `xml`), which is also a safe column name.
pub fn validate_key(key: &str) -> Result<(), KenticoError> {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let reserved = key.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml"));
    if first_ok && rest_ok && !reserved {
        Ok(())
    } else {
        Err(KenticoError::Invalid(format!(
            "custom data key {key:?} is not a valid XML element name (letters, digits, _ - ., \
             starting with a letter or _, not with \"xml\")"
        )))
    }
}

/// Values Kentico will store as given: at most [`MAX_VALUE_CHARS`], no control characters.
pub fn validate_value(key: &str, value: &str) -> Result<(), KenticoError> {
    let length = value.chars().count();
    if length > MAX_VALUE_CHARS {
        return Err(KenticoError::Invalid(format!(
            "value for {key:?} is {length} characters long; the limit is {MAX_VALUE_CHARS}"
        )));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(KenticoError::Invalid(format!(
            "value for {key:?} contains the control character {c:?}"
        )));
    }
    Ok(())
}

/// A direct child of the root: an element (its name and exact source) or anything else.
enum Segment<'a> {
    Element { name: String, raw: &'a str },
    Other(&'a str),
}

/// Splits `<CustomData>…</CustomData>` into its direct children, each as its source text.
fn top_level_segments(xml: &str) -> Result<Vec<Segment<'_>>, KenticoError> {
    if xml.is_empty() {
        return Ok(Vec::new());
    }
    let refuse = |why: String| {
        KenticoError::Decode(format!(
            "OrderCustomData is not Kentico <{ROOT}> XML ({why}); refusing to overwrite it"
        ))
    };
    let slice = |from: u64, to: u64| {
        xml.get(from as usize..to as usize)
            .ok_or_else(|| refuse("bad offsets".to_string()))
    };
    let mut reader = Reader::from_str(xml);
    match reader.read_event() {
        Ok(Event::Start(root))
            if is_root(root.name().as_ref()) && root.attributes_raw().trim_ascii().is_empty() => {}
        Ok(Event::Empty(root)) if is_root(root.name().as_ref()) => return Ok(Vec::new()),
        Ok(_) => return Err(refuse(format!("it does not start with <{ROOT}>"))),
        Err(e) => return Err(refuse(e.to_string())),
    }
    let mut segments = Vec::new();
    loop {
        let from = reader.buffer_position();
        let event = reader.read_event().map_err(|e| refuse(e.to_string()))?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                reader
                    .read_to_end(start.name())
                    .map_err(|e| refuse(e.to_string()))?;
                let raw = slice(from, reader.buffer_position())?;
                segments.push(Segment::Element { name, raw });
            }
            Event::Empty(empty) => {
                let name = String::from_utf8_lossy(empty.name().as_ref()).into_owned();
                let raw = slice(from, reader.buffer_position())?;
                segments.push(Segment::Element { name, raw });
            }
            Event::End(_) => break,
            Event::Eof => return Err(refuse(format!("<{ROOT}> is never closed"))),
            _ => segments.push(Segment::Other(slice(from, reader.buffer_position())?)),
        }
    }
    if !xml[reader.buffer_position() as usize..].trim().is_empty() {
        return Err(refuse(format!("there is content after </{ROOT}>")));
    }
    // Without child elements Kentico reads the root's text as one legacy value; adding an
    // element would make it ignore that text, so the value would be lost.
    let has_elements = segments
        .iter()
        .any(|s| matches!(s, Segment::Element { .. }));
    let has_text = segments.iter().any(|s| {
        matches!(s, Segment::Other(raw) if !raw.trim().is_empty() && !raw.trim_start().starts_with("<!--"))
    });
    if has_text && !has_elements {
        return Err(refuse("it holds a single legacy text value".to_string()));
    }
    Ok(segments)
}

fn is_root(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(ROOT.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_empty_field_starts_a_new_custom_data() {
        let merged = merge_custom_data("", &set(&[("StripePaymentIntent", "pi_1")])).unwrap();
        assert_eq!(
            merged,
            "<CustomData><StripePaymentIntent>pi_1</StripePaymentIntent></CustomData>"
        );
        assert_eq!(
            merge_custom_data("  <CustomData/> ", &set(&[("A", "1")])).unwrap(),
            "<CustomData><A>1</A></CustomData>"
        );
    }

    #[test]
    fn keeps_foreign_elements_byte_for_byte_and_replaces_ours_in_place() {
        let existing = "<CustomData><ErpRef kind=\"x\">E-1 &amp; co</ErpRef>\
                        <StripePaymentIntent>pi_old</StripePaymentIntent><Gift><To>Ann</To></Gift>\
                        <Note/></CustomData>";
        let merged =
            merge_custom_data(existing, &set(&[("StripePaymentIntent", "pi_new")])).unwrap();
        assert_eq!(
            merged,
            "<CustomData><ErpRef kind=\"x\">E-1 &amp; co</ErpRef>\
                            <StripePaymentIntent>pi_new</StripePaymentIntent><Gift><To>Ann</To></Gift>\
                            <Note/></CustomData>"
        );
    }

    #[test]
    fn escapes_markup_in_values() {
        let merged = merge_custom_data("", &set(&[("Memo", "a<b & c>d \"q\"")])).unwrap();
        assert_eq!(
            merged,
            "<CustomData><Memo>a&lt;b &amp; c&gt;d &quot;q&quot;</Memo></CustomData>"
        );
    }

    #[test]
    fn matches_keys_like_kentico_ignoring_case_and_drops_stale_duplicates() {
        let existing =
            "<customdata><stripeid>1</stripeid><Other>o</Other><STRIPEID>2</STRIPEID></customdata>";
        let merged =
            merge_custom_data(existing, &set(&[("StripeId", "x"), ("StripeId", "y")])).unwrap();
        assert_eq!(
            merged,
            "<CustomData><StripeId>y</StripeId><Other>o</Other></CustomData>"
        );
    }

    #[test]
    fn refuses_to_overwrite_a_field_that_is_not_custom_data_xml() {
        for existing in [
            "legacy plain value",
            "<Data><A>1</A></Data>",
            "<CustomData><A>1</A>",
            "<CustomData a=\"1\"><A>1</A></CustomData>",
            "<CustomData></CustomData>tail",
            "<CustomData>legacy &amp; text</CustomData>",
        ] {
            let result = merge_custom_data(existing, &set(&[("A", "2")]));
            assert!(
                matches!(result, Err(KenticoError::Decode(_))),
                "{existing}: {result:?}"
            );
        }
    }

    #[test]
    fn rejects_keys_that_are_not_element_names() {
        for key in ["", "1abc", "a b", "a<b", "xmlThing", "ns:key", "é"] {
            assert!(
                matches!(validate_key(key), Err(KenticoError::Invalid(_))),
                "{key:?}"
            );
        }
        for key in ["StripePaymentIntent", "_x", "a-b.c_1"] {
            assert!(validate_key(key).is_ok(), "{key:?}");
        }
    }

    #[test]
    fn rejects_long_values_and_control_characters_before_touching_the_xml() {
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        assert!(matches!(
            merge_custom_data("junk", &set(&[("A", &long)])),
            Err(KenticoError::Invalid(_))
        ));
        assert!(matches!(
            merge_custom_data("", &set(&[("A", "a\u{0}b")])),
            Err(KenticoError::Invalid(_))
        ));
        assert!(validate_value("A", &"é".repeat(MAX_VALUE_CHARS)).is_ok());
    }
}
