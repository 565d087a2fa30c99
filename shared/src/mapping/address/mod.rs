//! Postal addresses from Kentico address objects, standardized the way Stripe's `address` wants.

mod country;
mod state;

use serde_json::{Map, Value};

pub use country::{CountryCode, standardize_country};
pub(crate) use state::known_states;
pub use state::standardize_state;

use crate::mapping::error::MappingError;
use crate::mapping::text::json_kind;

/// The columns of a Kentico 13 address object that [`Address::from_kentico`] reads.
pub(crate) const ADDRESS_COLUMNS: &[&str] = &[
    "AddressPersonalName",
    "AddressLine1",
    "AddressLine2",
    "AddressCity",
    "AddressZip",
    "AddressState",
    "AddressCountry",
    "AddressPhone",
];

/// Trims a postcode, collapses inner whitespace runs to one space and upper-cases it
/// (`"sw1y  4jh "` → `"SW1Y 4JH"`).
pub fn standardize_postcode(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// A standardized postal address; empty parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Address {
    /// `AddressPersonalName`.
    pub name: Option<String>,
    /// `AddressLine1`.
    pub line1: Option<String>,
    /// `AddressLine2`.
    pub line2: Option<String>,
    /// `AddressCity`.
    pub city: Option<String>,
    /// `AddressZip`, standardized by [`standardize_postcode`].
    pub postal_code: Option<String>,
    /// `AddressState`, standardized by [`standardize_state`] for the country.
    pub state: Option<String>,
    /// `AddressCountry`, standardized by [`standardize_country`].
    pub country: Option<CountryCode>,
    /// `AddressPhone`.
    pub phone: Option<String>,
}

/// An address's trimmed text parts as Kentico sent them, before standardization.
pub(crate) struct RawAddress {
    pub(crate) name: Option<String>,
    pub(crate) line1: Option<String>,
    pub(crate) line2: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) zip: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) country: Option<String>,
    pub(crate) phone: Option<String>,
}

impl Address {
    /// Reads the Kentico address object at `field` (e.g. `OrderShippingAddress`). An absent or
    /// null object, or one whose columns are all empty, is `Ok(None)`; empty or whitespace
    /// columns are `None`. Errors name the column, e.g. `OrderShippingAddress.AddressCountry`.
    pub fn from_kentico(
        field: &str,
        value: Option<&Value>,
    ) -> Result<Option<Address>, MappingError> {
        let object = match value {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(object)) => object,
            Some(other) => {
                return Err(MappingError::new(
                    field,
                    format!("is not an address object (found {})", json_kind(other)),
                ));
            }
        };
        let text = |column: &str| text_column(field, object, column);
        Self::standardized(
            field,
            "AddressCountry",
            RawAddress {
                name: text("AddressPersonalName")?,
                line1: text("AddressLine1")?,
                line2: text("AddressLine2")?,
                city: text("AddressCity")?,
                zip: text("AddressZip")?,
                state: text("AddressState")?,
                country: text("AddressCountry")?,
                phone: text("AddressPhone")?,
            },
        )
    }

    /// Standardizes the parts of an address read from any Kentico shape: the country (errors
    /// name `{field}.{country_column}`), the state for that country, the postcode. All parts
    /// empty is `Ok(None)`.
    pub(crate) fn standardized(
        field: &str,
        country_column: &str,
        raw: RawAddress,
    ) -> Result<Option<Address>, MappingError> {
        let country = raw
            .country
            .map(|code| standardize_country(&format!("{field}.{country_column}"), &code))
            .transpose()?;
        let state = raw.state.map(|state| match &country {
            Some(country) => standardize_state(country, &state),
            None => state,
        });
        let address = Address {
            name: raw.name,
            line1: raw.line1,
            line2: raw.line2,
            city: raw.city,
            postal_code: raw.zip.map(|zip| standardize_postcode(&zip)),
            state,
            country,
            phone: raw.phone,
        };
        let empty = Address {
            name: None,
            line1: None,
            line2: None,
            city: None,
            postal_code: None,
            state: None,
            country: None,
            phone: None,
        };
        Ok((address != empty).then_some(address))
    }
}

/// A trimmed text column; numbers are kept as their text because Kentico may send a ZIP as one.
fn text_column(
    field: &str,
    object: &Map<String, Value>,
    column: &str,
) -> Result<Option<String>, MappingError> {
    let text = match object.get(column) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.trim().to_string(),
        Some(Value::Number(number)) => number.to_string(),
        Some(other) => {
            return Err(MappingError::new(
                format!("{field}.{column}"),
                format!("is not text (found {})", json_kind(other)),
            ));
        }
    };
    Ok((!text.is_empty()).then_some(text))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn postcodes_are_trimmed_collapsed_and_upper_cased() {
        assert_eq!(standardize_postcode("sw1y  4jh "), "SW1Y 4JH");
        assert_eq!(standardize_postcode("\t10115\n"), "10115");
    }

    #[test]
    fn reads_a_kentico_address_standardizing_country_state_and_postcode() {
        let value = json!({
            "AddressPersonalName": " Grace Hopper ", "AddressLine1": "1 Navy Way",
            "AddressLine2": "  ", "AddressCity": "Arlington", "AddressZip": 22202,
            "AddressState": "virginia", "AddressCountry": "United States of America",
            "AddressPhone": ""
        });

        let address = Address::from_kentico("OrderBillingAddress", Some(&value))
            .unwrap()
            .unwrap();

        assert_eq!(address.name.as_deref(), Some("Grace Hopper"));
        assert_eq!(address.line2, None);
        assert_eq!(address.postal_code.as_deref(), Some("22202"));
        assert_eq!(address.state.as_deref(), Some("VA"));
        assert_eq!(address.country.map(|c| c.as_str()), Some("US"));
        assert_eq!(address.phone, None);
        assert_eq!(
            serde_json::to_value(&address).unwrap()["country"],
            json!("US")
        );
    }

    #[test]
    fn an_absent_null_or_all_empty_address_is_none() {
        assert_eq!(Address::from_kentico("OrderBillingAddress", None), Ok(None));
        assert_eq!(
            Address::from_kentico("OrderBillingAddress", Some(&Value::Null)),
            Ok(None)
        );
        let blank = json!({"AddressLine1": " ", "AddressCountry": ""});
        assert_eq!(
            Address::from_kentico("OrderBillingAddress", Some(&blank)),
            Ok(None)
        );
    }

    #[test]
    fn an_unknown_country_names_the_full_column_path() {
        let value = json!({"AddressCountry": "Germny"});

        let error = Address::from_kentico("OrderShippingAddress", Some(&value)).unwrap_err();

        assert_eq!(error.field, "OrderShippingAddress.AddressCountry");
        assert_eq!(error.suggestion.as_deref(), Some("DE (Germany)"));
    }

    #[test]
    fn a_column_of_the_wrong_type_is_refused() {
        let value = json!({"AddressCity": ["London"]});

        let error = Address::from_kentico("OrderBillingAddress", Some(&value)).unwrap_err();

        assert_eq!(
            error.to_string(),
            "OrderBillingAddress.AddressCity: is not text (found an array)"
        );
        let error =
            Address::from_kentico("OrderBillingAddress", Some(&json!("London"))).unwrap_err();
        assert_eq!(error.problem, "is not an address object (found a string)");
    }
}
