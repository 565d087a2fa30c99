//! Which Kentico sent an event: the top-level `"platform"` of the event body (docs/CONTRACTS.md#event-body).

use serde_json::Value;

use crate::mapping::error::MappingError;
use crate::mapping::text::json_kind;

/// The Kentico product whose column names an event's `data.object` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KenticoPlatform {
    /// Kentico 13 (Kentico Xperience 13): the module's events carry no `platform`.
    K13,
    /// Xperience by Kentico: the package's events carry `"platform": "xbyk"`.
    Xbyk,
}

impl KenticoPlatform {
    /// The value of `KENTICO_PLATFORM` and of an event's `platform`.
    pub fn key(self) -> &'static str {
        match self {
            KenticoPlatform::K13 => "k13",
            KenticoPlatform::Xbyk => "xbyk",
        }
    }

    /// The product's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            KenticoPlatform::K13 => "Kentico Xperience 13",
            KenticoPlatform::Xbyk => "Xperience by Kentico",
        }
    }

    /// Reads `platform` from an event body: absent or null is [`KenticoPlatform::K13`], `"k13"`
    /// and `"xbyk"` name theirs; anything else is refused rather than read with the wrong
    /// column names.
    pub fn from_event(event: &Value) -> Result<KenticoPlatform, MappingError> {
        let raw = match event.get("platform") {
            None | Some(Value::Null) => return Ok(KenticoPlatform::K13),
            Some(Value::String(raw)) => raw,
            Some(other) => {
                return Err(MappingError::new(
                    "platform",
                    format!("is not text (found {})", json_kind(other)),
                ));
            }
        };
        match raw.as_str() {
            "k13" => Ok(KenticoPlatform::K13),
            "xbyk" => Ok(KenticoPlatform::Xbyk),
            _ => {
                let error = MappingError::new(
                    "platform",
                    format!("'{raw}' is not a Kentico platform (k13 or xbyk)"),
                );
                let lower = raw.trim().to_ascii_lowercase();
                Err(match lower.as_str() {
                    "k13" | "xbyk" => error.with_suggestion(lower),
                    _ => error,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_platform_is_read_from_the_event_body() {
        let cases = [
            (
                json!({"type": "ecommerce.order.created"}),
                KenticoPlatform::K13,
            ),
            (json!({"platform": null}), KenticoPlatform::K13),
            (json!({"platform": "k13"}), KenticoPlatform::K13),
            (json!({"platform": "xbyk"}), KenticoPlatform::Xbyk),
        ];

        for (event, expected) in cases {
            assert_eq!(KenticoPlatform::from_event(&event), Ok(expected), "{event}");
        }
    }

    #[test]
    fn an_unknown_platform_is_refused_naming_the_field() {
        let cases = [
            (
                json!({"platform": "XbyK"}),
                "platform: 'XbyK' is not a Kentico platform (k13 or xbyk) — did you mean xbyk?",
            ),
            (
                json!({"platform": "kentico12"}),
                "platform: 'kentico12' is not a Kentico platform (k13 or xbyk)",
            ),
            (
                json!({"platform": 13}),
                "platform: is not text (found a number)",
            ),
        ];

        for (event, expected) in cases {
            let error = KenticoPlatform::from_event(&event).unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }
}
