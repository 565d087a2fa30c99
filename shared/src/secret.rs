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
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = SecretString::new("whsec_very_secret");
        assert!(!format!("{secret:?}").contains("very_secret"));
        assert!(!format!("{secret}").contains("very_secret"));
        assert_eq!(secret.expose(), "whsec_very_secret");
    }
}
