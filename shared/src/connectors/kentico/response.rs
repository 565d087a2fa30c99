//! Reads the Kentico REST service's JSON tolerantly: objects are found by type name wherever they sit, numbers and booleans may be strings.

use serde_json::{Map, Value};

use super::error::KenticoError;
use super::statuses::OrderStatus;

/// The JSON key Kentico wraps objects of `object_type` in: `ecommerce.order` → `ecommerce_order`.
fn type_key(object_type: &str) -> String {
    object_type.replace('.', "_")
}

/// Every object of `object_type` in `json`, in document order. Kentico wraps lists as
/// `{"<type>s": [{"<type>": [..]}, {"TotalRecords": ..}]}` but the outer plural (and
/// nesting) differs between versions, so this searches the whole tree for the key.
pub(crate) fn find_objects(json: &Value, object_type: &str) -> Vec<Map<String, Value>> {
    let wanted = type_key(object_type);
    let mut found = Vec::new();
    collect(json, &wanted, object_type, &mut found);
    found
}

fn collect(json: &Value, wanted: &str, dotted: &str, found: &mut Vec<Map<String, Value>>) {
    match json {
        Value::Object(map) => {
            for (key, value) in map {
                let matches = key.eq_ignore_ascii_case(wanted) || key.eq_ignore_ascii_case(dotted);
                match (matches, value) {
                    (true, Value::Array(items)) => {
                        found.extend(items.iter().filter_map(Value::as_object).cloned())
                    }
                    (true, Value::Object(object)) => found.push(object.clone()),
                    _ => collect(value, wanted, dotted, found),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect(item, wanted, dotted, found)),
        _ => {}
    }
}

/// Every object of `object_type` (`ecommerce.order`) in a raw REST answer, as
/// [`KenticoClient`](super::KenticoClient) reads a list: the body parsed as JSON (a leading
/// byte order mark skipped), then every object under the type's key wherever it sits. Public for
/// the fuzz targets (`fuzz/`), which feed it raw bodies.
pub fn decode_objects(
    body: &[u8],
    object_type: &str,
) -> Result<Vec<Map<String, Value>>, KenticoError> {
    Ok(find_objects(&parse_body(body)?, object_type))
}

/// The one object of `object_type` in a raw single-object answer (`GET /rest/<type>/<id>`),
/// as the client reads it; the first one when the body holds several.
pub fn decode_object(body: &[u8], object_type: &str) -> Result<Map<String, Value>, KenticoError> {
    single_object(&parse_body(body)?, object_type)
}

/// The order statuses in a raw `GET /rest/ecommerce.orderstatus` answer, as the client reads
/// them: rows without an ID or a name skipped, a document with neither statuses nor
/// `TotalRecords` 0 refused.
pub fn decode_order_statuses(body: &[u8]) -> Result<Vec<OrderStatus>, KenticoError> {
    order_statuses(&parse_body(body)?)
}

/// Parses a body as JSON; .NET services may start it with a UTF-8 byte order mark.
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, KenticoError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        KenticoError::Decode(format!(
            "response is not JSON ({e}); it starts with {start:?}"
        ))
    })
}

/// The one object of `object_type` in a single-object answer (`{"<type>": [ {..} ]}`).
pub(crate) fn single_object(
    json: &Value,
    object_type: &str,
) -> Result<Map<String, Value>, KenticoError> {
    find_objects(json, object_type)
        .into_iter()
        .next()
        .ok_or_else(|| {
            KenticoError::Decode(format!(
                "no `{}` object in the response",
                type_key(object_type)
            ))
        })
}

/// The order statuses in an `ecommerce.orderstatus` list answer. Rows without an ID or
/// a name are skipped (and logged): they cannot be matched anyway.
pub(crate) fn order_statuses(json: &Value) -> Result<Vec<OrderStatus>, KenticoError> {
    let rows = find_objects(json, "ecommerce.orderstatus");
    if rows.is_empty() && !reports_zero_records(json) {
        return Err(KenticoError::Decode(
            "no `ecommerce_orderstatus` objects in the order status list".into(),
        ));
    }
    Ok(rows.iter().filter_map(order_status).collect())
}

fn order_status(row: &Map<String, Value>) -> Option<OrderStatus> {
    let id = row.get("StatusID").and_then(as_i64);
    let name = row.get("StatusName").and_then(as_text);
    let (Some(id), Some(name)) = (id, name) else {
        tracing::warn!(
            ?row,
            "skipping a Kentico order status without StatusID or StatusName"
        );
        return None;
    };
    Some(OrderStatus {
        id,
        name,
        display_name: row.get("StatusDisplayName").and_then(as_text),
        site_id: row.get("StatusSiteID").and_then(as_i64),
        enabled: row.get("StatusEnabled").and_then(as_bool),
    })
}

/// An empty Kentico list carries only `{"TotalRecords": [{"TotalRecords": "0"}]}`.
fn reports_zero_records(json: &Value) -> bool {
    fn total(json: &Value) -> Option<i64> {
        match json {
            Value::Object(map) => map.iter().find_map(|(key, value)| match value {
                Value::Array(_) | Value::Object(_) => total(value),
                _ if key == "TotalRecords" => as_i64(value),
                _ => None,
            }),
            Value::Array(items) => items.iter().find_map(total),
            _ => None,
        }
    }
    total(json) == Some(0)
}

/// An integer sent as a number or a string (`6`, `"6"`, `6.0`).
pub fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean sent as `true`, `"true"`, `"True"`, `"1"` or `1`.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Non-empty text; numbers are accepted as their decimal form.
pub(crate) fn as_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paid(id: Value) -> Value {
        json!({"StatusID": id, "StatusName": "Paid", "StatusDisplayName": "Paid",
               "StatusSiteID": "1", "StatusEnabled": "True"})
    }

    #[test]
    fn reads_the_documented_list_shape_with_string_numbers() {
        let body = json!({"ecommerce_orderstatuses": [
            {"ecommerce_orderstatus": [paid(json!("6")),
                {"StatusID": 7, "StatusName": "Payment Failed", "StatusEnabled": false}]},
            {"TotalRecords": [{"TotalRecords": "2"}]}]});
        let statuses = order_statuses(&body).unwrap();
        assert_eq!(statuses.len(), 2);
        assert_eq!(
            statuses[0],
            OrderStatus {
                id: 6,
                name: "Paid".into(),
                display_name: Some("Paid".into()),
                site_id: Some(1),
                enabled: Some(true),
            }
        );
        assert_eq!(
            (statuses[1].id, statuses[1].enabled, statuses[1].site_id),
            (7, Some(false), None)
        );
    }

    #[test]
    fn finds_the_objects_whatever_the_outer_plural_is_called() {
        for outer in [
            "ecommerce_orderstatuss",
            "ecommerce_orderstatusinfos",
            "data",
        ] {
            let body = json!({ outer: [{"ecommerce_orderstatus": [paid(json!(6))]}] });
            assert_eq!(order_statuses(&body).unwrap()[0].id, 6, "outer key {outer}");
        }
    }

    #[test]
    fn finds_objects_in_odd_nestings_and_single_wrappings() {
        let body = json!([{"page": {"ecommerce_orderstatus": paid(json!(6.0))}},
                          {"ecommerce_orderstatus": [paid(json!(" 8 "))]}]);
        let ids: Vec<i64> = order_statuses(&body)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, vec![6, 8]);
    }

    #[test]
    fn an_empty_list_is_empty_but_a_foreign_document_is_an_error() {
        let empty = json!({"ecommerce_orderstatuses": [{"TotalRecords": [{"TotalRecords": "0"}]}]});
        assert_eq!(order_statuses(&empty).unwrap(), vec![]);
        assert!(matches!(
            order_statuses(&json!({"cms_users": []})),
            Err(KenticoError::Decode(_))
        ));
    }

    #[test]
    fn rows_without_id_or_name_are_skipped() {
        let body = json!({"x": [{"ecommerce_orderstatus": [{"StatusName": "Paid"},
            {"StatusID": "abc", "StatusName": "Paid"}, paid(json!(6))]}]});
        assert_eq!(order_statuses(&body).unwrap().len(), 1);
    }

    #[test]
    fn reads_a_single_object_and_tolerates_a_byte_order_mark() {
        let body = parse_body(b"\xEF\xBB\xBF{\"ecommerce_order\":[{\"OrderID\":\"42\"}]}").unwrap();
        let order = single_object(&body, "ecommerce.order").unwrap();
        assert_eq!(order.get("OrderID").and_then(as_i64), Some(42));
        assert!(matches!(
            single_object(&json!({}), "ecommerce.order"),
            Err(KenticoError::Decode(_))
        ));
    }

    #[test]
    fn an_html_page_is_a_decode_error_that_shows_its_start() {
        let Err(KenticoError::Decode(message)) = parse_body(b"<html><body>Login</body></html>")
        else {
            panic!("expected Decode");
        };
        assert!(message.contains("<html>"));
    }

    #[test]
    fn lenient_scalars_accept_kentico_spellings() {
        assert_eq!(as_bool(&json!("True")), Some(true));
        assert_eq!(as_bool(&json!("false")), Some(false));
        assert_eq!(as_bool(&json!(1)), Some(true));
        assert_eq!(as_bool(&json!("yes")), None);
        assert_eq!(as_i64(&json!("5")), Some(5));
        assert_eq!(as_i64(&json!(5.5)), None);
        assert_eq!(as_text(&json!("  ")), None);
    }
}
