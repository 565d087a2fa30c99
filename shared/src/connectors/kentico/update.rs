//! The write-back requests we send, validated here because Kentico's REST service validates nothing it is sent.

use serde_json::{Map, Value};

use super::custom_data::{validate_key, validate_value};
use super::error::KenticoError;

/// What to change on one order. Unset fields are left as they are in Kentico.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderUpdate {
    /// `OrderStatusID` (see [`super::OrderStatusResolver`] to get it from a name).
    pub status_id: Option<i64>,
    /// `OrderIsPaid`.
    pub is_paid: Option<bool>,
    /// Keys to set inside `OrderCustomData`, merged with what other modules stored there.
    pub custom_data: Vec<(String, String)>,
}

impl OrderUpdate {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.status_id.is_none() && self.is_paid.is_none() && self.custom_data.is_empty()
    }

    /// Checks everything we would send; `order_id` is the target.
    pub(crate) fn validate(&self, order_id: i64) -> Result<(), KenticoError> {
        validate_id("order", order_id)?;
        if let Some(status_id) = self.status_id {
            validate_id("order status", status_id)?;
        }
        for (key, value) in &self.custom_data {
            validate_key(key)?;
            validate_value(key, value)?;
        }
        Ok(())
    }

    /// Whether `order` (as Kentico returned it) already shows this update, with `merged` the
    /// `OrderCustomData` it would write: then writing it again changes nothing but would fire
    /// Kentico's status notifications a second time (a redelivered write, a write whose answer
    /// was lost).
    pub(crate) fn is_shown_by(&self, order: &Map<String, Value>, merged: Option<&str>) -> bool {
        let number = |v: &Value| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok());
        let flag = |v: &Value| {
            v.as_bool()
                .or_else(|| v.as_str()?.trim().to_ascii_lowercase().parse().ok())
        };
        let status = (self.status_id)
            .is_none_or(|id| order.get("OrderStatusID").and_then(number) == Some(id));
        let paid =
            (self.is_paid).is_none_or(|p| order.get("OrderIsPaid").and_then(flag) == Some(p));
        let custom = merged
            .is_none_or(|xml| order.get("OrderCustomData").and_then(Value::as_str) == Some(xml));
        status && paid && custom
    }

    /// `{"ecommerce.order": {...}}` with only the fields that are set; `custom_data_xml`
    /// is the already merged `OrderCustomData`.
    pub(crate) fn body(&self, custom_data_xml: Option<String>) -> Value {
        let mut fields = Map::new();
        if let Some(status_id) = self.status_id {
            fields.insert("OrderStatusID".into(), status_id.into());
        }
        if let Some(is_paid) = self.is_paid {
            fields.insert("OrderIsPaid".into(), is_paid.into());
        }
        if let Some(xml) = custom_data_xml {
            fields.insert("OrderCustomData".into(), xml.into());
        }
        Value::Object(Map::from_iter([(
            "ecommerce.order".to_string(),
            Value::Object(fields),
        )]))
    }
}

/// Kentico object IDs are positive; 0 or less would address nothing (or everything).
pub(crate) fn validate_id(what: &str, id: i64) -> Result<(), KenticoError> {
    if id > 0 {
        Ok(())
    } else {
        Err(KenticoError::Invalid(format!(
            "{what} ID must be positive, got {id}"
        )))
    }
}

/// Customer columns are plain names with scalar values: a nested object or array would
/// be read by the REST service as child objects to create.
pub(crate) fn validate_customer_fields(
    customer_id: i64,
    fields: &Map<String, Value>,
) -> Result<(), KenticoError> {
    validate_id("customer", customer_id)?;
    if fields.is_empty() {
        return Err(KenticoError::Invalid("no customer fields to update".into()));
    }
    for (column, value) in fields {
        let column_ok = column
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && column
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !column_ok {
            return Err(KenticoError::Invalid(format!(
                "{column:?} is not a Kentico column name"
            )));
        }
        match value {
            Value::Array(_) | Value::Object(_) => {
                return Err(KenticoError::Invalid(format!(
                    "{column} must be a scalar value"
                )));
            }
            Value::String(text) if text.chars().any(char::is_control) => {
                return Err(KenticoError::Invalid(format!(
                    "{column} contains a control character"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_order_already_showing_the_update_needs_no_write() {
        let order = |fields: Value| fields.as_object().unwrap().clone();
        let update = OrderUpdate {
            status_id: Some(6),
            is_paid: Some(true),
            custom_data: vec![("StripePaymentIntent".into(), "pi_1".into())],
        };
        let xml = "<CustomData><StripePaymentIntent>pi_1</StripePaymentIntent></CustomData>";
        let shown = order(json!({"OrderStatusID": 6, "OrderIsPaid": true, "OrderCustomData": xml}));
        assert!(update.is_shown_by(&shown, Some(xml)));
        // Kentico's REST service may render numbers and flags as text.
        let as_text =
            order(json!({"OrderStatusID": "6", "OrderIsPaid": "True", "OrderCustomData": xml}));
        assert!(update.is_shown_by(&as_text, Some(xml)));
        for differs in [
            json!({"OrderStatusID": 5, "OrderIsPaid": true, "OrderCustomData": xml}),
            json!({"OrderStatusID": 6, "OrderIsPaid": false, "OrderCustomData": xml}),
            json!({"OrderStatusID": 6, "OrderIsPaid": true, "OrderCustomData": "<CustomData/>"}),
            json!({"OrderStatusID": 6, "OrderCustomData": xml}),
        ] {
            assert!(
                !update.is_shown_by(&order(differs.clone()), Some(xml)),
                "{differs}"
            );
        }
    }

    #[test]
    fn sends_only_the_fields_that_are_set() {
        let update = OrderUpdate {
            status_id: Some(6),
            ..Default::default()
        };
        assert_eq!(
            update.body(None),
            json!({"ecommerce.order": {"OrderStatusID": 6}})
        );
        let update = OrderUpdate {
            status_id: Some(6),
            is_paid: Some(true),
            custom_data: vec![],
        };
        assert_eq!(
            update.body(Some("<CustomData/>".into())),
            json!({"ecommerce.order": {"OrderStatusID": 6, "OrderIsPaid": true, "OrderCustomData": "<CustomData/>"}})
        );
    }

    #[test]
    fn rejects_ids_that_address_nothing() {
        let update = OrderUpdate {
            status_id: Some(0),
            ..Default::default()
        };
        assert!(matches!(update.validate(42), Err(KenticoError::Invalid(_))));
        assert!(matches!(
            OrderUpdate::default().validate(0),
            Err(KenticoError::Invalid(_))
        ));
        assert!(
            OrderUpdate {
                status_id: Some(6),
                ..Default::default()
            }
            .validate(42)
            .is_ok()
        );
    }

    #[test]
    fn rejects_custom_data_that_kentico_would_store_broken() {
        for (key, value) in [("bad key", "v"), ("Ok", "line\nbreak")] {
            let update = OrderUpdate {
                custom_data: vec![(key.into(), value.into())],
                ..Default::default()
            };
            assert!(
                matches!(update.validate(42), Err(KenticoError::Invalid(_))),
                "{key}"
            );
        }
    }

    #[test]
    fn rejects_customer_fields_that_are_not_plain_columns() {
        let fields = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(validate_customer_fields(7, &fields(json!({"CustomerPhone": "+1 555"}))).is_ok());
        for bad in [
            json!({}),
            json!({"Customer Phone": "1"}),
            json!({"CustomerAddress": {"a": 1}}),
            json!({"CustomerEmail": "a\u{7}b"}),
        ] {
            assert!(
                validate_customer_fields(7, &fields(bad.clone())).is_err(),
                "{bad}"
            );
        }
        assert!(validate_customer_fields(0, &fields(json!({"CustomerPhone": "1"}))).is_err());
    }
}
