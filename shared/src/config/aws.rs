//! Where the AWS resources are: both sources' queues with their dead-letter queues, and the
//! state table. A Lambda reads only its own part (see `ingress` and `worker`); `serve
//! --backend aws` and the operator commands read all of it.

use super::{ConfigError, Env, getter};
use crate::queue::QueueUrls;
use crate::webhook::Source;

/// The state table variable (idempotency records, effects, order links, the journal).
pub const VAR_TABLE: &str = "IDEMPOTENCY_TABLE_NAME";
/// The ledger table variable (posted ledger entries).
pub const VAR_LEDGER_TABLE: &str = "LEDGER_TABLE_NAME";
/// The KMS key (id, ARN or alias) that wraps the data keys sealing the journal's envelopes;
/// unset, envelopes are stored unencrypted (template.yaml always sets it).
pub const VAR_JOURNAL_KEY: &str = "JOURNAL_KMS_KEY_ID";
/// Set when an AWS endpoint other than AWS's own is used (moto, LocalStack): `serve` and the
/// operator commands then default to the AWS backend.
pub const VAR_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

/// The queue and dead-letter queue variables of `source`'s events.
pub fn queue_variables(source: Source) -> (&'static str, &'static str) {
    match source {
        // The reconciler's events ride on the Stripe queue.
        Source::Stripe | Source::Reconciler => ("STRIPE_EVENTS_QUEUE_URL", "STRIPE_EVENTS_DLQ_URL"),
        Source::Kentico => ("KENTICO_EVENTS_QUEUE_URL", "KENTICO_EVENTS_DLQ_URL"),
    }
}

/// Every AWS name paybridge uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// Stripe events and their DLQ.
    pub stripe: QueueUrls,
    /// Kentico events and their DLQ.
    pub kentico: QueueUrls,
    /// The state table.
    pub table: String,
    /// The ledger table.
    pub ledger_table: String,
    /// The KMS key sealing the journal's envelopes, if any.
    pub journal_key: Option<String>,
}

impl AwsSettings {
    /// Reads every name through `env`; each is required.
    pub fn from_env(env: Env<'_>) -> Result<Self, ConfigError> {
        let get = getter(env);
        let mut problems = Vec::new();
        let mut need = |name: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is not set (needed with --backend aws)"));
                String::new()
            })
        };
        let mut queue = |source| {
            let (url, dlq_url) = queue_variables(source);
            QueueUrls {
                url: need(url),
                dlq_url: need(dlq_url),
            }
        };
        let stripe = queue(Source::Stripe);
        let kentico = queue(Source::Kentico);
        let table = need(VAR_TABLE);
        let ledger_table = need(VAR_LEDGER_TABLE);
        if problems.is_empty() {
            Ok(Self {
                stripe,
                kentico,
                table,
                ledger_table,
                journal_key: get(VAR_JOURNAL_KEY),
            })
        } else {
            Err(ConfigError { problems })
        }
    }

    /// `source`'s queue and DLQ.
    pub fn queue(&self, source: Source) -> &QueueUrls {
        match source {
            Source::Stripe | Source::Reconciler => &self.stripe,
            Source::Kentico => &self.kentico,
        }
    }
}

/// Whether an AWS endpoint is configured (`AWS_ENDPOINT_URL`): the default backend is then AWS.
pub fn endpoint_configured(env: Env<'_>) -> bool {
    getter(env)(VAR_ENDPOINT_URL).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_missing_name_at_once() {
        let err = AwsSettings::from_env(&|name| {
            (name == "STRIPE_EVENTS_QUEUE_URL").then(|| "http://q".to_string())
        })
        .unwrap_err();
        assert_eq!(err.problems.len(), 5, "{err}");
        assert!(err.to_string().contains("IDEMPOTENCY_TABLE_NAME"));
    }
}
