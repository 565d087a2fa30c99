//! The Stripe client: one connection pool with Stripe's headers, and one method per call we make.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderValue};

use super::params::{CancelPaymentIntent, encode_form};
use super::send::checked_id;
use super::{
    BalanceTransaction, Charge, CheckoutSession, CreateCheckoutSession, CreatePaymentIntent,
    CreateRefund, Customer, CustomerParams, Dispute, Invoice, List, PaymentIntent, Payout, Refund,
    StripeConfig, StripeError, UpdatePaymentIntent,
};

const USER_AGENT: &str = concat!(
    "paybridge/",
    env!("CARGO_PKG_VERSION"),
    " (Stripe connector)"
);
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Calls Stripe's API. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct StripeClient {
    pub(super) http: reqwest::Client,
    pub(super) config: Arc<StripeConfig>,
    pub(super) latency: crate::metrics::CallLatency,
}

impl StripeClient {
    /// Checks `config` (every problem in one [`StripeError::Config`]) and builds the HTTP client.
    #[expect(
        clippy::result_large_err,
        reason = "StripeError mirrors Stripe's error object field for field; errors are rare"
    )]
    pub fn new(mut config: StripeConfig) -> Result<Self, StripeError> {
        let mut problems = Vec::new();
        config.api_base = config.api_base.trim_end_matches('/').to_owned();
        let host = (config.api_base.strip_prefix("https://"))
            .or_else(|| config.api_base.strip_prefix("http://"));
        if host.is_none_or(str::is_empty) {
            problems.push(format!(
                "api_base {:?} is not an http(s) URL",
                config.api_base
            ));
        }
        let key = config.secret_key.expose();
        let auth = HeaderValue::from_str(&format!("Bearer {key}"));
        if key.trim().is_empty() || auth.is_err() {
            // Never name the key itself: this message may reach a log.
            problems.push("secret_key is empty or not a valid header value".to_owned());
        }
        let version = HeaderValue::from_str(&config.api_version);
        if config.api_version.trim().is_empty() || version.is_err() {
            problems.push(format!("api_version {:?} is not valid", config.api_version));
        }
        if config.timeout.is_zero() {
            problems.push("timeout must be more than zero".to_owned());
        }
        let (Ok(mut auth), Ok(version), true) = (auth, version, problems.is_empty()) else {
            return Err(StripeError::Config(problems.join("; ")));
        };
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, auth);
        headers.insert("stripe-version", version);
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(MAX_CONNECT_TIMEOUT))
            // Stripe never redirects; following one could turn a POST into a GET elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StripeError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            config: Arc::new(config),
            latency: crate::metrics::CallLatency::default(),
        })
    }

    /// Times every call into `latency` (`/metrics`, CloudWatch).
    pub fn with_latency(mut self, latency: crate::metrics::CallLatency) -> Self {
        self.latency = latency;
        self
    }

    /// `POST /v1/payment_intents`.
    pub async fn create_payment_intent(
        &self,
        params: &CreatePaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        self.post("/v1/payment_intents", encode_form(params)?, idempotency_key)
            .await
    }

    /// `POST /v1/customers`.
    pub async fn create_customer(
        &self,
        params: &CustomerParams,
        idempotency_key: &str,
    ) -> Result<Customer, StripeError> {
        self.post("/v1/customers", encode_form(params)?, idempotency_key)
            .await
    }

    /// `POST /v1/customers/{id}`: sets the fields `params` carries.
    pub async fn update_customer(
        &self,
        id: &str,
        params: &CustomerParams,
        idempotency_key: &str,
    ) -> Result<Customer, StripeError> {
        let path = format!("/v1/customers/{}", checked_id(id)?);
        self.post(&path, encode_form(params)?, idempotency_key)
            .await
    }

    /// `GET /v1/customers/{id}` (a deleted one answers with `deleted: true`).
    pub async fn retrieve_customer(&self, id: &str) -> Result<Customer, StripeError> {
        let path = format!("/v1/customers/{}", checked_id(id)?);
        self.send(Method::GET, &path, "", None).await
    }

    /// Every customer with this e-mail (`GET /v1/customers?email=…`, exact and case-sensitive
    /// at Stripe), every page.
    pub async fn customers_by_email(&self, email: &str) -> Result<Vec<Customer>, StripeError> {
        #[derive(serde::Serialize)]
        struct ByEmail<'a> {
            email: &'a str,
        }
        let query = encode_form(&ByEmail { email })?;
        self.list_all("/v1/customers", &query).await
    }

    /// `GET /v1/invoices/{id}` with its payments (`expand[]=payments`).
    pub async fn retrieve_invoice(&self, id: &str) -> Result<Invoice, StripeError> {
        let path = format!("/v1/invoices/{}", checked_id(id)?);
        self.send(Method::GET, &path, "expand%5B%5D=payments", None)
            .await
    }

    /// `GET /v1/payment_intents/{id}`.
    pub async fn retrieve_payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}", checked_id(id)?);
        self.send(Method::GET, &path, "", None).await
    }

    /// `POST /v1/payment_intents/{id}`.
    pub async fn update_payment_intent(
        &self,
        id: &str,
        params: &UpdatePaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}", checked_id(id)?);
        self.post(&path, encode_form(params)?, idempotency_key)
            .await
    }

    /// `POST /v1/payment_intents/{id}/cancel`; `reason` is Stripe's `cancellation_reason`.
    pub async fn cancel_payment_intent(
        &self,
        id: &str,
        reason: Option<&str>,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}/cancel", checked_id(id)?);
        let form = encode_form(&CancelPaymentIntent {
            cancellation_reason: reason,
        })?;
        self.post(&path, form, idempotency_key).await
    }

    /// `POST /v1/checkout/sessions`.
    pub async fn create_checkout_session(
        &self,
        params: &CreateCheckoutSession,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        self.post(
            "/v1/checkout/sessions",
            encode_form(params)?,
            idempotency_key,
        )
        .await
    }

    /// `GET /v1/checkout/sessions/{id}`.
    pub async fn retrieve_checkout_session(
        &self,
        id: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let path = format!("/v1/checkout/sessions/{}", checked_id(id)?);
        self.send(Method::GET, &path, "", None).await
    }

    /// `GET /v1/checkout/sessions?payment_intent={id}`: the sessions that made a PaymentIntent.
    pub async fn checkout_sessions_of(
        &self,
        payment_intent_id: &str,
    ) -> Result<List<CheckoutSession>, StripeError> {
        let query = format!("payment_intent={}&limit=10", checked_id(payment_intent_id)?);
        self.send(Method::GET, "/v1/checkout/sessions", &query, None)
            .await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`: nobody can pay through it any more.
    pub async fn expire_checkout_session(
        &self,
        id: &str,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let path = format!("/v1/checkout/sessions/{}/expire", checked_id(id)?);
        self.post(&path, String::new(), idempotency_key).await
    }

    /// `POST /v1/refunds`.
    pub async fn create_refund(
        &self,
        params: &CreateRefund,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        self.post("/v1/refunds", encode_form(params)?, idempotency_key)
            .await
    }

    /// Whether the key is a live-mode key (`sk_live_…`, `rk_live_…`): events and objects of the
    /// other mode are not this integration's.
    pub fn livemode(&self) -> bool {
        let key = self.config.secret_key.expose();
        key.starts_with("sk_live_") || key.starts_with("rk_live_")
    }

    /// `GET /v1/charges/{id}`, with the balance transaction (fees, net) inlined if asked.
    pub async fn retrieve_charge(
        &self,
        id: &str,
        expand_balance_transaction: bool,
    ) -> Result<Charge, StripeError> {
        let path = format!("/v1/charges/{}", checked_id(id)?);
        let query = if expand_balance_transaction {
            "expand[]=balance_transaction"
        } else {
            ""
        };
        self.send(Method::GET, &path, query, None).await
    }

    /// Every PaymentIntent created at or after `since` (unix seconds), each with its latest
    /// charge inlined (`GET /v1/payment_intents?created[gte]=…&expand[]=data.latest_charge`):
    /// what the reconciliation sweep compares with Kentico.
    pub async fn payment_intents_since<T>(&self, since: i64) -> Result<Vec<T>, StripeError>
    where
        T: serde::de::DeserializeOwned + super::types::StripeObject,
    {
        let query = format!("created%5Bgte%5D={since}&expand%5B%5D=data.latest_charge");
        self.list_all("/v1/payment_intents", &query).await
    }

    /// Every refund created at or after `since` (`GET /v1/refunds?created[gte]=…`).
    pub async fn refunds_since(&self, since: i64) -> Result<Vec<Refund>, StripeError> {
        self.list_all("/v1/refunds", &format!("created%5Bgte%5D={since}"))
            .await
    }

    /// Every refund of one PaymentIntent (`GET /v1/refunds?payment_intent=…`).
    pub async fn refunds_of(&self, payment_intent: &str) -> Result<Vec<Refund>, StripeError> {
        let query = format!("payment_intent={}", checked_id(payment_intent)?);
        self.list_all("/v1/refunds", &query).await
    }

    /// Every dispute created at or after `since` (`GET /v1/disputes?created[gte]=…`).
    pub async fn disputes_since(&self, since: i64) -> Result<Vec<Dispute>, StripeError> {
        self.list_all("/v1/disputes", &format!("created%5Bgte%5D={since}"))
            .await
    }

    /// Every dispute of one PaymentIntent (`GET /v1/disputes?payment_intent=…`).
    pub async fn disputes_of(&self, payment_intent: &str) -> Result<Vec<Dispute>, StripeError> {
        let query = format!("payment_intent={}", checked_id(payment_intent)?);
        self.list_all("/v1/disputes", &query).await
    }

    /// Every payout arriving (expected or paid) at or after `since`
    /// (`GET /v1/payouts?arrival_date[gte]=…`): one paid days after its creation is listed.
    pub async fn payouts_arriving_since(&self, since: i64) -> Result<Vec<Payout>, StripeError> {
        let query = format!("arrival_date%5Bgte%5D={since}");
        self.list_all("/v1/payouts", &query).await
    }

    /// `GET /v1/payment_intents/{id}` with its latest charge inlined.
    pub async fn retrieve_payment_intent_with_charge<T: serde::de::DeserializeOwned>(
        &self,
        id: &str,
    ) -> Result<T, StripeError> {
        let path = format!("/v1/payment_intents/{}", checked_id(id)?);
        self.send(Method::GET, &path, "expand%5B%5D=latest_charge", None)
            .await
    }

    /// Every object of a list endpoint, page after page (100 a page, `starting_after` the last
    /// id seen); each page is one request with the client's retries, so a rate limit (429)
    /// slows the listing down instead of failing it.
    pub(super) async fn list_all<T>(&self, path: &str, query: &str) -> Result<Vec<T>, StripeError>
    where
        T: serde::de::DeserializeOwned + super::types::StripeObject,
    {
        let mut all: Vec<T> = Vec::new();
        loop {
            let mut page_query = match query {
                "" => "limit=100".to_string(),
                _ => format!("{query}&limit=100"),
            };
            if let Some(last) = all.last() {
                page_query.push_str(&format!("&starting_after={}", checked_id(last.id())?));
            }
            let page: List<T> = self.send(Method::GET, path, &page_query, None).await?;
            let more = page.has_more && !page.data.is_empty();
            all.extend(page.data);
            if !more {
                return Ok(all);
            }
        }
    }

    /// `GET /v1/balance_transactions/{id}`.
    pub async fn retrieve_balance_transaction(
        &self,
        id: &str,
    ) -> Result<BalanceTransaction, StripeError> {
        let path = format!("/v1/balance_transactions/{}", checked_id(id)?);
        self.send(Method::GET, &path, "", None).await
    }

    /// `GET /v1/refunds/{id}` with its balance transactions (the refund's, and a failed one's
    /// return) inlined.
    pub async fn retrieve_refund(&self, id: &str) -> Result<Refund, StripeError> {
        let path = format!("/v1/refunds/{}", checked_id(id)?);
        let query = "expand[]=balance_transaction&expand[]=failure_balance_transaction";
        self.send(Method::GET, &path, query, None).await
    }

    /// `GET /v1/disputes/{id}` (its balance transactions come inlined).
    pub async fn retrieve_dispute(&self, id: &str) -> Result<Dispute, StripeError> {
        let path = format!("/v1/disputes/{}", checked_id(id)?);
        self.send(Method::GET, &path, "", None).await
    }

    /// `GET /v1/payouts/{id}` with its own and its failure's balance transactions inlined.
    pub async fn retrieve_payout(&self, id: &str) -> Result<Payout, StripeError> {
        let path = format!("/v1/payouts/{}", checked_id(id)?);
        let query = "expand[]=balance_transaction&expand[]=failure_balance_transaction";
        self.send(Method::GET, &path, query, None).await
    }

    /// Every balance transaction an automatic payout paid out, page after page
    /// (`GET /v1/balance_transactions?payout=…`, 100 a page).
    pub async fn payout_balance_transactions(
        &self,
        payout_id: &str,
    ) -> Result<Vec<BalanceTransaction>, StripeError> {
        let query = format!("payout={}", checked_id(payout_id)?);
        self.list_all("/v1/balance_transactions", &query).await
    }

    /// `GET /v1/balance`: a harmless read that proves the key and the version work.
    pub async fn retrieve_balance(&self) -> Result<serde_json::Value, StripeError> {
        self.send(Method::GET, "/v1/balance", "", None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretString;

    #[test]
    fn a_bad_config_lists_every_problem_without_showing_the_key() {
        let mut config = StripeConfig::new(SecretString::new("sk_test_bad\nkey"));
        config.api_base = "api.stripe.com".into();
        config.api_version = String::new();

        let error = StripeClient::new(config).unwrap_err().to_string();

        assert!(error.contains("api_base"), "{error}");
        assert!(error.contains("secret_key"), "{error}");
        assert!(error.contains("api_version"), "{error}");
        assert!(!error.contains("sk_test_bad"), "{error}");
    }
    #[test]
    fn the_defaults_build_a_client() {
        let client = StripeClient::new(StripeConfig::new(SecretString::new("sk_test_123")));

        let debug = format!("{:?}", client.unwrap());
        assert!(!debug.contains("sk_test_123"), "{debug}");
    }
}
