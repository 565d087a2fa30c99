//! The worker's time budget. Every timeout and retry of a message's calls derives from one
//! number, the worker Lambda's timeout ([`WORKER_TIMEOUT`], template.yaml's `Timeout` of both
//! workers; a deployment test checks they agree), so a message is never cut off by its
//! invocation's end:
//!
//! - a message is started only while [`MESSAGE_BUDGET`] + [`SETTLE_MARGIN`] of the invocation
//!   remain (the rest of the batch is handed back unstarted, as batch item failures);
//! - its calls must be over [`SETTLE_MARGIN`] before the invocation's deadline, to record and
//!   settle it;
//! - the budget is a Stripe call and a Kentico call at their timeouts ([`STRIPE_TIMEOUT`] +
//!   [`KENTICO_TIMEOUT`]); each call's timeout is cut to the time left, a call with less than
//!   [`crate::clock::MIN_CALL_TIME`] left is not made, and a retry (at most
//!   [`STRIPE_MAX_RETRIES`]) is made only if its backoff and a call still fit;
//! - whatever does not fit fails transiently and the message comes back after its backoff.
//!
//! The queues' visibility timeout is 6 × [`WORKER_TIMEOUT`], as Lambda's SQS guidance asks.

use std::time::Duration;

/// The worker Lambdas' timeout (template.yaml).
pub const WORKER_TIMEOUT: Duration = Duration::from_secs(60);

/// What a message's calls leave of its invocation, to record and settle it.
pub const SETTLE_MARGIN: Duration = Duration::from_secs(2);

/// Stripe's per-request timeout: the larger share of the budget (a PaymentIntent create
/// may take seconds at Stripe's busiest).
pub const STRIPE_TIMEOUT: Duration = Duration::from_secs(20);

/// Kentico's per-request timeout.
pub const KENTICO_TIMEOUT: Duration = Duration::from_secs(15);

/// What one message may take at worst in calls: a Stripe call and a Kentico call at their
/// timeouts.
pub const MESSAGE_BUDGET: Duration =
    Duration::from_secs(STRIPE_TIMEOUT.as_secs() + KENTICO_TIMEOUT.as_secs());

/// Stripe retries of a transient failure within one delivery, each only while it fits.
pub const STRIPE_MAX_RETRIES: u32 = 2;

/// The ledger sink's per-request timeout: a ledger event's sink call takes the Kentico call's
/// share of the budget.
pub const LEDGER_SINK_TIMEOUT: Duration = Duration::from_secs(10);

/// A worker Lambda starts a message only while this much of its invocation remains.
pub const MESSAGE_START_RESERVE: Duration =
    Duration::from_secs(MESSAGE_BUDGET.as_secs() + SETTLE_MARGIN.as_secs());

/// The queues' visibility timeout.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(6 * WORKER_TIMEOUT.as_secs());

/// The connectors' timeouts a deployment runs with: the defaults above, or lower ones
/// (`STRIPE_TIMEOUT_SECONDS`, `KENTICO_TIMEOUT_SECONDS`, each 1 s up to its default). A lower
/// timeout shrinks everything derived from it — the message budget, the start reserve and the
/// ledger sinks' share — so a deployment with a shorter Lambda timeout stays inside it. It can
/// only lower them: the defaults are what fits the 60 s `WORKER_TIMEOUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBudget {
    /// Stripe's per-request timeout.
    pub stripe: Duration,
    /// Kentico's per-request timeout.
    pub kentico: Duration,
}

impl Default for TimeBudget {
    fn default() -> Self {
        Self {
            stripe: STRIPE_TIMEOUT,
            kentico: KENTICO_TIMEOUT,
        }
    }
}

impl TimeBudget {
    /// What one message may take at worst in calls: a Stripe call and a Kentico call.
    pub fn message_budget(&self) -> Duration {
        self.stripe + self.kentico
    }

    /// A worker Lambda starts a message only while this much of its invocation remains.
    pub fn start_reserve(&self) -> Duration {
        self.message_budget() + SETTLE_MARGIN
    }

    /// A ledger sink's per-request timeout: the Kentico call's share, at most
    /// [`LEDGER_SINK_TIMEOUT`].
    pub fn ledger_sink(&self) -> Duration {
        self.kentico.min(LEDGER_SINK_TIMEOUT)
    }
}

const _: () = assert!(
    MESSAGE_BUDGET.as_secs() + SETTLE_MARGIN.as_secs() < WORKER_TIMEOUT.as_secs(),
    "a message must fit in one invocation"
);
const _: () = assert!(
    LEDGER_SINK_TIMEOUT.as_secs() <= KENTICO_TIMEOUT.as_secs(),
    "the ledger sink's call takes the Kentico call's share"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_the_documented_one() {
        let budget = TimeBudget::default();
        assert_eq!(budget.message_budget(), MESSAGE_BUDGET);
        assert_eq!(budget.start_reserve(), MESSAGE_START_RESERVE);
        assert_eq!(budget.ledger_sink(), LEDGER_SINK_TIMEOUT);
    }

    #[test]
    fn lower_timeouts_shrink_everything_derived_from_them() {
        let budget = TimeBudget {
            stripe: Duration::from_secs(5),
            kentico: Duration::from_secs(4),
        };
        assert_eq!(budget.message_budget(), Duration::from_secs(9));
        assert_eq!(budget.start_reserve(), Duration::from_secs(11));
        assert_eq!(budget.ledger_sink(), Duration::from_secs(4));
    }
}
