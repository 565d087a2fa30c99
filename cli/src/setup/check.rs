//! `paybridge doctor`'s `stripe endpoints` check: the endpoints that deliver to
//! `…/webhooks/stripe` are enabled, in the key's mode, and subscribe every routed event type.

use paybridge::connectors::stripe::{StripeClient, WebhookEndpoint};
use paybridge::flows::stripe_endpoint::{
    STRIPE_WEBHOOK_PATH, coverage, is_stripe_webhook_url, version_drift,
};

/// What to run to fix an endpoint (its own URL when known).
fn setup_command(url: &str) -> String {
    format!("paybridge setup stripe --url {url}")
}

/// `Ok(detail)` when Stripe delivers every routed event type to an enabled paybridge endpoint;
/// `Err(what to fix)` otherwise.
pub async fn stripe_endpoints(stripe: &StripeClient) -> Result<String, String> {
    let endpoints = stripe.webhook_endpoints().await.map_err(|e| {
        format!("could not list the webhook endpoints: {e} (a restricted key needs Webhook Endpoints: read)")
    })?;
    let ours: Vec<&WebhookEndpoint> = (endpoints.iter())
        .filter(|e| is_stripe_webhook_url(&e.url))
        .collect();
    let (enabled, disabled): (Vec<&WebhookEndpoint>, Vec<&WebhookEndpoint>) =
        ours.iter().partition(|e| e.is_enabled());
    if enabled.is_empty() {
        return Err(match disabled.first() {
            Some(endpoint) => format!(
                "endpoint {} ({}) is disabled: Stripe sends paybridge nothing — run `{}`",
                endpoint.id,
                endpoint.url,
                setup_command(&endpoint.url)
            ),
            None => format!(
                "no webhook endpoint delivers to …{STRIPE_WEBHOOK_PATH} ({} other endpoint(s)): \
                 Stripe sends paybridge nothing — run `{}`",
                endpoints.len(),
                setup_command(&format!("https://…{STRIPE_WEBHOOK_PATH}"))
            ),
        });
    }
    let key_mode = if stripe.livemode() { "live" } else { "test" };
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for endpoint in enabled {
        let name = format!("{} ({})", endpoint.id, endpoint.url);
        if endpoint.livemode != stripe.livemode() {
            problems.push(format!(
                "{name} is not in the key's mode ({key_mode}): its events are refused"
            ));
        }
        let found = coverage(&endpoint.enabled_events);
        if !found.missing.is_empty() {
            problems.push(format!(
                "{name} does not receive {}: those events are lost — run `{}`",
                found.missing.join(", "),
                setup_command(&endpoint.url)
            ));
        } else if found.extra.is_empty() {
            notes.push(format!("{name} receives exactly the routed event types"));
        } else {
            notes.push(format!(
                "{name} receives every routed event type, and {} that nothing routes (delivered, then ignored)",
                found.extra.join(", ")
            ));
        }
        if let Some(drift) = version_drift(endpoint, stripe.api_version()) {
            notes.push(drift);
        }
    }
    for endpoint in disabled {
        notes.push(format!("{} ({}) is disabled", endpoint.id, endpoint.url));
    }
    if problems.is_empty() {
        Ok(notes.join("; "))
    } else {
        Err(problems.join("; "))
    }
}
