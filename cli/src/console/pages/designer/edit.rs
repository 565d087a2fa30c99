//! The designer's changes to a working document: map a source field onto a target (a metadata
//! key, new or existing, or the statement descriptor suffix) with a transform, set a row's
//! transform, remove a row. The forms and the script send the same fields.

use std::collections::BTreeMap;

use paybridge::mapping_doc::MappingDocument;
use paybridge::mapping_doc::document::{FieldRule, MetadataRule, Transform};

/// A target row: `metadata:N`, `metadata:new`, `statement_descriptor_suffix`, `description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The Nth metadata rule.
    Metadata(usize),
    /// A new metadata key.
    NewMetadata,
    /// `statement_descriptor_suffix`.
    Suffix,
    /// `description`.
    Description,
}

impl Target {
    /// Reads a target's form value.
    pub fn parse(text: &str) -> Result<Target, String> {
        match text {
            "metadata:new" => Ok(Target::NewMetadata),
            "statement_descriptor_suffix" => Ok(Target::Suffix),
            "description" => Ok(Target::Description),
            other => other
                .strip_prefix("metadata:")
                .and_then(|n| n.parse().ok())
                .map(Target::Metadata)
                .ok_or_else(|| format!("'{other}' is not a target")),
        }
    }
}

/// The transform picker's choices (value, label).
pub const TRANSFORMS: [(&str, &str); 8] = [
    ("none", "none"),
    ("trim", "trim"),
    ("upper", "upper"),
    ("lower", "lower"),
    ("truncate", "truncate N"),
    ("template", "template"),
    ("lookup", "lookup table"),
    ("minor_units", "minor_units"),
];

/// The transform a picker choice and its argument make: `truncate` takes N, `template` the
/// template (`{0}` is the field), `lookup` `a=b; c=d`, `minor_units` the currency's path
/// (`OrderCurrencyCode` when empty).
pub fn transform(choice: &str, argument: &str) -> Result<Vec<Transform>, String> {
    let argument = argument.trim();
    let step = match choice {
        "" | "none" => return Ok(Vec::new()),
        "trim" => Transform::Trim,
        "upper" => Transform::Upper,
        "lower" => Transform::Lower,
        "truncate" => Transform::Truncate {
            length: argument
                .parse()
                .map_err(|_| format!("truncate takes a length (1–500), not '{argument}'"))?,
        },
        "template" if argument.is_empty() => {
            return Err("a template needs its text, e.g. `Order {0}`".into());
        }
        "template" => Transform::Template {
            template: argument.to_string(),
        },
        "lookup" => Transform::Lookup {
            table: lookup_table(argument)?,
            default: None,
        },
        "minor_units" => Transform::MinorUnits {
            currency_from: match argument {
                "" => "OrderCurrencyCode".to_string(),
                path => path.to_string(),
            },
        },
        other => return Err(format!("'{other}' is not a transform")),
    };
    Ok(vec![step])
}

fn lookup_table(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .map(|(from, to)| (from.trim().to_string(), to.trim().to_string()))
                .ok_or_else(|| format!("a lookup table reads `value=replacement; …`, not '{pair}'"))
        })
        .collect()
}

/// Maps `source` onto `target` (a new metadata key is named `key`) with `steps`.
pub fn map(
    document: &mut MappingDocument,
    source: &str,
    target: &Target,
    key: &str,
    steps: Vec<Transform>,
) -> Result<String, String> {
    let source = source.trim();
    if source.is_empty() {
        return Err("pick a source field first".into());
    }
    let rules = &mut document.payment_intent;
    match target {
        Target::NewMetadata => {
            let key = key.trim();
            if key.is_empty() {
                return Err("name the new metadata key".into());
            }
            if let Some(rule) = rules.metadata.iter_mut().find(|rule| rule.key == key) {
                rule.from = vec![source.to_string()];
                rule.transform = steps;
            } else {
                rules.metadata.push(MetadataRule {
                    key: key.to_string(),
                    from: vec![source.to_string()],
                    transform: steps,
                });
            }
            Ok(format!("{source} mapped to metadata[{key}]"))
        }
        Target::Metadata(index) => {
            let rule = rules
                .metadata
                .get_mut(*index)
                .ok_or_else(|| format!("there is no metadata rule {index}"))?;
            rule.from = vec![source.to_string()];
            rule.transform = steps;
            Ok(format!("{source} mapped to metadata[{}]", rule.key))
        }
        Target::Suffix => {
            rules.statement_descriptor_suffix = Some(FieldRule {
                from: vec![source.to_string()],
                transform: steps,
            });
            Ok(format!("{source} mapped to statement_descriptor_suffix"))
        }
        Target::Description => Err(
            "the description is a template of {items}, {order_id} and {order_number}, not a \
             field: edit its template instead"
                .into(),
        ),
    }
}

/// Sets a row's transform.
pub fn set_transform(
    document: &mut MappingDocument,
    target: &Target,
    steps: Vec<Transform>,
) -> Result<String, String> {
    let rules = &mut document.payment_intent;
    match target {
        Target::Metadata(index) => {
            let rule = rules
                .metadata
                .get_mut(*index)
                .ok_or_else(|| format!("there is no metadata rule {index}"))?;
            rule.transform = steps;
            Ok(format!("transform of metadata[{}] set", rule.key))
        }
        Target::Suffix => {
            let rule = rules
                .statement_descriptor_suffix
                .as_mut()
                .ok_or("the statement descriptor suffix is not mapped")?;
            rule.transform = steps;
            Ok("transform of statement_descriptor_suffix set".into())
        }
        Target::NewMetadata | Target::Description => Err("that row takes no transform".into()),
    }
}

/// Removes a row (the description goes back to the built-in one).
pub fn remove(document: &mut MappingDocument, target: &Target) -> Result<String, String> {
    let rules = &mut document.payment_intent;
    match target {
        Target::Metadata(index) if *index < rules.metadata.len() => {
            let rule = rules.metadata.remove(*index);
            Ok(format!("metadata[{}] removed", rule.key))
        }
        Target::Metadata(index) => Err(format!("there is no metadata rule {index}")),
        Target::Suffix => {
            rules.statement_descriptor_suffix = None;
            Ok("statement_descriptor_suffix removed".into())
        }
        Target::Description => {
            rules.description = None;
            Ok("description back to the built-in one".into())
        }
        Target::NewMetadata => Err("nothing to remove".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> MappingDocument {
        MappingDocument::parse(r#"{"schema": 1}"#).unwrap()
    }

    #[test]
    fn a_source_dropped_on_the_new_key_becomes_a_metadata_rule_and_can_be_removed() {
        let mut document = empty();
        let steps = transform("truncate", "20").unwrap();
        map(
            &mut document,
            "Customer.CustomerEmail",
            &Target::NewMetadata,
            "buyer_email",
            steps,
        )
        .unwrap();
        let rule = &document.payment_intent.metadata[0];
        assert_eq!(rule.key, "buyer_email");
        assert_eq!(rule.from, vec!["Customer.CustomerEmail".to_string()]);
        assert_eq!(rule.transform, vec![Transform::Truncate { length: 20 }]);
        remove(&mut document, &Target::Metadata(0)).unwrap();
        assert!(document.payment_intent.metadata.is_empty());
    }

    #[test]
    fn a_lookup_table_reads_pairs_and_refuses_anything_else() {
        let steps = transform("lookup", "New=open; Paid = paid").unwrap();
        let Transform::Lookup { table, .. } = &steps[0] else {
            panic!()
        };
        assert_eq!(table["Paid"], "paid");
        assert!(transform("lookup", "nonsense").is_err());
        assert!(transform("truncate", "many").is_err());
    }

    #[test]
    fn targets_read_their_form_values() {
        assert_eq!(Target::parse("metadata:3"), Ok(Target::Metadata(3)));
        assert_eq!(Target::parse("metadata:new"), Ok(Target::NewMetadata));
        assert!(Target::parse("amount").is_err());
    }
}
