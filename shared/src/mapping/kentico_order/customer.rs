//! The Kentico customer: a `Customer` inside an order, or the object of a customer event.

use serde_json::Value;

use crate::mapping::columns::Columns;
use crate::mapping::error::MappingError;
use crate::mapping::text::looks_like_email;

pub(crate) const CUSTOMER_COLUMNS: &[&str] = &[
    "CustomerID",
    "CustomerGUID",
    "CustomerEmail",
    "CustomerFirstName",
    "CustomerLastName",
    "CustomerPhone",
    "CustomerCompany",
];

/// A Kentico customer; empty text columns are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KenticoCustomer {
    /// `CustomerID`, required and positive.
    pub id: i64,
    /// `CustomerGUID`, lower-case without braces.
    pub guid: Option<String>,
    /// `CustomerEmail`, checked to look like an address.
    pub email: Option<String>,
    /// `CustomerFirstName`.
    pub first_name: Option<String>,
    /// `CustomerLastName`.
    pub last_name: Option<String>,
    /// `CustomerPhone`.
    pub phone: Option<String>,
    /// `CustomerCompany`.
    pub company: Option<String>,
}

impl KenticoCustomer {
    /// First and last name joined by a space; `None` when both are empty.
    pub fn full_name(&self) -> Option<String> {
        let full = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(full).filter(|n| !n.is_empty())
    }

    /// Reads the customer of an `ecommerce.customer.*` event from its `data.object`.
    pub fn from_event_object(object: &Value) -> Result<KenticoCustomer, MappingError> {
        Self::read(object, "data.object", String::new())
    }

    /// Reads the `Customer` object nested in an order; errors name e.g. `Customer.CustomerID`.
    pub(crate) fn from_order(object: &Value) -> Result<KenticoCustomer, MappingError> {
        Self::read(object, "Customer", "Customer.".to_string())
    }

    fn read(object: &Value, path: &str, prefix: String) -> Result<KenticoCustomer, MappingError> {
        let columns = Columns::new(object, path, prefix, CUSTOMER_COLUMNS)?;
        let email = columns.text("CustomerEmail")?;
        if email
            .as_deref()
            .is_some_and(|email| !looks_like_email(email))
        {
            // Stripe refuses a malformed email on the customer, so say it here, where it is clear.
            // The value itself stays out of the reason (it is personal data, and reasons reach
            // logs and dead-letter attributes); `paybridge dlq show` has the event.
            return Err(MappingError::new(
                columns.field("CustomerEmail"),
                "is not an email address (the event shows the value: paybridge dlq show)",
            ));
        }
        Ok(KenticoCustomer {
            id: columns.id("CustomerID")?,
            guid: columns.guid("CustomerGUID")?,
            email,
            first_name: columns.text("CustomerFirstName")?,
            last_name: columns.text("CustomerLastName")?,
            phone: columns.text("CustomerPhone")?,
            company: columns.text("CustomerCompany")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_customer_event_object() {
        let object = json!({"CustomerID": "77", "CustomerGUID": "{0B7F3A52-8F87-4C1E-B0A4-1D5C3E2F9A10}",
            "CustomerEmail": " ada@example.com ", "CustomerFirstName": "Ada",
            "CustomerLastName": "Lovelace", "CustomerPhone": null, "CustomerCompany": ""});

        let customer = KenticoCustomer::from_event_object(&object).unwrap();

        assert_eq!(customer.id, 77);
        assert_eq!(
            customer.guid.as_deref(),
            Some("0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10")
        );
        assert_eq!(customer.email.as_deref(), Some("ada@example.com"));
        assert_eq!(customer.phone, None);
        assert_eq!(customer.company, None);
    }

    #[test]
    fn a_customer_without_an_id_is_refused() {
        let error = KenticoCustomer::from_event_object(&json!({"CustomerId": 77})).unwrap_err();

        assert_eq!(
            error.to_string(),
            "CustomerID: is missing — did you mean the field 'CustomerId'?"
        );
    }

    #[test]
    fn a_malformed_email_is_refused_naming_the_nested_column() {
        let object = json!({"CustomerID": 77, "CustomerEmail": "ada at example.com"});

        let error = KenticoCustomer::from_order(&object).unwrap_err();

        assert_eq!(
            error.to_string(),
            "Customer.CustomerEmail: is not an email address (the event shows the value: paybridge dlq show)"
        );
    }

    #[test]
    fn a_guid_without_dashes_is_refused_with_the_dashed_form_suggested() {
        let object = json!({"CustomerID": 77, "CustomerGUID": "0b7f3a528f874c1eb0a41d5c3e2f9a10"});

        let error = KenticoCustomer::from_event_object(&object).unwrap_err();

        assert_eq!(
            error.suggestion.as_deref(),
            Some("0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10")
        );
    }
}
