//! Stripe's published request parameters (stripe-python's typed parameters for the pinned API
//! version, written to `target/stripe-params.json` by `infra/stripe-params.sh`), and a check of
//! each form or query against them: what Stripe would refuse, the fake refuses, with Stripe's
//! error shape.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde_json::{Value, json};

/// Where the definitions are read from, unless `PAYBRIDGE_STRIPE_PARAMS` names another file.
const DEFAULT_PATH: &str = "target/stripe-params.json";

/// The definitions of every call the fake serves, by `METHOD /v1/path/{id}`.
pub struct StripeParams {
    operations: HashMap<String, Value>,
}

/// A request Stripe would refuse: `(param, code, message)` of its `invalid_request_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub param: String,
    pub code: Option<&'static str>,
    pub message: String,
}

/// A form decoded into Stripe's bracket tree: `a[b][0]=x` is `{a: {b: {0: x}}}`.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Leaf(String),
    Tree(BTreeMap<String, Node>),
}

impl StripeParams {
    /// The definitions, generated on first use if they are missing.
    pub fn get() -> &'static StripeParams {
        static PARAMS: OnceLock<StripeParams> = OnceLock::new();
        PARAMS.get_or_init(|| {
            let root = crate::repo_root();
            let given = std::env::var("PAYBRIDGE_STRIPE_PARAMS").ok();
            let path = (given.as_ref())
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| root.join(DEFAULT_PATH));
            // The script does nothing when the file is newer than dump.py (and itself).
            if given.is_none() {
                let status = std::process::Command::new(root.join("infra/stripe-params.sh"))
                    .status()
                    .expect("infra/stripe-params.sh runs");
                assert!(status.success(), "infra/stripe-params.sh failed");
            }
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!("Stripe's parameter definitions at {}: {e}", path.display())
            });
            let document: Value = serde_json::from_str(&text).expect("the definitions are JSON");
            assert_eq!(
                document["api_version"],
                paybridge::connectors::stripe::DEFAULT_API_VERSION,
                "the parameter definitions are for another API version than paybridge pins: \
                 move stripe-python in infra/stripe-params.sh and dump.py with the pin"
            );
            let operations = document["operations"]
                .as_object()
                .expect("operations")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            StripeParams { operations }
        })
    }

    /// Whether Stripe accepts `form` (a body, or a GET's query) for `method path`; `None` when
    /// the call is not one Stripe offers (the fake answers 404 for those).
    pub fn check(
        &self,
        method: &str,
        path: &str,
        form: &[(String, String)],
    ) -> Option<Result<(), Refusal>> {
        let schema = self.operations.get(&operation(method, path))?;
        Some(tree(form).and_then(|root| check(schema, &root, "")))
    }
}

/// `POST /v1/payment_intents/pi_1/cancel` → `POST /v1/payment_intents/{id}/cancel`: the segment
/// after a collection is an object's id.
fn operation(method: &str, path: &str) -> String {
    const COLLECTIONS: [&str; 10] = [
        "invoices",
        "webhook_endpoints",
        "payment_intents",
        "sessions",
        "charges",
        "refunds",
        "customers",
        "balance_transactions",
        "disputes",
        "payouts",
    ];
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let named: Vec<&str> = (0..segments.len())
        .map(|i| match i.checked_sub(1).map(|p| segments[p]) {
            Some(previous) if COLLECTIONS.contains(&previous) => "{id}",
            _ => segments[i],
        })
        .collect();
    format!("{method} /{}", named.join("/"))
}

fn refusal(param: &str, code: Option<&'static str>, message: String) -> Refusal {
    Refusal {
        param: param.to_string(),
        code,
        message,
    }
}

fn tree(form: &[(String, String)]) -> Result<Node, Refusal> {
    let mut root = BTreeMap::new();
    for (key, value) in form {
        let (head, rest) = key.split_once('[').unwrap_or((key.as_str(), ""));
        let mut path = vec![head.to_string()];
        if !rest.is_empty() {
            let inner = rest
                .strip_suffix(']')
                .ok_or_else(|| refusal(key, None, format!("Invalid parameter name: {key}")))?;
            path.extend(inner.split("][").map(str::to_string));
        }
        insert(&mut root, &path, value, key)?;
    }
    Ok(Node::Tree(root))
}

fn insert(
    tree: &mut BTreeMap<String, Node>,
    path: &[String],
    value: &str,
    key: &str,
) -> Result<(), Refusal> {
    let (first, rest) = path.split_first().expect("a non-empty path");
    // `expand[]=a&expand[]=b`: an unindexed array appends.
    let name = if first.is_empty() {
        tree.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        if tree.insert(name, Node::Leaf(value.to_string())).is_some() {
            return Err(refusal(key, None, format!("Received {key} more than once")));
        }
        return Ok(());
    }
    let child = tree
        .entry(name)
        .or_insert_with(|| Node::Tree(BTreeMap::new()));
    match child {
        Node::Tree(subtree) => insert(subtree, rest, value, key),
        Node::Leaf(_) => Err(refusal(
            key,
            None,
            format!("Invalid {key}: a value was also given for its parent"),
        )),
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}[{key}]")
    }
}

fn check(schema: &Value, node: &Node, param: &str) -> Result<(), Refusal> {
    let leaf = match node {
        Node::Leaf(value) => Some(value.as_str()),
        Node::Tree(_) => None,
    };
    let expected = |what: &str| refusal(param, None, format!("Invalid {param}: expected {what}"));
    match schema["t"].as_str().unwrap_or_default() {
        "any" => Ok(()),
        "str" => leaf.map(|_| ()).ok_or_else(|| expected("a string")),
        "int" => match leaf {
            Some(v) if v.parse::<i64>().is_ok() => Ok(()),
            Some(v) => Err(refusal(
                param,
                Some("parameter_invalid_integer"),
                format!("Invalid integer: {v}"),
            )),
            None => Err(expected("an integer")),
        },
        "decimal" => match leaf {
            Some(v) if v.parse::<f64>().is_ok() => Ok(()),
            _ => Err(expected("a decimal")),
        },
        "bool" => match leaf {
            Some("true" | "false") => Ok(()),
            Some(v) => Err(refusal(param, None, format!("Invalid boolean: {v}"))),
            None => Err(expected("a boolean")),
        },
        "enum" => {
            let values: Vec<&str> = (schema["values"].as_array().into_iter().flatten())
                .filter_map(Value::as_str)
                .collect();
            match leaf {
                Some(v) if values.contains(&v) => Ok(()),
                _ => Err(refusal(
                    param,
                    None,
                    format!("Invalid {param}: must be one of {}", values.join(", ")),
                )),
            }
        }
        "list" => match node {
            Node::Tree(items) if items.keys().all(|k| k.parse::<usize>().is_ok()) => {
                for (index, item) in items {
                    check(&schema["item"], item, &join(param, index))?;
                }
                Ok(())
            }
            _ => Err(expected("an array")),
        },
        "map" => match node {
            Node::Tree(entries) => {
                for (key, value) in entries {
                    check(&schema["value"], value, &join(param, key))?;
                }
                Ok(())
            }
            Node::Leaf(_) => Err(expected("an object")),
        },
        "object" => check_object(schema, node, param),
        "union" => check_union(schema, node, param),
        other => panic!("unknown parameter type {other} in the definitions"),
    }
}

fn check_object(schema: &Value, node: &Node, param: &str) -> Result<(), Refusal> {
    let Node::Tree(fields) = node else {
        return Err(refusal(
            param,
            None,
            format!("Invalid {param}: expected an object"),
        ));
    };
    let known = &schema["fields"];
    for (name, value) in fields {
        let field = &known[name];
        if field.is_null() {
            let unknown = join(param, name);
            return Err(refusal(
                &unknown,
                Some("parameter_unknown"),
                format!("Received unknown parameter: {unknown}"),
            ));
        }
        check(field, value, &join(param, name))?;
    }
    for required in (schema["required"].as_array().into_iter().flatten()).filter_map(Value::as_str)
    {
        if !fields.contains_key(required) {
            let missing = join(param, required);
            return Err(refusal(
                &missing,
                Some("parameter_missing"),
                format!("Missing required param: {missing}."),
            ));
        }
    }
    Ok(())
}

/// Any alternative may match. stripe-python widens every enum with `|str` so new values do not
/// break its users' type checks; Stripe's API itself refuses a value outside the enum, so the
/// enum alone counts.
fn check_union(schema: &Value, node: &Node, param: &str) -> Result<(), Refusal> {
    let alternatives: Vec<&Value> = schema["of"].as_array().into_iter().flatten().collect();
    let has_enum = alternatives
        .iter()
        .any(|a| a["t"] == "enum" && a["values"] != json!([""]));
    let mut first_error = None;
    for alternative in alternatives {
        if has_enum && alternative["t"] == "str" {
            continue;
        }
        match check(alternative, node, param) {
            Ok(()) => return Ok(()),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| refusal(param, None, format!("Invalid {param}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn check_create(pairs: &[(&str, &str)]) -> Result<(), Refusal> {
        StripeParams::get()
            .check("POST", "/v1/payment_intents", &form(pairs))
            .expect("a known call")
    }

    #[test]
    fn what_stripe_documents_passes_and_what_it_does_not_is_refused_like_stripe() {
        assert_eq!(
            check_create(&[
                ("amount", "1099"),
                ("currency", "usd"),
                ("automatic_payment_methods[enabled]", "true"),
                ("metadata[kentico_order_id]", "1042"),
                ("shipping[name]", "Ada"),
                ("shipping[address][line1]", "12 St James's Square"),
            ]),
            Ok(())
        );
        let unknown = check_create(&[("amount", "1"), ("currency", "usd"), ("amont", "1")]);
        assert_eq!(unknown.unwrap_err().code, Some("parameter_unknown"));
        let missing = check_create(&[("amount", "1099")]).unwrap_err();
        assert_eq!(
            (missing.param.as_str(), missing.code),
            ("currency", Some("parameter_missing"))
        );
        let bad_enum = check_create(&[
            ("amount", "1"),
            ("currency", "usd"),
            ("capture_method", "later"),
        ]);
        assert_eq!(bad_enum.unwrap_err().param, "capture_method");
        let not_a_number = check_create(&[("amount", "10.99"), ("currency", "usd")]);
        assert_eq!(
            not_a_number.unwrap_err().code,
            Some("parameter_invalid_integer")
        );
        let nested = check_create(&[
            ("amount", "1"),
            ("currency", "usd"),
            ("shipping[address][planet]", "Mars"),
        ]);
        assert_eq!(nested.unwrap_err().param, "shipping[address][planet]");
    }

    #[test]
    fn queries_arrays_and_ids_in_paths_are_understood() {
        let params = StripeParams::get();
        let expand = form(&[("expand[]", "balance_transaction")]);
        assert_eq!(
            params.check("GET", "/v1/charges/ch_3Mtw", &expand),
            Some(Ok(()))
        );
        let list = form(&[("payment_intent", "pi_1"), ("limit", "10")]);
        assert_eq!(
            params.check("GET", "/v1/checkout/sessions", &list),
            Some(Ok(()))
        );
        assert_eq!(
            params.check("POST", "/v1/checkout/sessions/cs_test_a1/expire", &[]),
            Some(Ok(()))
        );
        assert_eq!(params.check("POST", "/v1/unknown_things", &[]), None);
        assert_eq!(
            params.check("GET", "/v1/payment_intents/pi_foreign", &[]),
            Some(Ok(()))
        );
    }

    #[test]
    fn a_webhook_endpoints_version_is_set_at_creation_only() {
        let params = StripeParams::get();
        let create = form(&[
            ("url", "https://a.example/webhooks/stripe"),
            ("enabled_events[0]", "payout.paid"),
            (
                "api_version",
                paybridge::connectors::stripe::DEFAULT_API_VERSION,
            ),
        ]);
        assert_eq!(
            params.check("POST", "/v1/webhook_endpoints", &create),
            Some(Ok(()))
        );
        let update = params
            .check("POST", "/v1/webhook_endpoints/we_1", &create)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            (update.param.as_str(), update.code),
            ("api_version", Some("parameter_unknown"))
        );
        let unknown_event = form(&[("enabled_events[0]", "payout.teleported")]);
        let refused = params.check("POST", "/v1/webhook_endpoints/we_1", &unknown_event);
        assert_eq!(refused.unwrap().unwrap_err().param, "enabled_events[0]");
    }
}
