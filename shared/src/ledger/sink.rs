//! Where posted entries go next: a [`LedgerSink`] the ERP (or an iPaaS) takes them from. Each
//! entry is delivered once per sink, guarded as an effect keyed by the entry id, with the same
//! key sent as `Idempotency-Key`; a failed delivery fails the event, which the queue retries
//! with backoff and finally dead-letters, like any other call.

use std::time::Duration;

use crate::clock::Clock;
use crate::secret::SecretString;
use crate::webhook::signature::sign_header;

use super::LedgerEntry;

/// The header carrying the signature of a delivered entry (the webhooks' `t=…,v1=…` scheme).
pub const SIGNATURE_HEADER: &str = "X-Paybridge-Signature";

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The sink is down, slow or overloaded (a timeout, 408, 429, 5xx): retried.
    #[error("the ledger sink is unavailable: {0}")]
    Unavailable(String),
    /// The sink refused the entry (another 4xx): retrying cannot help.
    #[error("the ledger sink refused the entry: {0}")]
    Rejected(String),
}

/// Whether an HTTP answer of a sink means "try again later" (a timeout, 408, 429, 5xx) rather
/// than a refusal: the one rule every sink classifies its answers by.
pub fn is_transient(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// The timeout of a sink's call whose own is `own`, cut to what is left before a worker
/// invocation's deadline ([`crate::clock::call_timeout`]); too little left is a transient
/// failure, nothing sent.
pub fn call_timeout(own: Duration, sink: &str) -> Result<Duration, SinkError> {
    crate::clock::call_timeout(own).map_err(|left| {
        SinkError::Unavailable(format!(
            "{sink}: not sent, {} ms left before the invocation's deadline",
            left.as_millis()
        ))
    })
}

/// Takes posted entries.
#[async_trait::async_trait]
pub trait LedgerSink: Send + Sync {
    /// A stable name, part of the delivery's effect key (`http`, `quickbooks`, …).
    fn name(&self) -> &'static str;
    /// Delivers `entry`; `idempotency_key` is the same for every attempt of this entry.
    async fn deliver(&self, entry: &LedgerEntry, idempotency_key: &str) -> Result<(), SinkError>;
}

/// POSTs each entry as JSON to a URL, signed with a shared secret.
pub struct HttpLedgerSink {
    http: reqwest::Client,
    url: String,
    secret: SecretString,
    timeout: Duration,
    clock: std::sync::Arc<dyn Clock>,
}

impl HttpLedgerSink {
    /// A sink posting to `url`, signing with `secret`; each call gives up after `timeout`.
    pub fn new(
        url: impl Into<String>,
        secret: SecretString,
        timeout: Duration,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Result<Self, SinkError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SinkError::Rejected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            url: url.into(),
            secret,
            timeout,
            clock,
        })
    }
}

#[async_trait::async_trait]
impl LedgerSink for HttpLedgerSink {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn deliver(&self, entry: &LedgerEntry, idempotency_key: &str) -> Result<(), SinkError> {
        let body = serde_json::to_vec(entry).map_err(|e| SinkError::Rejected(e.to_string()))?;
        let timestamp = self.clock.now().unix_timestamp();
        let signature = sign_header(&[self.secret.expose()], timestamp, &body);
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header("Idempotency-Key", idempotency_key)
            .timeout(call_timeout(self.timeout, "the ledger webhook")?)
            .body(body)
            .send()
            .await
            .map_err(|e| SinkError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        let reason = format!("HTTP {status}: {text}");
        if is_transient(status.as_u16()) {
            Err(SinkError::Unavailable(reason))
        } else {
            Err(SinkError::Rejected(reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::SystemClock;
    use crate::ledger::{EntryKind, References};

    /// A loopback peer that accepts and never answers.
    async fn silent_peer() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        format!("http://{address}/ledger")
    }

    #[tokio::test]
    async fn a_delivery_inside_a_deadline_ends_by_it_and_none_is_sent_without_time_left() {
        let sink = HttpLedgerSink::new(
            silent_peer().await,
            SecretString::new("ledger-secret"),
            Duration::from_secs(20),
            Arc::new(SystemClock),
        )
        .unwrap();
        let entry = LedgerEntry {
            id: "le_payment_txn_1".into(),
            kind: EntryKind::Payment,
            occurred_at: "2026-12-01T00:00:00.000Z".into(),
            currency: "USD".into(),
            lines: Vec::new(),
            presentment: None,
            references: References::default(),
        };

        let started = std::time::Instant::now();
        let end_by = started + Duration::from_millis(1_500);
        let error = crate::clock::with_deadline(end_by, sink.deliver(&entry, "key-1"))
            .await
            .unwrap_err();
        assert!(matches!(error, SinkError::Unavailable(_)), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );

        let error =
            crate::clock::with_deadline(std::time::Instant::now(), sink.deliver(&entry, "key-1"))
                .await
                .unwrap_err();
        assert!(error.to_string().contains("not sent"), "{error}");
    }
}
