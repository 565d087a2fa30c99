//! The document's alias tables applied to an order event's object before it is mapped: a
//! spelling the shop uses ("Great Britain", "US Dollar", "Calif.") becomes the code it stands
//! for, in the fields the order mapping reads — `OrderCurrencyCode`, and the country and state of
//! each address (`OrderBillingAddress` / `OrderShippingAddress` on Kentico 13,
//! `OrderAddresses[]` on Xperience by Kentico). A spelling matches ignoring case and the
//! whitespace around it; every other value is left as it is, for the built-in mapping to read.

use serde_json::Value;

use super::document::Aliases;
use crate::mapping::address::standardize_country;

/// The address objects of a Kentico 13 order, with their country and state columns.
const K13_ADDRESSES: [&str; 2] = ["OrderBillingAddress", "OrderShippingAddress"];
const K13_COUNTRY: &str = "AddressCountry";
const K13_STATE: &str = "AddressState";
/// The address list of an Xperience by Kentico order, with its entries' columns.
const XBYK_ADDRESSES: &str = "OrderAddresses";
const XBYK_COUNTRY: &str = "OrderAddressCountry";
const XBYK_STATE: &str = "OrderAddressState";
/// The order's currency.
const CURRENCY: &str = "OrderCurrencyCode";

/// What one application changed: `(field path, spelling, code)`.
pub type Replaced = Vec<(String, String, String)>;

impl Aliases {
    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.countries.is_empty() && self.states.is_empty() && self.currencies.is_empty()
    }

    /// Rewrites the aliased spellings in `object` (an order event's `data.object`) to their
    /// codes; what was replaced, for the log and the preview.
    pub fn apply_to_order(&self, object: &mut Value) -> Replaced {
        let mut replaced = Vec::new();
        if self.is_empty() {
            return replaced;
        }
        if let Some(slot) = object.get_mut(CURRENCY) {
            replace(slot, &self.currencies, CURRENCY, &mut replaced);
        }
        for name in K13_ADDRESSES {
            if let Some(address) = object.get_mut(name) {
                self.address(address, name, (K13_COUNTRY, K13_STATE), &mut replaced);
            }
        }
        if let Some(Value::Array(addresses)) = object.get_mut(XBYK_ADDRESSES) {
            for (index, address) in addresses.iter_mut().enumerate() {
                let path = format!("{XBYK_ADDRESSES}[{index}]");
                self.address(address, &path, (XBYK_COUNTRY, XBYK_STATE), &mut replaced);
            }
        }
        replaced
    }

    fn address(
        &self,
        address: &mut Value,
        path: &str,
        (country_column, state_column): (&str, &str),
        replaced: &mut Replaced,
    ) {
        if let Some(slot) = address.get_mut(country_column) {
            let field = format!("{path}.{country_column}");
            replace(slot, &self.countries, &field, replaced);
        }
        // A state spelling is the country's: the country as the built-in mapping will read it.
        let country = (address.get(country_column).and_then(Value::as_str))
            .and_then(|c| standardize_country(country_column, c).ok());
        let Some(states) = country.and_then(|c| self.states.get(c.as_str())) else {
            return;
        };
        if let Some(slot) = address.get_mut(state_column) {
            let field = format!("{path}.{state_column}");
            replace(slot, states, &field, replaced);
        }
    }
}

/// Replaces the text in `slot` with its code from `table`, if it has one.
fn replace(
    slot: &mut Value,
    table: &std::collections::BTreeMap<String, String>,
    field: &str,
    replaced: &mut Replaced,
) {
    let Some(text) = slot.as_str() else {
        return;
    };
    let wanted = text.trim();
    let found = (table.get(wanted)).or_else(|| {
        (table.iter())
            .find(|(spelling, _)| spelling.trim().eq_ignore_ascii_case(wanted))
            .map(|(_, code)| code)
    });
    if let Some(code) = found {
        replaced.push((field.to_string(), text.to_string(), code.clone()));
        *slot = Value::String(code.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn aliases() -> Aliases {
        serde_json::from_value(json!({
            "countries": {"Great Britain": "GB", "United Kingdom (GB)": "GB"},
            "states": {"US": {"Calif.": "CA"}},
            "currencies": {"US Dollar": "USD"}
        }))
        .unwrap()
    }

    #[test]
    fn rewrites_the_fields_the_kentico_13_mapping_reads() {
        let mut object = json!({
            "OrderCurrencyCode": " us dollar ",
            "OrderBillingAddress": {"AddressCountry": "great britain", "AddressState": "Calif."},
            "OrderShippingAddress": {"AddressCountry": "United States", "AddressState": "calif."},
            "OrderNote": "US Dollar"
        });
        let replaced = aliases().apply_to_order(&mut object);
        assert_eq!(object["OrderCurrencyCode"], "USD");
        assert_eq!(object["OrderBillingAddress"]["AddressCountry"], "GB");
        assert_eq!(
            object["OrderBillingAddress"]["AddressState"], "Calif.",
            "a US state spelling is not a British one"
        );
        assert_eq!(object["OrderShippingAddress"]["AddressState"], "CA");
        assert_eq!(object["OrderNote"], "US Dollar", "only the mapped fields");
        assert_eq!(
            replaced,
            vec![
                (
                    "OrderCurrencyCode".into(),
                    " us dollar ".into(),
                    "USD".into()
                ),
                (
                    "OrderBillingAddress.AddressCountry".into(),
                    "great britain".into(),
                    "GB".into()
                ),
                (
                    "OrderShippingAddress.AddressState".into(),
                    "calif.".into(),
                    "CA".into()
                ),
            ]
        );
    }

    #[test]
    fn rewrites_each_xperience_by_kentico_address() {
        let mut object = json!({
            "OrderAddresses": [
                {"OrderAddressType": "Billing", "OrderAddressCountry": "United Kingdom (GB)"},
                {"OrderAddressType": "Shipping", "OrderAddressCountry": "us", "OrderAddressState": "Calif."}
            ]
        });
        aliases().apply_to_order(&mut object);
        assert_eq!(object["OrderAddresses"][0]["OrderAddressCountry"], "GB");
        assert_eq!(object["OrderAddresses"][1]["OrderAddressState"], "CA");
    }

    #[test]
    fn no_aliases_change_nothing() {
        let mut object = json!({"OrderCurrencyCode": "US Dollar"});
        let before = object.clone();
        assert!(Aliases::default().apply_to_order(&mut object).is_empty());
        assert_eq!(object, before);
    }
}
