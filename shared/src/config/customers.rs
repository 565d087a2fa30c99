//! Who owns each customer field (`CUSTOMER_FIELD_OWNERS`), deciding which side's change is
//! written to the other.

use std::collections::BTreeMap;

/// The variable: `field=owner` pairs, e.g. `phone=stripe,email=kentico`.
pub const VAR_CUSTOMER_FIELD_OWNERS: &str = "CUSTOMER_FIELD_OWNERS";

/// The fields paybridge keeps in step, by their Stripe names.
pub const FIELDS: [&str; 3] = ["email", "name", "phone"];

/// Which system's value wins for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Kentico's value is written to Stripe; Stripe's changes are not written back.
    Kentico,
    /// Stripe's changes are written to Kentico.
    Stripe,
}

/// The owner of each field; Kentico owns every field unless configured otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldOwners {
    stripe_owned: BTreeMap<&'static str, Owner>,
}

impl FieldOwners {
    /// Makes `owner` the owner of `field`; `false` when `field` is not in [`FIELDS`].
    pub fn set(&mut self, field: &str, owner: Owner) -> bool {
        let Some(field) = FIELDS.iter().find(|f| **f == field) else {
            return false;
        };
        match owner {
            Owner::Stripe => self.stripe_owned.insert(field, owner),
            // Kentico owns what is not listed: one value, one representation.
            Owner::Kentico => self.stripe_owned.remove(field),
        };
        true
    }

    /// The owner of `field` (a name in [`FIELDS`]).
    pub fn owner(&self, field: &str) -> Owner {
        self.stripe_owned
            .get(field)
            .copied()
            .unwrap_or(Owner::Kentico)
    }
}

/// Reads `raw` (`field=kentico|stripe` pairs), every problem listed.
pub fn parse_field_owners(raw: &str) -> Result<FieldOwners, Vec<String>> {
    let mut owners = FieldOwners::default();
    let mut problems = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, owner)) = pair.split_once('=') else {
            problems.push(format!(
                "{VAR_CUSTOMER_FIELD_OWNERS}: '{pair}' is not field=owner"
            ));
            continue;
        };
        let Some(field) = FIELDS.iter().find(|f| f.eq_ignore_ascii_case(field.trim())) else {
            problems.push(format!(
                "{VAR_CUSTOMER_FIELD_OWNERS}: '{}' is not a customer field ({})",
                field.trim(),
                FIELDS.join(", ")
            ));
            continue;
        };
        let owner = match owner.trim().to_ascii_lowercase().as_str() {
            "kentico" => Owner::Kentico,
            "stripe" => Owner::Stripe,
            other => {
                problems.push(format!(
                    "{VAR_CUSTOMER_FIELD_OWNERS}: {field}='{other}' must be kentico or stripe"
                ));
                continue;
            }
        };
        owners.set(field, owner);
    }
    if problems.is_empty() {
        Ok(owners)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kentico_owns_everything_unless_told_and_nonsense_is_listed() {
        let default = parse_field_owners("").unwrap();
        assert!(FIELDS.iter().all(|f| default.owner(f) == Owner::Kentico));
        let owners = parse_field_owners(" Phone = stripe , email=kentico").unwrap();
        assert_eq!(owners.owner("phone"), Owner::Stripe);
        assert_eq!(owners.owner("email"), Owner::Kentico);
        let problems = parse_field_owners("fax=stripe,name=erp,phone").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
