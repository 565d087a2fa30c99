//! US state and Canadian province names to the two-letter codes Stripe's `address.state` expects.

use super::CountryCode;
use crate::mapping::text::lookup_key;

#[rustfmt::skip]
const US_STATES: &[(&str, &str)] = &[
    ("Alabama", "AL"), ("Alaska", "AK"), ("Arizona", "AZ"), ("Arkansas", "AR"),
    ("California", "CA"), ("Colorado", "CO"), ("Connecticut", "CT"), ("Delaware", "DE"),
    ("Florida", "FL"), ("Georgia", "GA"), ("Hawaii", "HI"), ("Idaho", "ID"), ("Illinois", "IL"),
    ("Indiana", "IN"), ("Iowa", "IA"), ("Kansas", "KS"), ("Kentucky", "KY"),
    ("Louisiana", "LA"), ("Maine", "ME"), ("Maryland", "MD"), ("Massachusetts", "MA"),
    ("Michigan", "MI"), ("Minnesota", "MN"), ("Mississippi", "MS"), ("Missouri", "MO"),
    ("Montana", "MT"), ("Nebraska", "NE"), ("Nevada", "NV"), ("New Hampshire", "NH"),
    ("New Jersey", "NJ"), ("New Mexico", "NM"), ("New York", "NY"), ("North Carolina", "NC"),
    ("North Dakota", "ND"), ("Ohio", "OH"), ("Oklahoma", "OK"), ("Oregon", "OR"),
    ("Pennsylvania", "PA"), ("Rhode Island", "RI"), ("South Carolina", "SC"),
    ("South Dakota", "SD"), ("Tennessee", "TN"), ("Texas", "TX"), ("Utah", "UT"),
    ("Vermont", "VT"), ("Virginia", "VA"), ("Washington", "WA"), ("West Virginia", "WV"),
    ("Wisconsin", "WI"), ("Wyoming", "WY"), ("District of Columbia", "DC"),
    ("Washington DC", "DC"), ("Puerto Rico", "PR"), ("Guam", "GU"),
    ("U.S. Virgin Islands", "VI"), ("Virgin Islands", "VI"), ("American Samoa", "AS"),
    ("Northern Mariana Islands", "MP"),
];

#[rustfmt::skip]
const CA_PROVINCES: &[(&str, &str)] = &[
    ("Alberta", "AB"), ("British Columbia", "BC"), ("Manitoba", "MB"), ("New Brunswick", "NB"),
    ("Newfoundland and Labrador", "NL"), ("Newfoundland", "NL"), ("Nova Scotia", "NS"),
    ("Northwest Territories", "NT"), ("Nunavut", "NU"), ("Ontario", "ON"),
    ("Prince Edward Island", "PE"), ("Quebec", "QC"), ("Saskatchewan", "SK"), ("Yukon", "YT"),
    ("Yukon Territory", "YT"),
];

/// The state names paybridge knows for `country` (name, code), when it knows any.
pub(crate) fn known_states(
    country: &CountryCode,
) -> Option<&'static [(&'static str, &'static str)]> {
    match country.as_str() {
        "US" => Some(US_STATES),
        "CA" => Some(CA_PROVINCES),
        _ => None,
    }
}

/// Standardizes a state or province for `country`: for the US (states, DC and territories) and
/// Canada, full names become their two-letter codes and codes are upper-cased; anything else
/// — other countries, or a name not in the table — is returned trimmed as given.
pub fn standardize_state(country: &CountryCode, raw: &str) -> String {
    let trimmed = raw.trim();
    let Some(table) = known_states(country) else {
        return trimmed.to_string();
    };
    let key = lookup_key(trimmed);
    if let Some((_, code)) = table
        .iter()
        .find(|(name, code)| lookup_key(name) == key || code.eq_ignore_ascii_case(&key))
    {
        return (*code).to_string();
    }
    trimmed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::address::standardize_country;

    fn state(country: &str, raw: &str) -> String {
        standardize_state(
            &standardize_country("AddressCountry", country).unwrap(),
            raw,
        )
    }

    #[test]
    fn us_state_names_become_their_codes() {
        assert_eq!(state("US", "California"), "CA");
        assert_eq!(state("US", " new york "), "NY");
        assert_eq!(state("US", "Washington, D.C."), "DC");
        assert_eq!(state("US", "Puerto Rico"), "PR");
        assert_eq!(state("US", "Northern Mariana Islands"), "MP");
    }

    #[test]
    fn canadian_province_names_become_their_codes() {
        assert_eq!(state("CA", "Québec"), "QC");
        assert_eq!(state("CA", "British Columbia"), "BC");
        assert_eq!(state("CA", "Nunavut"), "NU");
    }

    #[test]
    fn codes_are_upper_cased() {
        assert_eq!(state("US", "tx"), "TX");
        assert_eq!(state("CA", "on"), "ON");
    }

    #[test]
    fn other_countries_and_unknown_names_are_kept_trimmed_as_given() {
        assert_eq!(state("DE", " Bayern "), "Bayern");
        assert_eq!(state("GB", "Greater London"), "Greater London");
        assert_eq!(state("US", "Atlantis"), "Atlantis");
    }

    #[test]
    fn the_tables_cover_every_state_territory_and_province() {
        let mut us: Vec<&str> = US_STATES.iter().map(|(_, code)| *code).collect();
        us.sort_unstable();
        us.dedup();
        let mut ca: Vec<&str> = CA_PROVINCES.iter().map(|(_, code)| *code).collect();
        ca.sort_unstable();
        ca.dedup();

        assert_eq!(us.len(), 50 + 6);
        assert_eq!(ca.len(), 13);
    }
}
