//! The behaviour every [`CustomerLinkStore`] adapter must have. Panics on the first broken
//! promise.

use super::{Bound, CustomerLinkStore, Side};
use crate::links::OrderVersion;

fn version(millis: i64) -> OrderVersion {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000);
    OrderVersion::new(at.ok(), 1_764_417_600)
}

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn CustomerLinkStore) {
    one_stripe_customer_per_kentico_customer(store).await;
    writes_are_recorded_per_side_and_versions_only_move_forward(store).await;
    an_unlinked_customer_is_not_found_and_may_be_linked_again(store).await;
    billing_is_written_on_its_version_and_only_forward(store).await;
}

async fn billing_is_written_on_its_version_and_only_forward(store: &dyn CustomerLinkStore) {
    use super::billing::{self, BillingRecord};
    let empty = store.billing("cus_billing").await.unwrap();
    assert_eq!(empty.version, 0);
    assert!(empty.billing.records.is_empty());
    let event = |created: i64, status: &str| {
        serde_json::json!({"id": format!("evt_{created}"), "type": "customer.subscription.updated",
            "created": created, "data": {"object": {"id": "sub_1", "object": "subscription",
            "status": status, "latest_invoice": "in_1"}}})
    };
    let active = BillingRecord::from_event(&event(20, "active")).unwrap();
    let incomplete = BillingRecord::from_event(&event(10, "incomplete")).unwrap();
    assert!(billing::record(store, "cus_billing", active).await.unwrap());
    assert!(
        !billing::record(store, "cus_billing", incomplete)
            .await
            .unwrap(),
        "an older event changes nothing"
    );
    let stored = store.billing("cus_billing").await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.billing.records["sub_1"].status, "active");
    let stale = stored.version - 1;
    assert!(
        !store
            .put_billing("cus_billing", &stored.billing, stale)
            .await
            .unwrap(),
        "a write on an old version is refused"
    );
    let newer = BillingRecord::from_event(&event(30, "past_due")).unwrap();
    assert!(billing::record(store, "cus_billing", newer).await.unwrap());
    let stored = store.billing("cus_billing").await.unwrap();
    assert_eq!(
        (
            stored.version,
            stored.billing.records["sub_1"].status.as_str()
        ),
        (2, "past_due")
    );
    assert_eq!(
        store.billing("cus_other").await.unwrap().version,
        0,
        "per customer"
    );
}

async fn one_stripe_customer_per_kentico_customer(store: &dyn CustomerLinkStore) {
    assert_eq!(store.get(77).await.unwrap(), None);
    let Bound::Linked(link) = store
        .bind(77, Some("guid-77"), Some("shop"), "cus_a")
        .await
        .unwrap()
    else {
        panic!("a first bind links")
    };
    assert_eq!(link.stripe_customer_id.as_deref(), Some("cus_a"));
    assert_eq!(link.customer_guid.as_deref(), Some("guid-77"));
    assert_eq!(
        store.bind(77, None, None, "cus_a").await.unwrap(),
        Bound::Linked(link.clone()),
        "binding the same again is harmless"
    );
    assert_eq!(
        store.bind(77, None, None, "cus_b").await.unwrap(),
        Bound::LinkedToAnother("cus_a".into()),
        "never two"
    );
    assert_eq!(store.by_stripe_customer("cus_a").await.unwrap(), Some(link));
    assert_eq!(store.by_stripe_customer("cus_b").await.unwrap(), None);
}

async fn writes_are_recorded_per_side_and_versions_only_move_forward(
    store: &dyn CustomerLinkStore,
) {
    store.bind(78, None, None, "cus_78").await.unwrap();
    let (v1, v2) = (version(1_000), version(2_000));
    assert!(
        store
            .record_written(78, Side::Stripe, "fp-2", Some(&v2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_written(78, Side::Stripe, "fp-1", Some(&v1))
            .await
            .unwrap(),
        "an older version is not recorded over a newer one"
    );
    assert!(
        store
            .record_written(78, Side::Kentico, "fp-k", None)
            .await
            .unwrap()
    );
    let link = store.get(78).await.unwrap().unwrap();
    assert_eq!(link.written_to_stripe.as_deref(), Some("fp-2"));
    assert_eq!(link.kentico_version, Some(v2));
    assert_eq!(link.written_to_kentico.as_deref(), Some("fp-k"));
}

async fn an_unlinked_customer_is_not_found_and_may_be_linked_again(store: &dyn CustomerLinkStore) {
    store
        .bind(79, Some("guid-79"), None, "cus_79")
        .await
        .unwrap();
    let unlinked = store.unlink("cus_79").await.unwrap().unwrap();
    assert!(unlinked.unlinked);
    assert_eq!(store.by_stripe_customer("cus_79").await.unwrap(), None);
    assert_eq!(store.unlink("cus_79").await.unwrap(), None, "once");
    let kept = store.get(79).await.unwrap().unwrap();
    assert_eq!(
        kept.customer_guid.as_deref(),
        Some("guid-79"),
        "the record is kept"
    );
    let Bound::Linked(again) = store.bind(79, None, None, "cus_79b").await.unwrap() else {
        panic!("an unlinked customer may be linked again")
    };
    assert!(!again.unlinked);
    assert_eq!(again.stripe_customer_id.as_deref(), Some("cus_79b"));
}
