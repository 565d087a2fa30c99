//! The reconciliation sweep's window (`RECONCILE_WINDOW_HOURS`).

use super::{ConfigError, Env, getter};

/// How far back each scheduled run looks, in hours.
pub const VAR_RECONCILE_WINDOW_HOURS: &str = "RECONCILE_WINDOW_HOURS";
/// Two days: an hourly schedule sees every change about 48 times, and a run that failed or a
/// webhook Stripe retried for a day is still inside the window.
pub const DEFAULT_WINDOW_HOURS: u64 = 48;
/// Stripe keeps events 30 days; a wider window would only slow the run down.
pub const MAX_WINDOW_HOURS: u64 = 30 * 24;

/// The window in hours, from `env` over the default.
pub fn window_hours(env: Env<'_>) -> Result<u64, ConfigError> {
    match getter(env)(VAR_RECONCILE_WINDOW_HOURS) {
        None => Ok(DEFAULT_WINDOW_HOURS),
        Some(raw) => match raw.parse::<u64>() {
            Ok(hours) if (1..=MAX_WINDOW_HOURS).contains(&hours) => Ok(hours),
            _ => Err(ConfigError {
                problems: vec![format!(
                    "{VAR_RECONCILE_WINDOW_HOURS}='{raw}' must be a whole number of hours from 1 to {MAX_WINDOW_HOURS}"
                )],
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_env;

    #[test]
    fn defaults_to_two_days_and_refuses_nonsense() {
        assert_eq!(window_hours(&test_env(&[])).unwrap(), 48);
        let env = test_env(&[(VAR_RECONCILE_WINDOW_HOURS, "6")]);
        assert_eq!(window_hours(&env).unwrap(), 6);
        for bad in ["0", "-1", "two", "721"] {
            let env = test_env(&[(VAR_RECONCILE_WINDOW_HOURS, bad)]);
            let problems = window_hours(&env).unwrap_err().problems;
            assert!(
                problems[0].contains(VAR_RECONCILE_WINDOW_HOURS),
                "{problems:?}"
            );
        }
    }
}
