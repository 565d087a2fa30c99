//! The `OrderAddresses` of an Xperience by Kentico order: `OrderAddressInfo` objects, each with
//! an `OrderAddressType` of `Billing` or `Shipping`.

use serde_json::Value;

use crate::mapping::address::{Address, RawAddress};
use crate::mapping::columns::Columns;
use crate::mapping::error::MappingError;
use crate::mapping::text::json_kind;

pub(crate) const ADDRESS_COLUMNS: &[&str] = &[
    "OrderAddressID",
    "OrderAddressGUID",
    "OrderAddressType",
    "OrderAddressFirstName",
    "OrderAddressLastName",
    "OrderAddressCompany",
    "OrderAddressEmail",
    "OrderAddressPhone",
    "OrderAddressLine1",
    "OrderAddressLine2",
    "OrderAddressCity",
    "OrderAddressZip",
    "OrderAddressCountry",
    "OrderAddressState",
];

/// An order's addresses sorted by type.
#[derive(Debug, Default)]
pub(crate) struct OrderAddresses {
    pub(crate) billing: Option<Address>,
    pub(crate) shipping: Option<Address>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AddressType {
    Billing,
    Shipping,
}

/// Reads `OrderAddresses`: exactly one `Billing` address and at most one `Shipping`. The type
/// is matched without case (`Billing`, `billing`); any other type is refused naming the entry,
/// since guessing would put the wrong address on an invoice or a parcel.
pub(crate) fn read_addresses(value: Option<&Value>) -> Result<OrderAddresses, MappingError> {
    let entries = match value {
        None => &Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(MappingError::new(
                "OrderAddresses",
                format!("is not a list of addresses (found {})", json_kind(other)),
            ));
        }
    };
    let mut addresses = OrderAddresses::default();
    let mut seen = (false, false);
    for (index, entry) in entries.iter().enumerate() {
        let path = format!("OrderAddresses[{index}]");
        let columns = Columns::new(entry, &path, format!("{path}."), ADDRESS_COLUMNS)?;
        let address_type = read_type(&columns)?;
        let (already, slot, name) = match address_type {
            AddressType::Billing => (&mut seen.0, &mut addresses.billing, "Billing"),
            AddressType::Shipping => (&mut seen.1, &mut addresses.shipping, "Shipping"),
        };
        if *already {
            return Err(MappingError::new(
                columns.field("OrderAddressType"),
                format!("is a second {name} address; an order has one"),
            ));
        }
        *already = true;
        *slot = read_address(&path, &columns)?;
    }
    if !seen.0 {
        return Err(MappingError::new(
            "OrderAddresses",
            "has no Billing address (OrderAddressType Billing)",
        ));
    }
    Ok(addresses)
}

fn read_type(columns: &Columns<'_>) -> Result<AddressType, MappingError> {
    let raw = columns.required_text("OrderAddressType")?;
    match raw.to_ascii_lowercase().as_str() {
        "billing" => Ok(AddressType::Billing),
        "shipping" => Ok(AddressType::Shipping),
        _ => Err(MappingError::new(
            columns.field("OrderAddressType"),
            format!("'{raw}' is not an address type (Billing or Shipping)"),
        )),
    }
}

/// First and last name make the addressee; company and email have no place in an address.
fn read_address(path: &str, columns: &Columns<'_>) -> Result<Option<Address>, MappingError> {
    let name = [
        columns.text("OrderAddressFirstName")?,
        columns.text("OrderAddressLastName")?,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Address::standardized(
        path,
        "OrderAddressCountry",
        RawAddress {
            name: Some(name).filter(|name| !name.is_empty()),
            line1: columns.text("OrderAddressLine1")?,
            line2: columns.text("OrderAddressLine2")?,
            city: columns.text("OrderAddressCity")?,
            zip: columns.text("OrderAddressZip")?,
            state: columns.text("OrderAddressState")?,
            country: columns.text("OrderAddressCountry")?,
            phone: columns.text("OrderAddressPhone")?,
        },
    )
}
