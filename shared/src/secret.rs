//! A string that must never reach a log line: secrets, keys and passwords.

use std::fmt;

/// A secret value. `Debug` and `Display` print `[redacted]`; only
/// [`SecretString::expose`] gives the text, so every use is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text itself: call it only where the secret is used.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the secret, in time that does not depend on where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_only_the_secret_itself() {
        let secret = super::SecretString::new("t0ken");
        assert!(secret.matches("t0ken"));
        assert!(!secret.matches("t0ke") && !secret.matches("t0ken ") && !secret.matches(""));
    }

    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = SecretString::new("whsec_very_secret");
        assert!(!format!("{secret:?}").contains("very_secret"));
        assert!(!format!("{secret}").contains("very_secret"));
        assert_eq!(secret.expose(), "whsec_very_secret");
    }
}
