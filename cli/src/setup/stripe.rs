//! `paybridge setup stripe --url https://…/webhooks/stripe`: one webhook endpoint at Stripe for
//! this URL, subscribed to exactly the event types the payment worker routes; its signing
//! secret stored where the deployment reads it. Rerunning it brings the endpoint up to date.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use paybridge::app::BackendKind;
use paybridge::config::worker::is_https_or_loopback;
use paybridge::connectors::stripe::{
    CreateWebhookEndpoint, StripeClient, StripeError, UpdateWebhookEndpoint, WebhookEndpoint,
};
use paybridge::flows::stripe_endpoint::{
    STRIPE_WEBHOOK_PATH, coverage, is_stripe_webhook_url, same_url, version_drift,
};
use paybridge::flows::stripe_event_types;
use paybridge::metrics::InMemoryMetrics;
use sha2::{Digest, Sha256};

use super::store::{Store, StoreArg};
use crate::backend::{BackendArgs, env};

/// Arguments of `setup stripe`.
#[derive(Args, Debug)]
pub struct StripeArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// The endpoint's public URL: the stack's StripeWebhookUrl output, or serve's address
    /// behind TLS, ending with /webhooks/stripe (https; http only to a loopback address).
    #[arg(long)]
    url: String,
    /// Where the signing secret goes: env (default with the embedded backend), secretsmanager
    /// (default with --backend aws), or print.
    #[arg(long, value_enum)]
    store: Option<StoreArg>,
    /// The .env file for --store env.
    #[arg(long, default_value = ".env")]
    env_file: PathBuf,
    /// The Secrets Manager secret (ARN or name) for --store secretsmanager; default: the
    /// stripe-webhook function's STRIPE_WEBHOOK_SECRET_ARN.
    #[arg(long)]
    secret_id: Option<String>,
    /// The endpoint's description in the Stripe Dashboard (at creation).
    #[arg(
        long,
        default_value = "paybridge: payments, refunds, disputes, payouts, customers, subscriptions and invoices"
    )]
    description: String,
}

/// Runs `setup stripe`.
pub async fn run(args: StripeArgs) -> Result<(), (u8, String)> {
    let url = args.url.trim().to_string();
    if !is_https_or_loopback(&url) {
        return Err((
            2,
            format!(
                "--url {url:?} must be an https:// URL (http:// only to a loopback address): \
                 Stripe signs and delivers events to HTTPS endpoints"
            ),
        ));
    }
    if !is_stripe_webhook_url(&url) {
        eprintln!(
            "paybridge: note: {url} does not end with {STRIPE_WEBHOOK_PATH}, where paybridge \
             takes Stripe's webhooks; `paybridge doctor` checks only endpoints that do"
        );
    }
    let kind = (args.store).unwrap_or(
        match args
            .backend
            .serve_env(std::sync::Arc::new(InMemoryMetrics::new()))
            .backend_kind()
        {
            BackendKind::Embedded => StoreArg::Env,
            BackendKind::Aws => StoreArg::Secretsmanager,
        },
    );
    let store = Store::open(kind, args.env_file.clone(), args.secret_id.clone()).await?;
    let stripe = paybridge::app::serve::operator_stripe(&env)
        .await
        .map_err(|e| (1, e.to_string()))?;
    let endpoints = stripe
        .webhook_endpoints()
        .await
        .map_err(|e| stripe_failed("list the webhook endpoints", &e))?;
    let same: Vec<&WebhookEndpoint> = (endpoints.iter())
        .filter(|e| same_url(&e.url, &url))
        .collect();
    if same.is_empty() {
        return create(&stripe, &store, &url, &args.description).await;
    }
    if same.len() > 1 {
        let ids: Vec<&str> = same.iter().map(|e| e.id.as_str()).collect();
        eprintln!(
            "paybridge: note: {} endpoints deliver to {url} ({}): each event arrives once per \
             endpoint (paybridge applies it once); delete all but one in the Stripe Dashboard",
            same.len(),
            ids.join(", ")
        );
    }
    for endpoint in same {
        bring_up_to_date(&stripe, &store, endpoint).await?;
    }
    Ok(())
}

/// The routed event types, as Stripe's parameter wants them.
fn wanted() -> Vec<String> {
    stripe_event_types()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// A key for the creation: the same for one run's URL, version and events, so the client's
/// retries after a lost answer get Stripe's first answer (and its secret) instead of a second
/// endpoint; another run (`run`) has its own, because a rerun first lists the endpoints and
/// finds one an earlier run created, and an earlier key would replay the answer of an endpoint
/// deleted since (a secret of nothing).
fn create_key(url: &str, api_version: &str, events: &[String], run: &str) -> String {
    let digest = Sha256::digest(format!("{url}\n{api_version}\n{}\n{run}", events.join(",")));
    format!("paybridge-webhook_endpoint-{}", hex::encode(digest))
}

/// This run, among all runs of `setup stripe`.
fn run_id() -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// A key for one update: from the endpoint's state as read and the list wanted, so an edit made
/// in the Dashboard meanwhile gets an update of its own rather than an earlier answer replayed.
fn update_key(endpoint: &WebhookEndpoint, events: &[String]) -> String {
    let seen = format!(
        "{}\n{}\n{}\n{}",
        endpoint.id,
        endpoint.status.as_deref().unwrap_or_default(),
        endpoint.enabled_events.join(","),
        events.join(",")
    );
    let digest = Sha256::digest(seen);
    format!("paybridge-webhook_endpoint-update-{}", hex::encode(digest))
}

async fn create(
    stripe: &StripeClient,
    store: &Store,
    url: &str,
    description: &str,
) -> Result<(), (u8, String)> {
    let events = wanted();
    let params = CreateWebhookEndpoint {
        url: url.to_string(),
        enabled_events: events.clone(),
        api_version: Some(stripe.api_version().to_string()),
        description: Some(description.to_string()),
        metadata: BTreeMap::from([("paybridge".to_string(), "payment-worker".to_string())]),
    };
    let key = create_key(url, stripe.api_version(), &events, &run_id());
    let endpoint = stripe
        .create_webhook_endpoint(&params, &key)
        .await
        .map_err(|e| stripe_failed("create the webhook endpoint", &e))?;
    println!(
        "created Stripe webhook endpoint {} for {url}: {} event types, API version {}, {} mode",
        endpoint.id,
        endpoint.enabled_events.len(),
        endpoint
            .api_version
            .as_deref()
            .unwrap_or("the account's default"),
        mode(endpoint.livemode)
    );
    let lost = |why: String| {
        (
            1,
            format!(
                "endpoint {} was created, but its signing secret {why}. Stripe shows it only \
                 once: roll the endpoint's secret in the Stripe Dashboard (Developers → \
                 Webhooks) and put the new one in {}",
                endpoint.id,
                store.describe()
            ),
        )
    };
    let Some(secret) = &endpoint.secret else {
        return Err(lost("was not in Stripe's answer".to_string()));
    };
    let stored = store
        .save(secret)
        .await
        .map_err(|e| lost(format!("could not be stored: {e}")))?;
    println!("{stored}");
    Ok(())
}

async fn bring_up_to_date(
    stripe: &StripeClient,
    store: &Store,
    endpoint: &WebhookEndpoint,
) -> Result<(), (u8, String)> {
    let events = wanted();
    let found = coverage(&endpoint.enabled_events);
    let disabled = !endpoint.is_enabled();
    if found.is_exact() && !disabled {
        println!(
            "Stripe webhook endpoint {} for {} already receives exactly the {} routed event \
             types: nothing changed",
            endpoint.id,
            endpoint.url,
            events.len()
        );
    } else {
        let params = UpdateWebhookEndpoint {
            enabled_events: events.clone(),
            disabled: disabled.then_some(false),
        };
        let updated = stripe
            .update_webhook_endpoint(&endpoint.id, &params, &update_key(endpoint, &events))
            .await
            .map_err(|e| stripe_failed("update the webhook endpoint", &e))?;
        let mut changes = Vec::new();
        if !found.missing.is_empty() {
            changes.push(format!("added {}", found.missing.join(", ")));
        }
        if !found.extra.is_empty() {
            changes.push(format!("removed {}", found.extra.join(", ")));
        }
        if disabled {
            changes.push("enabled it again".to_string());
        }
        println!(
            "updated Stripe webhook endpoint {} for {}: {} ({} event types now)",
            updated.id,
            updated.url,
            changes.join("; "),
            updated.enabled_events.len()
        );
    }
    println!(
        "its signing secret is unchanged and stays valid (Stripe shows it only at creation): \
         it is expected in {}",
        store.describe()
    );
    if store.holds_a_secret() == Some(false) {
        eprintln!(
            "paybridge: warning: {} holds no whsec_ secret: roll the endpoint's secret in the \
             Stripe Dashboard (Developers → Webhooks → {}) and put the new one there, or \
             webhooks are refused",
            store.describe(),
            endpoint.id
        );
    }
    if let Some(drift) = version_drift(endpoint, stripe.api_version()) {
        eprintln!(
            "paybridge: note: endpoint {drift}; Stripe sets it only at creation: delete the \
             endpoint and rerun to move it"
        );
    }
    Ok(())
}

fn mode(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}

fn stripe_failed(what: &str, error: &StripeError) -> (u8, String) {
    (
        1,
        format!(
            "could not {what}: {error} (a restricted key needs Webhook Endpoints: write; check \
             STRIPE_SECRET_KEY)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_creation_key_follows_the_url_version_events_and_run_and_fits_stripe() {
        let events = wanted();
        let url = "https://a.example/webhooks/stripe";
        let key = create_key(url, "v1", &events, "run-1");
        assert_eq!(key, create_key(url, "v1", &events, "run-1"));
        assert_ne!(
            key,
            create_key("https://b.example/webhooks/stripe", "v1", &events, "run-1")
        );
        assert_ne!(key, create_key(url, "v1", &events[1..], "run-1"));
        assert_ne!(key, create_key(url, "v1", &events, "run-2"));
        assert!(key.len() <= 255);
    }
}
