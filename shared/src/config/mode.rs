//! Test or live: a deployment is one or the other, by its Stripe key. `STRIPE_MODE` pins it
//! where the key is not at hand (the Stripe ingress) and is checked against the key where it is.

use super::Getter;

/// The variable pinning the mode: `test` or `live`.
pub const VAR_STRIPE_MODE: &str = "STRIPE_MODE";

/// Stripe's two worlds: objects and events of one are never the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeMode {
    /// Test mode: `sk_test_…`, `rk_test_…`, events with `livemode: false`.
    Test,
    /// Live mode: `sk_live_…`, `rk_live_…`, events with `livemode: true`.
    Live,
}

impl StripeMode {
    /// The mode of an event or object by its `livemode` field.
    pub fn of_livemode(livemode: bool) -> Self {
        if livemode { Self::Live } else { Self::Test }
    }

    /// The mode of a secret or restricted key; `None` for anything else.
    pub fn of_key(key: &str) -> Option<Self> {
        match key.get(..8) {
            Some("sk_live_" | "rk_live_") => Some(Self::Live),
            Some("sk_test_" | "rk_test_") => Some(Self::Test),
            _ => None,
        }
    }

    /// Whether this is live mode (Stripe's `livemode`).
    pub fn livemode(self) -> bool {
        self == Self::Live
    }

    /// `test` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Live => "live",
        }
    }
}

impl std::fmt::Display for StripeMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The deployment's mode: `STRIPE_MODE`, else the mode of a plain `STRIPE_SECRET_KEY`, else
/// unknown. A bad value, or a pinned mode the plain key disagrees with, is a problem.
pub(crate) fn read(get: &Getter<'_>, problems: &mut Vec<String>) -> Option<StripeMode> {
    let key_mode = get("STRIPE_SECRET_KEY").and_then(|key| StripeMode::of_key(&key));
    let pinned = match get(VAR_STRIPE_MODE).as_deref() {
        None => return key_mode,
        Some("test") => StripeMode::Test,
        Some("live") => StripeMode::Live,
        Some(other) => {
            problems.push(format!("{VAR_STRIPE_MODE}='{other}' must be test or live"));
            return key_mode;
        }
    };
    if let Some(key_mode) = key_mode
        && key_mode != pinned
    {
        problems.push(key_disagrees(pinned, key_mode));
    }
    Some(pinned)
}

/// Checks a key (read from Secrets Manager, say) against the pinned mode.
pub fn check_key(pinned: Option<StripeMode>, key: &str) -> Result<(), String> {
    match (pinned, StripeMode::of_key(key)) {
        (Some(pinned), Some(key_mode)) if key_mode != pinned => {
            Err(key_disagrees(pinned, key_mode))
        }
        _ => Ok(()),
    }
}

fn key_disagrees(pinned: StripeMode, key_mode: StripeMode) -> String {
    format!(
        "{VAR_STRIPE_MODE}={pinned} but STRIPE_SECRET_KEY is a {key_mode}-mode key: \
         a deployment is one mode; set the key of that mode, or change {VAR_STRIPE_MODE}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{getter, test_env as env};

    fn mode(pairs: &[(&str, &str)]) -> (Option<StripeMode>, Vec<String>) {
        let env = env(pairs);
        let mut problems = Vec::new();
        let mode = read(&getter(&env), &mut problems);
        (mode, problems)
    }

    #[test]
    fn the_key_tells_the_mode_unless_it_is_pinned() {
        assert_eq!(mode(&[]), (None, vec![]));
        assert_eq!(
            mode(&[("STRIPE_SECRET_KEY", "rk_live_abc")]),
            (Some(StripeMode::Live), vec![])
        );
        assert_eq!(
            mode(&[
                ("STRIPE_SECRET_KEY", "sk_test_abc"),
                ("STRIPE_MODE", "test")
            ]),
            (Some(StripeMode::Test), vec![])
        );
        assert_eq!(
            mode(&[("STRIPE_MODE", "live")]),
            (Some(StripeMode::Live), vec![])
        );
    }

    #[test]
    fn a_key_of_the_other_mode_or_a_bad_value_is_a_problem() {
        let (pinned, problems) = mode(&[
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("STRIPE_MODE", "test"),
        ]);
        assert_eq!(pinned, Some(StripeMode::Test));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("STRIPE_MODE=test but STRIPE_SECRET_KEY is a live-mode key"));
        assert!(!problems[0].contains("sk_live_abc"));
        let (_, problems) = mode(&[("STRIPE_MODE", "production")]);
        assert_eq!(
            problems,
            vec!["STRIPE_MODE='production' must be test or live"]
        );
        assert!(check_key(Some(StripeMode::Live), "sk_test_x").is_err());
        assert!(check_key(Some(StripeMode::Live), "sk_live_x").is_ok());
        assert!(check_key(None, "sk_live_x").is_ok());
    }
}
