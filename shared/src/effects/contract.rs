//! The behaviour every [`EffectStore`] adapter must have, as one suite run against each of them
//! (in memory, SQLite, DynamoDB on moto). Panics on the first broken promise.

use super::{EffectKey, EffectStore, Recorded};

/// Runs every check against `store` (business keys starting `contract-` must not exist in it
/// yet).
pub async fn run_all(store: &dyn EffectStore) {
    an_unknown_effect_reads_as_none(store).await;
    the_first_recorded_value_wins_and_stays(store).await;
    kinds_and_business_keys_are_independent(store).await;
    of_racing_records_exactly_one_wins(store).await;
}

async fn an_unknown_effect_reads_as_none(store: &dyn EffectStore) {
    let key = EffectKey::new("payment_intent", "contract-unknown");

    assert_eq!(store.get(&key).await.unwrap(), None);
}

async fn the_first_recorded_value_wins_and_stays(store: &dyn EffectStore) {
    let key = EffectKey::new("payment_intent", "contract-first");

    let first = store.record(&key, "pi_1").await.unwrap();
    let second = store.record(&key, "pi_2").await.unwrap();
    let third = store.record(&key, "pi_1").await.unwrap();

    assert_eq!(first, Recorded::New("pi_1".into()));
    assert_eq!(second, Recorded::Existing("pi_1".into()));
    assert_eq!(third, Recorded::Existing("pi_1".into()));
    assert_eq!(store.get(&key).await.unwrap(), Some("pi_1".into()));
}

async fn kinds_and_business_keys_are_independent(store: &dyn EffectStore) {
    let session = EffectKey::new("checkout_session", "contract-order");
    let intent = EffectKey::new("payment_intent", "contract-order");
    let other_order = EffectKey::new("payment_intent", "contract-other-order");

    store.record(&session, "cs_1").await.unwrap();

    assert_eq!(store.get(&intent).await.unwrap(), None);
    assert_eq!(
        store.record(&intent, "pi_1").await.unwrap(),
        Recorded::New("pi_1".into())
    );
    assert_eq!(
        store.record(&other_order, "pi_2").await.unwrap(),
        Recorded::New("pi_2".into())
    );
    assert_eq!(store.get(&session).await.unwrap(), Some("cs_1".into()));
    assert_eq!(store.get(&intent).await.unwrap(), Some("pi_1".into()));
    assert_eq!(store.get(&other_order).await.unwrap(), Some("pi_2".into()));
}

async fn of_racing_records_exactly_one_wins(store: &dyn EffectStore) {
    let key = EffectKey::new("refund", "contract-race");
    let values: Vec<String> = (0..8).map(|n| format!("re_{n}")).collect();

    let results = futures::future::join_all(values.iter().map(|v| store.record(&key, v))).await;

    let results: Vec<Recorded> = results.into_iter().map(Result::unwrap).collect();
    let winners: Vec<&str> = results
        .iter()
        .filter_map(|r| match r {
            Recorded::New(value) => Some(value.as_str()),
            Recorded::Existing(_) => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = winners[0];
    assert!(results.iter().all(|r| r.value() == winner), "{results:?}");
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(winner));
}
