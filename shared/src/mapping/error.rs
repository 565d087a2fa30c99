//! The one error every mapping rule returns: which Kentico field, what is wrong, and a likely fix.

/// A permanent mapping failure. It becomes the dead-letter reason a shop operator reads, so
/// `field` names the Kentico column (e.g. `OrderShippingAddress.AddressCountry`) and
/// `problem` quotes the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}{}", .field, .problem, SuggestionSuffix(.suggestion))]
pub struct MappingError {
    /// The Kentico column (with its path, e.g. `OrderItems[1].OrderItemUnitCount`).
    pub field: String,
    /// What is wrong with the value, quoting it.
    pub problem: String,
    /// What the operator probably meant, shown as "did you mean …?".
    pub suggestion: Option<String>,
}

impl MappingError {
    /// An error about `field` without a suggestion.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
            suggestion: None,
        }
    }

    /// Adds what the operator probably meant.
    #[must_use]
    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// The error for a field that is absent, null or empty.
    pub fn missing(field: impl Into<String>) -> Self {
        Self::new(field, "is missing")
    }
}

struct SuggestionSuffix<'a>(&'a Option<String>);

impl std::fmt::Display for SuggestionSuffix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(suggestion) => write!(f, " — did you mean {suggestion}?"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_the_field_and_the_problem() {
        let error = MappingError::new("OrderCurrencyCode", "currency is missing");

        assert_eq!(error.to_string(), "OrderCurrencyCode: currency is missing");
    }

    #[test]
    fn appends_the_suggestion_as_a_question() {
        let error = MappingError::new(
            "OrderCurrencyCode",
            "currency 'US Dollar' is not an ISO 4217 code",
        )
        .with_suggestion("USD");

        assert_eq!(
            error.to_string(),
            "OrderCurrencyCode: currency 'US Dollar' is not an ISO 4217 code — did you mean USD?"
        );
        assert_eq!(error.suggestion.as_deref(), Some("USD"));
    }

    #[test]
    fn a_missing_field_says_so() {
        assert_eq!(
            MappingError::missing("OrderID").to_string(),
            "OrderID: is missing"
        );
    }
}
