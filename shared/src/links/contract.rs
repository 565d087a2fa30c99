//! The behaviour every [`OrderLinkStore`] adapter must have, as one suite run against each of
//! them (in memory, SQLite, DynamoDB on moto). Panics on the first broken promise.

use std::collections::BTreeSet;

use super::{
    Advance, Attempt, OrderLink, OrderLinkStore, OrderTerms, OrderVersion, PaymentClaim,
    TermsApplied,
};

fn version(modified: i64) -> OrderVersion {
    OrderVersion::new(
        time::OffsetDateTime::from_unix_timestamp(modified).ok(),
        1_764_417_600,
    )
}

fn terms(modified: i64, amount: i64, currency: &str) -> OrderTerms {
    OrderTerms {
        version: version(modified),
        amount,
        currency: currency.to_string(),
    }
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// Runs every check against `store` (orders 9001–9008 must not exist in it yet).
pub async fn run_all(store: &dyn OrderLinkStore) {
    saving_fills_and_adds_but_never_erases(store).await;
    older_terms_are_refused_and_the_same_version_passes(store).await;
    only_current_terms_can_activate_a_payable_object(store).await;
    one_holder_at_a_time_until_the_lease_runs_out(store).await;
    a_session_payment_binds_only_while_the_session_is_active(store).await;
    exactly_one_payment_intent_pays_an_order(store).await;
    the_status_moves_forward_per_payment_and_nothing_replaces_paid(store).await;
    only_the_payer_moves_a_paid_order_after_the_payment_and_payment_events_stay_below(store).await;
}

async fn saving_fills_and_adds_but_never_erases(store: &dyn OrderLinkStore) {
    let order_id = 9001;
    assert_eq!(store.by_order(order_id).await.unwrap(), None);
    store
        .save(&OrderLink {
            order_id,
            order_guid: Some("6f1c".into()),
            payment_intents: set(&["pi_1"]),
            ..OrderLink::default()
        })
        .await
        .unwrap();
    store
        .save(&OrderLink {
            order_id,
            site: Some("DancingGoat".into()),
            published: Some("pi_1".into()),
            payment_intents: set(&["pi_2"]),
            checkout_sessions: set(&["cs_1"]),
            ..OrderLink::default()
        })
        .await
        .unwrap();
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(link.order_guid.as_deref(), Some("6f1c"));
    assert_eq!(link.site.as_deref(), Some("DancingGoat"));
    assert_eq!(link.published.as_deref(), Some("pi_1"));
    assert_eq!(link.payment_intents, set(&["pi_1", "pi_2"]));
    assert_eq!(link.checkout_sessions, set(&["cs_1"]));
    assert!(!link.canceled);
    assert_eq!(
        store.by_payment_intent("pi_2").await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(
        store.by_checkout_session("cs_1").await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(store.by_payment_intent("pi_unknown").await.unwrap(), None);
    assert_eq!(store.by_checkout_session("cs_unknown").await.unwrap(), None);

    store
        .save(&OrderLink {
            order_id,
            canceled: true,
            ..OrderLink::default()
        })
        .await
        .unwrap();
    store
        .save(&OrderLink {
            order_id,
            ..OrderLink::default()
        })
        .await
        .unwrap();
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert!(link.canceled, "canceled sticks");
    assert_eq!(link.payment_intents, set(&["pi_1", "pi_2"]));
}

async fn older_terms_are_refused_and_the_same_version_passes(store: &dyn OrderLinkStore) {
    let order_id = 9002;
    let first = terms(100, 10_000, "usd");
    let newer = terms(200, 12_000, "usd");
    assert_eq!(
        store.apply_terms(order_id, &first).await.unwrap(),
        TermsApplied::Applied
    );
    assert_eq!(
        store.apply_terms(order_id, &newer).await.unwrap(),
        TermsApplied::Applied
    );
    assert_eq!(
        store.apply_terms(order_id, &first).await.unwrap(),
        TermsApplied::Stale {
            current: newer.version.clone()
        }
    );
    assert_eq!(
        store.apply_terms(order_id, &newer).await.unwrap(),
        TermsApplied::Applied,
        "a retry of the same version passes"
    );
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(link.version, Some(newer.version));
    assert_eq!(
        (link.amount, link.currency.as_deref()),
        (Some(12_000), Some("usd"))
    );
}

async fn only_current_terms_can_activate_a_payable_object(store: &dyn OrderLinkStore) {
    let order_id = 9003;
    let intent = Attempt::PaymentIntent("pi_a".into());
    let session = Attempt::CheckoutSession("cs_a".into());
    assert!(
        store
            .activate(order_id, &terms(1, 500, "eur"), &intent)
            .await
            .unwrap()
    );
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(link.active(), Some(intent.clone()));
    assert_eq!((link.amount, link.version), (Some(500), Some(version(1))));

    assert!(
        store
            .activate(order_id, &terms(2, 600, "eur"), &session)
            .await
            .unwrap()
    );
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(link.active(), Some(session.clone()));
    assert_eq!(
        link.payment_intent_id, None,
        "a session clears the active PaymentIntent"
    );
    assert_eq!(
        link.amount,
        Some(600),
        "the terms move with the payable object"
    );

    assert!(
        !store
            .activate(order_id, &terms(1, 500, "eur"), &intent)
            .await
            .unwrap(),
        "made for terms that are no longer current"
    );
    assert_eq!(
        store.by_order(order_id).await.unwrap().unwrap().active(),
        Some(session)
    );
    store
        .save(&OrderLink {
            order_id,
            canceled: true,
            ..OrderLink::default()
        })
        .await
        .unwrap();
    assert!(
        !store
            .activate(order_id, &terms(3, 600, "eur"), &intent)
            .await
            .unwrap(),
        "a canceled order gets no new payable object"
    );
}

async fn one_holder_at_a_time_until_the_lease_runs_out(store: &dyn OrderLinkStore) {
    let order_id = 9008;
    assert!(store.lease(order_id, "a", 2_000, 1_000).await.unwrap());
    assert!(!store.lease(order_id, "b", 3_000, 1_500).await.unwrap());
    assert!(
        store.lease(order_id, "a", 4_000, 1_500).await.unwrap(),
        "renewed"
    );
    assert!(
        store.lease(order_id, "b", 6_000, 4_001).await.unwrap(),
        "taken over once it ran out"
    );
    store.release(order_id, "a").await.unwrap();
    assert!(
        !store.lease(order_id, "c", 7_000, 5_000).await.unwrap(),
        "a's release freed nothing"
    );
    store.release(order_id, "b").await.unwrap();
    assert!(store.lease(order_id, "c", 7_000, 5_000).await.unwrap());
}

async fn a_session_payment_binds_only_while_the_session_is_active(store: &dyn OrderLinkStore) {
    let order_id = 9004;
    let session = Attempt::CheckoutSession("cs_b".into());
    assert!(
        store
            .activate(order_id, &terms(1, 500, "eur"), &session)
            .await
            .unwrap()
    );
    assert!(
        !store
            .bind_session_payment(order_id, "cs_other", "pi_x")
            .await
            .unwrap()
    );
    assert!(
        store
            .bind_session_payment(order_id, "cs_b", "pi_b")
            .await
            .unwrap()
    );
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(link.payment_intent_id.as_deref(), Some("pi_b"));
    assert_eq!(link.active(), Some(session));
}

async fn exactly_one_payment_intent_pays_an_order(store: &dyn OrderLinkStore) {
    let order_id = 9005;
    store
        .apply_terms(order_id, &terms(1, 500, "eur"))
        .await
        .unwrap();
    assert_eq!(
        store.claim_payment(order_id, "pi_1").await.unwrap(),
        PaymentClaim::Claimed
    );
    assert_eq!(
        store.claim_payment(order_id, "pi_1").await.unwrap(),
        PaymentClaim::Claimed,
        "the same payment again"
    );
    assert_eq!(
        store.claim_payment(order_id, "pi_2").await.unwrap(),
        PaymentClaim::PaidBy("pi_1".into())
    );
    assert!(
        !store
            .activate(
                order_id,
                &terms(2, 500, "eur"),
                &Attempt::PaymentIntent("pi_3".into())
            )
            .await
            .unwrap(),
        "a paid order gets no new payable object"
    );

    let canceled = 9006;
    store
        .save(&OrderLink {
            order_id: canceled,
            canceled: true,
            ..OrderLink::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.claim_payment(canceled, "pi_9").await.unwrap(),
        PaymentClaim::Canceled
    );
    assert_eq!(
        store.by_order(canceled).await.unwrap().unwrap().paid_by,
        None
    );
}

async fn the_status_moves_forward_per_payment_and_nothing_replaces_paid(
    store: &dyn OrderLinkStore,
) {
    let order_id = 9007;
    let moved = |a: Advance| assert_eq!(a, Advance::Moved);
    moved(
        store
            .advance(order_id, "pi_1", 40, "Payment authorized")
            .await
            .unwrap(),
    );
    assert_eq!(
        store
            .advance(order_id, "pi_1", 20, "Payment Failed")
            .await
            .unwrap(),
        Advance::Refused {
            current_rank: 40,
            current_status: Some("Payment authorized".into())
        }
    );
    moved(
        store
            .advance(order_id, "pi_1", 40, "Payment authorized")
            .await
            .unwrap(),
    );
    // A new active payment starts its own progression.
    moved(
        store
            .advance(order_id, "pi_2", 20, "Payment Failed")
            .await
            .unwrap(),
    );
    moved(store.advance(order_id, "pi_2", 60, "Paid").await.unwrap());
    assert!(matches!(
        store
            .advance(order_id, "pi_3", 10, "Pending Payment")
            .await
            .unwrap(),
        Advance::Refused {
            current_rank: 60,
            ..
        }
    ));
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(
        (
            link.status_rank,
            link.status_name.as_deref(),
            link.status_payment_intent.as_deref()
        ),
        (60, Some("Paid"), Some("pi_2"))
    );
}

async fn only_the_payer_moves_a_paid_order_after_the_payment_and_payment_events_stay_below(
    store: &dyn OrderLinkStore,
) {
    let order_id = 9008;
    assert!(
        !store
            .after_payment(order_id, "pi_1", 80, "Refunded")
            .await
            .unwrap(),
        "an unpaid order has no after-payment status"
    );
    assert_eq!(
        store.claim_payment(order_id, "pi_1").await.unwrap(),
        PaymentClaim::Claimed
    );
    assert_eq!(
        store.advance(order_id, "pi_1", 60, "Paid").await.unwrap(),
        Advance::Moved
    );
    assert!(
        !store
            .after_payment(order_id, "pi_other", 80, "Refunded")
            .await
            .unwrap()
    );
    assert!(
        !store
            .after_payment(order_id, "pi_1", 40, "Payment authorized")
            .await
            .unwrap()
    );
    assert!(
        store
            .after_payment(order_id, "pi_1", 80, "Refunded")
            .await
            .unwrap()
    );
    // A late (or replayed) payment event cannot un-refund the order.
    assert!(matches!(
        store.advance(order_id, "pi_1", 60, "Paid").await.unwrap(),
        Advance::Refused {
            current_rank: 80,
            ..
        }
    ));
    // A failed refund restores the paid status: the after-payment band moves both ways.
    assert!(
        store
            .after_payment(order_id, "pi_1", 60, "Paid")
            .await
            .unwrap()
    );
    let link = store.by_order(order_id).await.unwrap().unwrap();
    assert_eq!(
        (link.status_rank, link.status_name.as_deref()),
        (60, Some("Paid"))
    );
}
