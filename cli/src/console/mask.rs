//! Personal data masked before a payload is shown: emails (`j***@example.com`), phone numbers
//! (all digits but the last two), names and address lines (each word's first letter).

use serde_json::Value;

/// `value` with every personal field masked: by its key (email, phone, name, address…) and,
/// whatever the key, any string that looks like an email address.
pub fn mask_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let masked = match v {
                        Value::String(text) => Value::String(mask_field(key, text)),
                        other => mask_json(other),
                    };
                    (key.clone(), masked)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask_json).collect()),
        Value::String(text) if looks_like_email(text) => Value::String(mask_email(text)),
        other => other.clone(),
    }
}

/// A JSON text, masked and pretty-printed; text that is not JSON is masked word by word.
pub fn mask_text(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            // An envelope's payload may be a JSON text itself.
            serde_json::to_string_pretty(&mask_json(&value)).unwrap_or_default()
        }
        Err(_) => text
            .split(' ')
            .map(|word| match looks_like_email(word) {
                true => mask_email(word),
                false => word.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The masked value of the string field `key`.
pub fn mask_field(key: &str, text: &str) -> String {
    let key = key.to_ascii_lowercase();
    if key.contains("email") || looks_like_email(text) {
        mask_email(text)
    } else if key.contains("phone") || key.contains("mobile") {
        mask_phone(text)
    } else if is_personal_text(&key) {
        mask_words(text)
    } else {
        text.to_string()
    }
}

/// Keys of names and address lines (not the names of statuses, types, events or products).
fn is_personal_text(key: &str) -> bool {
    let name = key.ends_with("name")
        && ![
            "status", "type", "event", "sku", "product", "display", "site", "code",
        ]
        .iter()
        .any(|not| key.contains(not));
    let address = ["address", "line1", "line2", "street", "postal", "zip"]
        .iter()
        .any(|part| key.contains(part));
    name || address
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.trim().split_once('@') else {
        return false;
    };
    !local.is_empty() && !local.contains(' ') && domain.contains('.') && !domain.contains(' ')
}

/// `jane@example.com` → `j***@example.com`.
pub fn mask_email(text: &str) -> String {
    match text.trim().split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => mask_words(text),
    }
}

/// `+44 20 7946 0958` → `+** ** **** **58`.
pub fn mask_phone(text: &str) -> String {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen + 2 <= digits { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// `Ada Lovelace` → `A*** L***`.
pub fn mask_words(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            let first: String = word.chars().take(1).collect();
            format!("{first}***")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn masks_emails_keeping_the_first_letter_and_the_domain() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email("not an email"), "n*** a*** e***");
    }

    #[test]
    fn masks_all_digits_of_a_phone_but_the_last_two() {
        assert_eq!(mask_phone("+44 20 7946 0958"), "+** ** **** **58");
        assert_eq!(mask_phone("7"), "7");
    }

    #[test]
    fn masks_personal_fields_anywhere_in_a_payload_and_leaves_the_rest() {
        let payload = json!({
            "payload": {"data": {"object": {
                "OrderID": 1042,
                "OrderStatusName": "Paid",
                "CustomerEmail": "ada@example.com",
                "CustomerFirstName": "Ada",
                "CustomerLastName": "Lovelace",
                "AddressLine1": "12 St James's Square",
                "AddressPhone": "+44 20 7946 0958",
                "notes": ["call grace@example.org"],
                "contact": "grace@example.org",
                "metadata": {"kentico_order_id": "1042"},
                "event_type": "order.created"
            }}}
        });

        let masked = mask_json(&payload);

        let object = &masked["payload"]["data"]["object"];
        assert_eq!(object["OrderID"], 1042);
        assert_eq!(object["OrderStatusName"], "Paid");
        assert_eq!(object["CustomerEmail"], "a***@example.com");
        assert_eq!(object["CustomerFirstName"], "A***");
        assert_eq!(object["CustomerLastName"], "L***");
        assert_eq!(object["AddressLine1"], "1*** S*** J*** S***");
        assert_eq!(object["AddressPhone"], "+** ** **** **58");
        assert_eq!(object["contact"], "g***@example.org");
        assert_eq!(object["metadata"]["kentico_order_id"], "1042");
        assert_eq!(object["event_type"], "order.created");
        let text = masked.to_string();
        assert!(
            !text.contains("ada@") && !text.contains("Lovelace"),
            "{text}"
        );
    }

    #[test]
    fn masks_a_text_that_is_not_json_word_by_word() {
        assert_eq!(
            mask_text("sent to ada@example.com twice"),
            "sent to a***@example.com twice"
        );
        assert!(mask_text(r#"{"email":"ada@example.com"}"#).contains("a***@example.com"));
    }
}
