//! Evaluating a [`FieldRule`] on an order: the values a publish previews and the flows send.

use serde_json::Value;

use super::document::{FieldRule, Transform};
use crate::mapping::money::{Currency, parse_amount, to_minor_units};

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `Customer`.
    Key(String),
    /// `[0]`.
    Index(usize),
}

/// Parses `Customer.CustomerEmail` or `OrderItems[0].OrderItemSKU`; `None` when malformed.
pub fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(at) => part.split_at(at),
            None => (part, ""),
        };
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c == ']') {
            return None;
        }
        steps.push(Step::Key(key.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']')?;
            let index = rest.get(1..close)?.parse().ok()?;
            steps.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return None;
            }
        }
    }
    Some(steps)
}

/// The value at `path` in `object`, as text: strings as they are, numbers and booleans as
/// JSON writes them; absent, null, objects and arrays are `None`.
pub fn read(object: &Value, path: &str) -> Option<String> {
    let mut at = object;
    for step in parse_path(path)? {
        at = match step {
            Step::Key(key) => at.get(&key)?,
            Step::Index(index) => at.get(index)?,
        };
    }
    match at {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Why a rule could not make a value from this order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step}: {problem}")]
pub struct RuleError {
    /// The step (`from`, `transform[2]`).
    pub step: String,
    /// What went wrong.
    pub problem: String,
}

impl FieldRule {
    /// The rule's value for `object` (an event's `data.object`); `None` when it comes out empty.
    pub fn evaluate(&self, object: &Value) -> Result<Option<String>, RuleError> {
        let values: Vec<Option<String>> = self.from.iter().map(|p| read(object, p)).collect();
        let mut steps = self.transform.iter().enumerate().peekable();
        let mut current = match steps.peek() {
            Some((_, Transform::Concat { separator })) => {
                steps.next();
                Some(
                    values
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(separator),
                )
            }
            Some((_, Transform::Template { template })) => {
                steps.next();
                Some(fill(template, &values))
            }
            _ if values.len() == 1 => values[0].clone(),
            _ => {
                return Err(RuleError {
                    step: "from".into(),
                    problem: format!(
                        "{} fields need a concat or template step first",
                        values.len()
                    ),
                });
            }
        };
        for (index, step) in steps {
            let Some(value) = current.take() else { break };
            let at = || format!("transform[{index}]");
            current = Some(match step {
                Transform::Concat { .. } | Transform::Template { .. } => {
                    return Err(RuleError {
                        step: at(),
                        problem: "concat and template only come first".into(),
                    });
                }
                Transform::Lookup { table, default } => lookup(table, default.as_deref(), value),
                Transform::Upper => value.to_uppercase(),
                Transform::Lower => value.to_lowercase(),
                Transform::Trim => value.trim().to_string(),
                Transform::Truncate { length } => value.chars().take(*length).collect(),
                Transform::MinorUnits { currency_from } => {
                    let code = read(object, currency_from).unwrap_or_default();
                    let currency =
                        Currency::parse(currency_from, &code).map_err(|e| RuleError {
                            step: at(),
                            problem: e.to_string(),
                        })?;
                    let amount = parse_amount("value", Some(&Value::String(value)))
                        .and_then(|amount| to_minor_units("value", amount, &currency))
                        .map_err(|e| RuleError {
                            step: at(),
                            problem: e.to_string(),
                        })?;
                    amount.to_string()
                }
            });
        }
        Ok(current.filter(|value| !value.is_empty()))
    }
}

/// `template` with `{n}` replaced by the n-th value (a missing one by nothing).
fn fill(template: &str, values: &[Option<String>]) -> String {
    let mut out = template.to_string();
    for (index, value) in values.iter().enumerate() {
        out = out.replace(
            &format!("{{{index}}}"),
            value.as_deref().unwrap_or_default(),
        );
    }
    out
}

fn lookup(
    table: &std::collections::BTreeMap<String, String>,
    default: Option<&str>,
    value: String,
) -> String {
    let found = table.get(&value).or_else(|| {
        (table.iter())
            .find(|(key, _)| key.eq_ignore_ascii_case(&value))
            .map(|(_, replacement)| replacement)
    });
    match (found, default) {
        (Some(replacement), _) => replacement.clone(),
        (None, Some(default)) => default.to_string(),
        (None, None) => value,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(from: &[&str], transform: Value) -> FieldRule {
        serde_json::from_value(json!({"from": from, "transform": transform})).unwrap()
    }

    fn order() -> Value {
        json!({"OrderID": 1042, "OrderNumber": " ord-7 ", "OrderCurrencyCode": "JPY",
            "OrderGrandTotal": "1500", "OrderIsPaid": false,
            "Customer": {"CustomerEmail": "Ada@Example.com", "CustomerFirstName": "Ada"},
            "OrderItems": [{"OrderItemSKU": "EG-100"}, {"OrderItemSKU": null}]})
    }

    #[test]
    fn paths_reach_nested_fields_and_array_items() {
        let order = order();
        assert_eq!(read(&order, "OrderID").as_deref(), Some("1042"));
        assert_eq!(
            read(&order, "Customer.CustomerFirstName").as_deref(),
            Some("Ada")
        );
        assert_eq!(
            read(&order, "OrderItems[0].OrderItemSKU").as_deref(),
            Some("EG-100")
        );
        assert_eq!(read(&order, "OrderIsPaid").as_deref(), Some("false"));
        for absent in [
            "OrderItems[1].OrderItemSKU",
            "OrderItems[5].OrderItemSKU",
            "Customer",
            "Nope",
        ] {
            assert_eq!(read(&order, absent), None, "{absent}");
        }
        for malformed in ["", "a..b", "a[", "a[x]", "a[0]b", " a", "a]"] {
            assert_eq!(parse_path(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn steps_apply_in_order() {
        let order = order();
        let value =
            |from: &[&str], transform: Value| rule(from, transform).evaluate(&order).unwrap();
        assert_eq!(
            value(&["OrderNumber"], json!([{"op": "trim"}, {"op": "upper"}])).as_deref(),
            Some("ORD-7")
        );
        assert_eq!(
            value(
                &["Customer.CustomerFirstName", "OrderID"],
                json!([{"op": "template", "template": "{0} #{1}"}])
            )
            .as_deref(),
            Some("Ada #1042")
        );
        assert_eq!(
            value(
                &["Customer.CustomerFirstName", "Missing", "OrderID"],
                json!([{"op": "concat", "separator": "/"}])
            )
            .as_deref(),
            Some("Ada/1042")
        );
        assert_eq!(
            value(
                &["Customer.CustomerEmail"],
                json!([{"op": "lower"}, {"op": "truncate", "length": 3}])
            )
            .as_deref(),
            Some("ada")
        );
        assert_eq!(
            value(
                &["OrderCurrencyCode"],
                json!([{"op": "lookup", "table": {"jpy": "Yen"}}])
            )
            .as_deref(),
            Some("Yen"),
            "a lookup ignores case when nothing matches exactly"
        );
        assert_eq!(
            value(
                &["OrderNumber"],
                json!([{"op": "lookup", "table": {"x": "y"}, "default": "other"}])
            )
            .as_deref(),
            Some("other")
        );
        assert_eq!(
            value(
                &["OrderGrandTotal"],
                json!([{"op": "minor_units", "currency_from": "OrderCurrencyCode"}])
            )
            .as_deref(),
            Some("1500")
        );
        assert_eq!(value(&["Missing"], json!([{"op": "upper"}])), None);
    }

    #[test]
    fn a_rule_that_cannot_be_applied_says_where() {
        let order = order();
        let error = rule(&["OrderID", "OrderNumber"], json!([]))
            .evaluate(&order)
            .unwrap_err();
        assert_eq!(error.step, "from");
        let error = rule(
            &["OrderNumber"],
            json!([{"op": "minor_units", "currency_from": "OrderCurrencyCode"}]),
        )
        .evaluate(&order)
        .unwrap_err();
        assert_eq!(error.step, "transform[0]");
    }
}
