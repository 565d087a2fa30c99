//! Whether a Stripe webhook endpoint delivers what the payment worker routes: the rule
//! `paybridge setup stripe` registers by and `paybridge doctor` checks against.

use std::collections::BTreeSet;

use super::stripe_event_types;

/// The path paybridge serves Stripe's webhooks on (`serve`, and the template's HTTP API route).
pub const STRIPE_WEBHOOK_PATH: &str = "/webhooks/stripe";

/// Stripe's wildcard: the endpoint receives every event type.
const WILDCARD: &str = "*";

/// How an endpoint's `enabled_events` compare with the routed event types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Routed types the endpoint does not subscribe: their events never reach paybridge.
    pub missing: Vec<String>,
    /// Subscribed types nothing routes: delivered and ignored on purpose.
    pub extra: Vec<String>,
}

impl Coverage {
    /// Whether the endpoint subscribes exactly the routed types.
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Compares `enabled_events` with [`stripe_event_types`]; `*` covers every type (and is extra,
/// since it also subscribes everything else).
pub fn coverage(enabled_events: &[String]) -> Coverage {
    let enabled: BTreeSet<&str> = enabled_events.iter().map(String::as_str).collect();
    let routed: BTreeSet<&str> = stripe_event_types().into_iter().collect();
    let missing = match enabled.contains(WILDCARD) {
        true => Vec::new(),
        false => (routed.difference(&enabled))
            .map(|t| (*t).to_string())
            .collect(),
    };
    let extra = (enabled.difference(&routed))
        .map(|t| (*t).to_string())
        .collect();
    Coverage { missing, extra }
}

/// Why `endpoint` renders events in another API version than `pinned`, if it does.
pub fn version_drift(
    endpoint: &crate::connectors::stripe::WebhookEndpoint,
    pinned: &str,
) -> Option<String> {
    (endpoint.api_version.as_deref() != Some(pinned)).then(|| {
        format!(
            "{} renders events with API version {}, paybridge reads {pinned}",
            endpoint.id,
            (endpoint.api_version.as_deref()).unwrap_or("(the account's default)")
        )
    })
}

/// Whether `url` is a paybridge Stripe endpoint: its path ends with [`STRIPE_WEBHOOK_PATH`]
/// (a trailing `/` allowed), whatever the host or a proxy's prefix.
pub fn is_stripe_webhook_url(url: &str) -> bool {
    reqwest::Url::parse(url.trim()).is_ok_and(|parsed| {
        parsed
            .path()
            .trim_end_matches('/')
            .ends_with(STRIPE_WEBHOOK_PATH)
    })
}

/// Whether two endpoint URLs are the same endpoint: equal but for surrounding blanks and a
/// trailing `/` (Stripe keeps the URL as it was given).
pub fn same_url(a: &str, b: &str) -> bool {
    let normal = |url: &str| url.trim().trim_end_matches('/').to_string();
    normal(a) == normal(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(types: &[&str]) -> Vec<String> {
        types.iter().map(|t| (*t).to_string()).collect()
    }

    #[test]
    fn the_routed_types_are_sorted_unique_and_cover_every_handler() {
        let types = stripe_event_types();
        assert!(types.windows(2).all(|w| w[0] < w[1]), "{types:?}");
        for expected in [
            "payment_intent.succeeded",
            "charge.succeeded",
            "payout.paid",
            "customer.updated",
            "invoice.paid",
        ] {
            assert!(types.contains(&expected), "{expected}");
        }
    }

    #[test]
    fn missing_and_extra_types_are_named() {
        let mut enabled = owned(&stripe_event_types());
        assert!(coverage(&enabled).is_exact());
        enabled.retain(|t| t != "payout.paid");
        enabled.push("balance.available".into());
        let found = coverage(&enabled);
        assert_eq!(found.missing, ["payout.paid"]);
        assert_eq!(found.extra, ["balance.available"]);
        let wildcard = coverage(&owned(&["*"]));
        assert!(wildcard.missing.is_empty());
        assert_eq!(wildcard.extra, ["*"]);
    }

    #[test]
    fn endpoints_are_recognized_by_their_path() {
        assert!(is_stripe_webhook_url(
            "https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/stripe"
        ));
        assert!(is_stripe_webhook_url(
            "https://shop.example/pay/webhooks/stripe/"
        ));
        assert!(!is_stripe_webhook_url(
            "https://shop.example/webhooks/kentico"
        ));
        assert!(!is_stripe_webhook_url("not a url"));
        assert!(same_url(
            "https://a.example/webhooks/stripe/",
            " https://a.example/webhooks/stripe"
        ));
        assert!(!same_url(
            "https://a.example/webhooks/stripe",
            "https://b.example/webhooks/stripe"
        ));
    }
}
