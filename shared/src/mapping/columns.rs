//! Typed reads of Kentico columns from event JSON, with errors that name the column path.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::mapping::error::MappingError;
use crate::mapping::money::parse_amount;
use crate::mapping::text::json_kind;

/// The columns of one Kentico object; `prefix` (e.g. `OrderItems[0].`) leads every field name.
pub(crate) struct Columns<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
    known: &'static [&'static str],
}

impl<'a> Columns<'a> {
    /// `path` names the object itself (e.g. `data.object`, `Customer`) when it is not one;
    /// `known` are its documented columns, never offered as a "did you mean".
    pub(crate) fn new(
        value: &'a Value,
        path: &str,
        prefix: String,
        known: &'static [&'static str],
    ) -> Result<Self, MappingError> {
        match value {
            Value::Object(object) => Ok(Self {
                object,
                prefix,
                known,
            }),
            other => Err(MappingError::new(
                path,
                format!("is not a JSON object (found {})", json_kind(other)),
            )),
        }
    }

    /// The full field name of `column`, e.g. `OrderItems[0].OrderItemUnitCount`.
    pub(crate) fn field(&self, column: &str) -> String {
        format!("{}{column}", self.prefix)
    }

    /// The column's value; absent and null are both `None`.
    pub(crate) fn get(&self, column: &str) -> Option<&'a Value> {
        self.object.get(column).filter(|value| !value.is_null())
    }

    /// "is missing", suggesting an undocumented key that looks like the column (other case,
    /// underscores, a typo, a shortened name) — the usual cause is a customised Kentico module.
    pub(crate) fn missing(&self, column: &str) -> MappingError {
        let error = MappingError::missing(self.field(column));
        let target = squash(column);
        let similar = self
            .object
            .keys()
            .filter(|key| !self.known.contains(&key.as_str()))
            .filter(|key| looks_alike(&squash(key), &target))
            .max_by(|a, b| {
                let similarity = |key: &str| strsim::normalized_levenshtein(&squash(key), &target);
                similarity(a).total_cmp(&similarity(b))
            });
        match similar {
            Some(key) => error.with_suggestion(format!("the field '{key}'")),
            None => error,
        }
    }

    /// Trimmed text; empty is `None`. Numbers are kept as their text (a numeric SKU number).
    pub(crate) fn text(&self, column: &str) -> Result<Option<String>, MappingError> {
        let text = match self.get(column) {
            None => return Ok(None),
            Some(Value::String(text)) => text.trim().to_string(),
            Some(Value::Number(number)) => number.to_string(),
            Some(other) => {
                return Err(MappingError::new(
                    self.field(column),
                    format!("is not text (found {})", json_kind(other)),
                ));
            }
        };
        Ok((!text.is_empty()).then_some(text))
    }

    pub(crate) fn required_text(&self, column: &str) -> Result<String, MappingError> {
        self.text(column)?.ok_or_else(|| self.missing(column))
    }

    /// A whole number from a JSON number or a numeric string; empty text is `None`.
    pub(crate) fn integer(&self, column: &str) -> Result<Option<i64>, MappingError> {
        let invalid = |shown: String| {
            MappingError::new(self.field(column), format!("{shown} is not a whole number"))
        };
        match self.get(column) {
            None => Ok(None),
            Some(Value::Number(number)) => {
                let text = number.to_string();
                whole_number(&text).map(Some).ok_or_else(|| invalid(text))
            }
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => whole_number(text.trim())
                .map(Some)
                .ok_or_else(|| invalid(format!("'{text}'"))),
            Some(other) => Err(invalid(format!("the value ({})", json_kind(other)))),
        }
    }

    /// A Kentico object ID: required and positive.
    pub(crate) fn id(&self, column: &str) -> Result<i64, MappingError> {
        match self.integer(column)? {
            Some(id) if id > 0 => Ok(id),
            Some(id) => Err(MappingError::new(
                self.field(column),
                format!("must be a positive ID, got {id}"),
            )),
            None => Err(self.missing(column)),
        }
    }

    /// true/false, "true"/"false" (any case), 1/0 or "1"/"0"; absent or empty is false.
    pub(crate) fn flag(&self, column: &str) -> Result<bool, MappingError> {
        let value = match self.get(column) {
            None => return Ok(false),
            Some(Value::Bool(flag)) => return Ok(*flag),
            Some(Value::Number(number)) => number.to_string(),
            Some(Value::String(text)) => text.trim().to_ascii_lowercase(),
            Some(other) => format!("the value ({})", json_kind(other)),
        };
        match value.as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" | "" => Ok(false),
            _ => Err(MappingError::new(
                self.field(column),
                format!("{value} is not true or false"),
            )),
        }
    }

    pub(crate) fn amount(&self, column: &str) -> Result<Option<Decimal>, MappingError> {
        self.get(column)
            .map(|value| parse_amount(&self.field(column), Some(value)))
            .transpose()
    }

    pub(crate) fn required_amount(&self, column: &str) -> Result<Decimal, MappingError> {
        self.amount(column)?.ok_or_else(|| self.missing(column))
    }

    /// A required amount greater than zero, e.g. a line's quantity.
    pub(crate) fn positive_amount(&self, column: &str) -> Result<Decimal, MappingError> {
        match self.amount(column)? {
            Some(amount) if amount > Decimal::ZERO => Ok(amount),
            Some(amount) => Err(MappingError::new(
                self.field(column),
                format!("must be greater than zero, got {amount}"),
            )),
            None => Err(self.missing(column)),
        }
    }

    /// An ISO 8601 date-time: RFC 3339 (`2026-11-29T12:00:00Z`, an offset, fractions), or
    /// without an offset as the Kentico module's older builds sent it, read as UTC.
    pub(crate) fn timestamp(&self, column: &str) -> Result<Option<OffsetDateTime>, MappingError> {
        let Some(raw) = self.text(column)? else {
            return Ok(None);
        };
        let parsed = OffsetDateTime::parse(&raw, &Rfc3339).ok().or_else(|| {
            PrimitiveDateTime::parse(&raw, LOCAL_ISO)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        });
        parsed.map(Some).ok_or_else(|| {
            MappingError::new(
                self.field(column),
                format!("'{raw}' is not an ISO 8601 date-time (e.g. 2026-11-29T12:00:00Z)"),
            )
        })
    }

    /// A GUID, braces stripped and lower-cased; the `N` format (no dashes) is refused with the
    /// dashed form suggested, since the GUID is the idempotency key and must have one spelling.
    pub(crate) fn guid(&self, column: &str) -> Result<Option<String>, MappingError> {
        let Some(raw) = self.text(column)? else {
            return Ok(None);
        };
        let inner = raw
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or(&raw)
            .to_ascii_lowercase();
        let hex = |part: &str, length: usize| {
            part.len() == length && part.bytes().all(|b| b.is_ascii_hexdigit())
        };
        let groups: Vec<&str> = inner.split('-').collect();
        if let [a, b, c, d, e] = groups.as_slice() {
            if hex(a, 8) && hex(b, 4) && hex(c, 4) && hex(d, 4) && hex(e, 12) {
                return Ok(Some(inner));
            }
        }
        let error = MappingError::new(
            self.field(column),
            format!("'{raw}' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"),
        );
        if hex(&inner, 32) {
            let dashed = [
                &inner[..8],
                &inner[8..12],
                &inner[12..16],
                &inner[16..20],
                &inner[20..],
            ];
            return Err(error.with_suggestion(dashed.join("-")));
        }
        Err(error)
    }
}

/// `2026-11-29T12:00:00`, with optional fractional seconds and no offset.
const LOCAL_ISO: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");

/// `1042`, or `1042.0` as .NET may print it; anything fractional or beyond i64 is `None`.
fn whole_number(text: &str) -> Option<i64> {
    text.parse().ok().or_else(|| {
        Decimal::from_str_exact(text)
            .ok()
            .filter(|number| number.fract().is_zero())
            .and_then(|number| number.to_i64())
    })
}

/// Same name but for a typo or two, or one shortened from the other (`OrderCurrency`).
fn looks_alike(squashed: &str, target: &str) -> bool {
    let (shorter, longer) = if squashed.len() <= target.len() {
        (squashed, target)
    } else {
        (target, squashed)
    };
    strsim::normalized_levenshtein(squashed, target) >= 0.75
        || (shorter.len() >= 8 && longer.starts_with(shorter))
}

/// Column names compared without case, underscores or other separators.
fn squash(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
