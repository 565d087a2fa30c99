//! Webhook endpoints: where Stripe delivers events, and which (`paybridge setup stripe`,
//! `paybridge doctor`).

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

use super::params::encode_form;
use super::send::checked_id;
use super::types::{Metadata, StripeObject, null_as_default};
use super::{StripeClient, StripeError};
use crate::secret::SecretString;

/// A webhook endpoint as Stripe answers it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_…`.
    pub id: String,
    /// Where the events go.
    pub url: String,
    /// The event types it receives (`*`: all).
    #[serde(default, deserialize_with = "null_as_default")]
    pub enabled_events: Vec<String>,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// The version events are rendered with (null: the account's default).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Our references.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// The signing secret (`whsec_…`): Stripe sends it only in the answer to the creation.
    #[serde(default, deserialize_with = "optional_secret")]
    pub secret: Option<SecretString>,
}

impl WebhookEndpoint {
    /// Whether Stripe delivers to it (`status` is not `disabled`).
    pub fn is_enabled(&self) -> bool {
        self.status.as_deref() != Some("disabled")
    }
}

impl StripeObject for WebhookEndpoint {
    fn id(&self) -> &str {
        &self.id
    }
}

fn optional_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(SecretString::new))
}

/// `POST /v1/webhook_endpoints`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateWebhookEndpoint {
    /// Where the events go.
    pub url: String,
    /// The event types to deliver.
    pub enabled_events: Vec<String>,
    /// The version to render events with (settable only at creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Shown in the Dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Our references.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `POST /v1/webhook_endpoints/{id}` (Stripe takes no `api_version` here).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateWebhookEndpoint {
    /// The event types to deliver, replacing the current list.
    pub enabled_events: Vec<String>,
    /// `Some(false)` enables a disabled endpoint again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

impl StripeClient {
    /// The `Stripe-Version` this client sends.
    pub fn api_version(&self) -> &str {
        &self.config.api_version
    }

    /// Every webhook endpoint of the account in the key's mode (`GET /v1/webhook_endpoints`,
    /// every page).
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StripeError> {
        self.list_all("/v1/webhook_endpoints", "").await
    }

    /// `GET /v1/webhook_endpoints/{id}`.
    pub async fn retrieve_webhook_endpoint(
        &self,
        id: &str,
    ) -> Result<WebhookEndpoint, StripeError> {
        let path = format!("/v1/webhook_endpoints/{}", checked_id(id)?);
        self.send(Method::GET, &path, "", None).await
    }

    /// `POST /v1/webhook_endpoints`: the answer carries the signing secret, once.
    pub async fn create_webhook_endpoint(
        &self,
        params: &CreateWebhookEndpoint,
        idempotency_key: &str,
    ) -> Result<WebhookEndpoint, StripeError> {
        self.post(
            "/v1/webhook_endpoints",
            encode_form(params)?,
            idempotency_key,
        )
        .await
    }

    /// `POST /v1/webhook_endpoints/{id}`: the signing secret stays as it is (and is not sent).
    pub async fn update_webhook_endpoint(
        &self,
        id: &str,
        params: &UpdateWebhookEndpoint,
        idempotency_key: &str,
    ) -> Result<WebhookEndpoint, StripeError> {
        let path = format!("/v1/webhook_endpoints/{}", checked_id(id)?);
        self.post(&path, encode_form(params)?, idempotency_key)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lists_are_indexed_arrays_and_the_secret_never_prints() {
        let create = CreateWebhookEndpoint {
            url: "https://a.example/webhooks/stripe".into(),
            enabled_events: vec!["payout.paid".into(), "refund.created".into()],
            api_version: Some("2026-08-26.dahlia".into()),
            description: None,
            metadata: BTreeMap::from([("paybridge".into(), "stripe".into())]),
        };
        assert_eq!(
            encode_form(&create).unwrap(),
            "url=https://a.example/webhooks/stripe\
             &enabled_events[0]=payout.paid&enabled_events[1]=refund.created\
             &api_version=2026-08-26.dahlia&metadata[paybridge]=stripe"
        );
        let update = UpdateWebhookEndpoint {
            enabled_events: vec!["payout.paid".into()],
            disabled: Some(false),
        };
        assert_eq!(
            encode_form(&update).unwrap(),
            "enabled_events[0]=payout.paid&disabled=false"
        );

        let endpoint: WebhookEndpoint = serde_json::from_value(serde_json::json!({
            "id": "we_1", "object": "webhook_endpoint", "url": "https://a.example/webhooks/stripe",
            "enabled_events": ["payout.paid"], "status": "disabled", "api_version": null,
            "livemode": false, "metadata": null, "secret": "whsec_abc"
        }))
        .unwrap();
        assert!(!endpoint.is_enabled());
        assert_eq!(
            endpoint.secret.as_ref().map(SecretString::expose),
            Some("whsec_abc")
        );
        assert!(!format!("{endpoint:?}").contains("whsec_abc"));
    }
}
