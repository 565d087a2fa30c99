//! One Stripe request on the wire: the attempt, the retry loop with backoff, the argument checks.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{self, HeaderValue};
use serde::de::DeserializeOwned;

use super::{StripeClient, StripeError};

/// Stripe's SDKs never wait longer than this between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Stripe rejects longer idempotency keys; its ids are shorter too.
const MAX_KEY_LEN: usize = 255;

impl StripeClient {
    /// A POST with the caller's idempotency key, refused here if Stripe would refuse the key.
    pub(super) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: String,
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let valid = !idempotency_key.trim().is_empty()
            && idempotency_key.len() <= MAX_KEY_LEN
            && HeaderValue::from_str(idempotency_key).is_ok();
        if !valid {
            return Err(StripeError::Config(format!(
                "idempotency key for {path} must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            )));
        }
        self.send(Method::POST, path, "", Some((form, idempotency_key)))
            .await
    }

    /// Sends until success, a permanent error, or `max_retries` retries; every attempt of a
    /// POST carries the same idempotency key, so Stripe performs it at most once.
    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<(String, &str)>,
    ) -> Result<T, StripeError> {
        let mut url = format!("{}{path}", self.config.api_base);
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        let mut attempt = 0;
        loop {
            let timeout = self.call_timeout(&method, path)?;
            let outcome = self
                .attempt(&method, &url, path, body.as_ref(), timeout)
                .await;
            let (error, retry_after) = match outcome {
                Ok(value) => return Ok(value),
                Err((error, retry_after)) => {
                    (error.redact(self.config.secret_key.expose()), retry_after)
                }
            };
            if !error.is_transient() || attempt >= self.config.max_retries {
                return Err(error);
            }
            // A `Retry-After` (a 429's, usually) is waited for if it is no longer than our own
            // backoff could be; a longer one is left to the queue, whose backoff is minutes.
            let delay = match retry_after {
                Some(wait) if wait > MAX_BACKOFF => {
                    tracing::warn!(
                        method = %method,
                        path,
                        status = error.status(),
                        retry_after_s = wait.as_secs(),
                        error = %error,
                        "Stripe asks to wait longer than the retry cap: left to the queue"
                    );
                    return Err(error);
                }
                Some(wait) => wait,
                None => backoff(self.config.retry_base, attempt),
            };
            if crate::clock::time_left()
                .is_some_and(|left| left < delay + crate::clock::MIN_CALL_TIME)
            {
                // No time for another attempt before the deadline: the message is retried later.
                return Err(error);
            }
            attempt += 1;
            tracing::warn!(
                method = %method,
                path,
                status = error.status(),
                attempt,
                max_retries = self.config.max_retries,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying Stripe request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// This attempt's timeout: the configured one, or less when the deadline is nearer; none
    /// (a transient error, nothing sent) when too little time is left to finish a call.
    #[expect(
        clippy::result_large_err,
        reason = "StripeError mirrors Stripe's error object field for field; errors are rare"
    )]
    fn call_timeout(&self, method: &Method, path: &str) -> Result<Duration, StripeError> {
        crate::clock::call_timeout(self.config.timeout).map_err(|left| {
            StripeError::Transport(format!(
                "{method} {path} not sent: {} ms left before the invocation's deadline",
                left.as_millis()
            ))
        })
    }

    /// One request; a failure comes with the answer's `Retry-After` (delta-seconds), if any.
    async fn attempt<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &str,
        path: &str,
        body: Option<&(String, &str)>,
        timeout: Duration,
    ) -> Result<T, (StripeError, Option<Duration>)> {
        let mut request = self.http.request(method.clone(), url).timeout(timeout);
        if let Some((form, idempotency_key)) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("idempotency-key", *idempotency_key)
                .body(form.clone());
        }
        let started = std::time::Instant::now();
        let sent = request.send().await;
        let status_label = sent
            .as_ref()
            .map_or_else(|_| "error".to_string(), |r| r.status().as_u16().to_string());
        self.latency.observe(
            "stripe",
            &operation(method, path),
            &status_label,
            started.elapsed().as_secs_f64(),
        );
        let response = sent.map_err(|e| (transport(e), None))?;
        let status = response.status();
        let header_text = |name: &str| {
            (response.headers().get(name))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header_text("request-id");
        let should_retry = match header_text("stripe-should-retry").as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        let retry_after = header_text("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.map_err(|e| (transport(e), None))?;
        if !status.is_success() {
            let error =
                StripeError::from_response(status.as_u16(), request_id, should_retry, &bytes);
            return Err((error, retry_after));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| (StripeError::Decode(format!("{method} {path}: {e}")), None))
    }
}

/// The id, if it can go into a URL path as is. Stripe ids are letters, digits and `_` (`-` is
/// harmless); anything else (`/`, `..`, `?`) would address another resource.
#[expect(
    clippy::result_large_err,
    reason = "StripeError mirrors Stripe's error object field for field; errors are rare"
)]
pub(super) fn checked_id(id: &str) -> Result<&str, StripeError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_KEY_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(id)
    } else {
        Err(StripeError::Config(format!(
            "{id:?} is not a Stripe object id"
        )))
    }
}

/// A connect error, timeout or cut-off body, with its causes (reqwest's own text is terse).
fn transport(error: reqwest::Error) -> StripeError {
    let mut text = error.to_string();
    if error.is_timeout() {
        text.push_str(" (timed out)");
    }
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    StripeError::Transport(text)
}

/// `base × 2^attempt`, capped, with "equal jitter" (half to all of it) as Stripe's SDKs do,
/// so the workers that hit the same rate limit don't come back in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exponential = base.saturating_mul(1_u32 << attempt.min(16));
    exponential
        .min(MAX_BACKOFF.max(base))
        .mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// A low-cardinality name for a call: the method and the resource path, ids left out
/// (`POST payment_intents`, `POST payment_intents/cancel`, `GET charges`,
/// `POST checkout/sessions/expire`). Resource names are lower-case words; ids carry digits or
/// capitals.
fn operation(method: &Method, path: &str) -> String {
    let is_id = |segment: &&str| {
        segment
            .bytes()
            .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    };
    let resource: Vec<&str> = path
        .trim_start_matches("/v1/")
        .split('/')
        .filter(|segment| !segment.is_empty() && !is_id(segment))
        .collect();
    format!("{method} {}", resource.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::stripe::{CreatePaymentIntent, StripeConfig};
    use crate::secret::SecretString;

    #[test]
    fn backoff_doubles_from_the_base_with_jitter_and_stays_capped() {
        let base = Duration::from_millis(500);
        for _ in 0..100 {
            for (attempt, full) in [
                (0, 500),
                (1, 1000),
                (2, 2000),
                (3, 4000),
                (4, 5000),
                (30, 5000),
            ] {
                let delay = backoff(base, attempt);
                assert!(
                    delay >= Duration::from_millis(full / 2),
                    "{attempt}: {delay:?}"
                );
                assert!(delay <= Duration::from_millis(full), "{attempt}: {delay:?}");
            }
        }
    }
    #[test]
    fn ids_that_would_change_the_url_path_are_refused() {
        assert_eq!(checked_id("pi_3Mtw"), Ok("pi_3Mtw"));
        for bad in ["", "..", "pi_1/cancel", "pi 1", "pi_1?expand[]=x"] {
            assert!(
                matches!(checked_id(bad), Err(StripeError::Config(_))),
                "{bad:?}"
            );
        }
    }
    #[tokio::test]
    async fn a_missing_idempotency_key_is_refused_before_anything_is_sent() {
        let mut config = StripeConfig::new(SecretString::new("sk_test_123"));
        config.api_base = "http://127.0.0.1:9".into();
        let client = StripeClient::new(config).unwrap();

        let result = client
            .create_payment_intent(&CreatePaymentIntent::default(), " ")
            .await;

        assert!(matches!(result, Err(StripeError::Config(_))), "{result:?}");
    }

    #[test]
    fn operations_name_the_resource_without_ids() {
        assert_eq!(
            operation(&Method::POST, "/v1/payment_intents"),
            "POST payment_intents"
        );
        assert_eq!(
            operation(&Method::POST, "/v1/payment_intents/pi_1/cancel"),
            "POST payment_intents/cancel"
        );
        assert_eq!(operation(&Method::GET, "/v1/charges/ch_1"), "GET charges");
        assert_eq!(
            operation(&Method::POST, "/v1/checkout/sessions/cs_test_a1B/expire"),
            "POST checkout/sessions/expire"
        );
    }
}
