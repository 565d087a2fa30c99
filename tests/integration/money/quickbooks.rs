//! QuickBooks Online as the ledger sink, on both backends: each entry is booked once as a
//! `JournalEntry` across an outage, an expired access token and a refresh-token rotation (kept
//! in Secrets Manager on AWS, in the embedded store in `serve`); a refusal is dead-lettered.

use integration_tests::fakes::quickbooks::FakeQuickBooks;
use serde_json::Value;

use super::Bridge;
use super::ledger::{charge, txn};

const REALM: &str = "9130357992221046";
const CLIENT_ID: &str = "ABpaybridgeClientId";
const CLIENT_SECRET: &str = "paybridge-client-secret";
const FIRST_REFRESH: &str = "AB11-refresh-granted";
const ACCOUNTS: &str = "clearing=35,revenue=79,fees=112,refunds=80,disputes=113,bank=36";

/// The company's account Ids, in the order of the chart's roles (clearing … bank).
const ACCOUNT_IDS: [&str; 6] = ["35", "79", "112", "80", "113", "36"];

async fn books() -> FakeQuickBooks {
    FakeQuickBooks::start(REALM, &ACCOUNT_IDS, CLIENT_ID, CLIENT_SECRET, FIRST_REFRESH).await
}

/// The sink's configuration for the fake company, the default chart mapped to its accounts.
fn sink_config(qb: &FakeQuickBooks) -> paybridge::ledger::quickbooks::QuickBooksConfig {
    let accounts = (paybridge::ledger::Accounts::default().by_role().into_iter())
        .zip(ACCOUNT_IDS)
        .map(|((_, name), id)| (name.to_string(), id.to_string()))
        .collect();
    paybridge::ledger::quickbooks::QuickBooksConfig {
        api_base: qb.api_base.clone(),
        token_url: qb.token_url.clone(),
        realm_id: REALM.into(),
        client_id: CLIENT_ID.into(),
        client_secret: paybridge::secret::SecretString::new(CLIENT_SECRET),
        accounts,
        timeout: std::time::Duration::from_secs(5),
    }
}

/// A 5.00 USD sale, entry `le_payment_txn_<n>`.
fn sale(n: u32) -> paybridge::ledger::LedgerEntry {
    serde_json::from_value(serde_json::json!({"id": format!("le_payment_txn_{n}"),
        "kind": "payment", "occurred_at": "2026-11-29T12:00:00.000Z", "currency": "USD",
        "lines": [{"account": "Assets:Stripe:Clearing", "debit": "5.00", "credit": "0", "memo": "m"},
                  {"account": "Income:Sales", "debit": "0", "credit": "5.00", "memo": "m"}],
        "references": {"stripe_balance_transaction": format!("txn_{n}")}}))
    .unwrap()
}

fn env(qb: &FakeQuickBooks) -> Vec<(&'static str, String)> {
    vec![
        ("QUICKBOOKS_REALM_ID", REALM.into()),
        ("QUICKBOOKS_CLIENT_ID", CLIENT_ID.into()),
        ("QUICKBOOKS_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("QUICKBOOKS_ACCOUNTS", ACCOUNTS.into()),
        ("QUICKBOOKS_API_BASE", qb.api_base.clone()),
        ("QUICKBOOKS_TOKEN_URL", qb.token_url.clone()),
    ]
}

/// Order `order_id` is paid and its charge (10 000 minor units, fee 320) is reported `times`.
async fn charged(bridge: &dyn Bridge, order_id: i64, times: usize) {
    let intent = super::reconcile::ordered(bridge, order_id).await;
    let (ch, tx) = (format!("ch_{order_id}"), format!("txn_{order_id}"));
    bridge
        .stripe()
        .add_balance_transaction(txn(&tx, "charge", 10_000, 320));
    let charge = charge(&ch, &intent, &tx, 10_000);
    bridge.stripe().add_charge(charge.clone());
    for _ in 0..times {
        bridge.stripe_says("charge.succeeded", &charge).await;
    }
    bridge.drain().await;
}

fn posting(line: &Value) -> (String, String, String) {
    let detail = &line["JournalEntryLineDetail"];
    (
        detail["PostingType"].as_str().unwrap().to_string(),
        detail["AccountRef"]["value"].as_str().unwrap().to_string(),
        line["Amount"].to_string(),
    )
}

async fn entries_are_booked_in_quickbooks_once_each_across_an_outage_and_a_rotation(
    bridge: &dyn Bridge,
    qb: &FakeQuickBooks,
) {
    charged(bridge, 601, 3).await;
    let booked = qb.booked();
    assert_eq!(booked.len(), 1, "three deliveries, one journal entry");
    let lines: Vec<_> = booked[0]["Line"]
        .as_array()
        .unwrap()
        .iter()
        .map(posting)
        .collect();
    let expected = [
        ("Debit", "35", "100"),
        ("Credit", "79", "100"),
        ("Debit", "112", "3.2"),
        ("Credit", "35", "3.2"),
    ];
    assert_eq!(
        lines,
        expected.map(|(p, a, m)| (p.to_string(), a.to_string(), m.to_string())),
        "Dr clearing / Cr sales, Dr fees / Cr clearing, exact amounts"
    );
    assert_eq!(booked[0]["DocNumber"], "txn_601");
    assert_eq!(booked[0]["TxnDate"], "2026-11-29");
    assert_eq!(booked[0]["CurrencyRef"]["value"], "USD");
    assert_eq!(qb.refreshes(), 1);
    assert_ne!(
        qb.current_refresh_token(),
        FIRST_REFRESH,
        "the token rotated"
    );

    // QuickBooks is down for two calls: the event is retried, booked once.
    qb.go_down_for(2);
    charged(bridge, 602, 1).await;
    assert_eq!(qb.still_down_for(), 0);
    assert_eq!(qb.booked().len(), 2);

    // The access token expires: a refresh with the rotated (stored) refresh token, then booked.
    qb.expire_access_tokens();
    charged(bridge, 603, 1).await;
    assert_eq!(qb.booked().len(), 3);
    assert_eq!(
        qb.refreshes(),
        2,
        "the rotated refresh token was kept and worked"
    );
    // QuickBooks books an entry but its answer is lost: the retry carries the same requestid,
    // so QuickBooks answers it again instead of booking a second one.
    qb.lose_next_answers(1);
    charged(bridge, 605, 1).await;
    assert_eq!(qb.booked().len(), 4, "booked once although delivered twice");
    assert!(
        bridge.dead_letters().await.is_empty(),
        "nothing dead-lettered so far"
    );

    // QuickBooks refuses an entry (its fees account was made inactive): dead-lettered for a person.
    qb.close_account("112");
    charged(bridge, 604, 1).await;
    assert_eq!(qb.booked().len(), 4);
    let dead = bridge.dead_of_kind("ledger_sink_rejected").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0]["failure_reason"].contains("Invalid Reference Id"),
        "{dead:?}"
    );

    // The accountant reactivates the account; the operator redrives: booked, once.
    qb.reopen_account("112");
    bridge.redrive_all().await;
    bridge.drain().await;
    assert_eq!(qb.booked().len(), 5);
    assert_eq!(qb.booked()[4]["DocNumber"], "txn_604");
    assert!(bridge.dead_letters().await.is_empty());
    bridge.redrive_all().await;
    bridge.drain().await;
    assert_eq!(qb.booked().len(), 5, "a second redrive has nothing to book");
}

mod entries_are_booked_in_quickbooks_once_each_across_an_outage_and_a_rotation {
    use integration_tests::moto;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_moto() {
        let qb = books().await;
        let secrets = aws_sdk_secretsmanager::Client::new(&moto::sdk_config().await);
        let arn = secrets
            .create_secret()
            .name(integration_tests::unique_name("quickbooks-refresh-token"))
            .secret_string(FIRST_REFRESH)
            .send()
            .await
            .expect("moto creates the secret")
            .arn
            .expect("an ARN");
        let mut env = env(&qb);
        env.push(("QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN", arn.clone()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let bridge = crate::money::Moto::start(&env).await;

        super::entries_are_booked_in_quickbooks_once_each_across_an_outage_and_a_rotation(
            &bridge, &qb,
        )
        .await;

        let stored = secrets
            .get_secret_value()
            .secret_id(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            stored.secret_string(),
            Some(qb.current_refresh_token().as_str()),
            "Secrets Manager holds the newest refresh token"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_serve() {
        let qb = books().await;
        let mut env = env(&qb);
        env.push(("QUICKBOOKS_REFRESH_TOKEN", FIRST_REFRESH.into()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let bridge = crate::money::Serve::start(&env).await;

        super::entries_are_booked_in_quickbooks_once_each_across_an_outage_and_a_rotation(
            &bridge, &qb,
        )
        .await;
    }
}

/// A store whose first read is overtaken by another instance's rotation (it answers the old
/// token once, then the newest).
struct Overtaken {
    old: String,
    newest: String,
    reads: std::sync::Mutex<usize>,
}

#[async_trait::async_trait]
impl paybridge::ledger::tokens::RefreshTokenStore for Overtaken {
    async fn load(
        &self,
    ) -> Result<paybridge::secret::SecretString, paybridge::ledger::tokens::TokenStoreError> {
        let mut reads = self.reads.lock().unwrap();
        *reads += 1;
        let token = if *reads == 1 { &self.old } else { &self.newest };
        Ok(paybridge::secret::SecretString::new(token.clone()))
    }

    async fn save(
        &self,
        _: &paybridge::secret::SecretString,
    ) -> Result<(), paybridge::ledger::tokens::TokenStoreError> {
        Ok(())
    }
}

/// Two instances refresh at once: the one holding the token the other just rotated away is
/// refused (invalid_grant), reads the store again and books with the newest; with no newer
/// token it gives up with a message that says to authorize again.
#[tokio::test]
async fn an_instance_overtaken_by_a_rotation_uses_the_newest_token_and_a_dead_token_says_so() {
    use paybridge::ledger::quickbooks::QuickBooksSink;
    use paybridge::ledger::sink::{LedgerSink, SinkError};

    let qb = books().await;
    let config = sink_config(&qb);
    let clock = std::sync::Arc::new(paybridge::clock::SystemClock);
    let overtaken = Overtaken {
        old: "AB11-rotated-away".into(),
        newest: FIRST_REFRESH.into(),
        reads: Default::default(),
    };
    let sink = QuickBooksSink::new(
        config.clone(),
        std::sync::Arc::new(overtaken),
        clock.clone(),
    )
    .unwrap();
    sink.deliver(&sale(1), "key-1").await.unwrap();
    assert_eq!(qb.booked().len(), 1);

    let dead = paybridge::ledger::tokens::InMemoryRefreshTokens::new(Some(
        paybridge::secret::SecretString::new("AB11-revoked"),
    ));
    let sink = QuickBooksSink::new(config, std::sync::Arc::new(dead), clock).unwrap();
    let Err(SinkError::Rejected(reason)) = sink.deliver(&sale(2), "key-2").await else {
        panic!("a revoked refresh token booked something")
    };
    assert!(reason.contains("authorize paybridge again"), "{reason}");
    assert_eq!(qb.booked().len(), 1);
}

/// A store that cannot save the next `failures` tokens (Secrets Manager throttled or down).
struct Flaky {
    inner: paybridge::ledger::tokens::InMemoryRefreshTokens,
    failures: std::sync::Mutex<usize>,
}

#[async_trait::async_trait]
impl paybridge::ledger::tokens::RefreshTokenStore for Flaky {
    async fn load(
        &self,
    ) -> Result<paybridge::secret::SecretString, paybridge::ledger::tokens::TokenStoreError> {
        self.inner.load().await
    }

    async fn save(
        &self,
        token: &paybridge::secret::SecretString,
    ) -> Result<(), paybridge::ledger::tokens::TokenStoreError> {
        let refuse = {
            let mut failures = self.failures.lock().unwrap();
            let refuse = *failures > 0;
            *failures = failures.saturating_sub(1);
            refuse
        };
        if refuse {
            return Err(paybridge::ledger::tokens::TokenStoreError::Unavailable(
                "throttled".into(),
            ));
        }
        self.inner.save(token).await
    }
}

/// A rotated refresh token the store would not take is kept in memory, used for the next
/// refresh, and saved as soon as the store takes it: nothing is lost, nothing re-authorized.
#[tokio::test]
async fn a_rotated_token_the_store_refused_is_kept_used_and_saved_later() {
    use paybridge::ledger::quickbooks::QuickBooksSink;
    use paybridge::ledger::sink::LedgerSink;
    use paybridge::ledger::tokens::RefreshTokenStore;

    let qb = books().await;
    let config = sink_config(&qb);
    let store = std::sync::Arc::new(Flaky {
        inner: paybridge::ledger::tokens::InMemoryRefreshTokens::new(Some(
            paybridge::secret::SecretString::new(FIRST_REFRESH),
        )),
        failures: std::sync::Mutex::new(2),
    });
    let clock = std::sync::Arc::new(paybridge::clock::SystemClock);
    let sink = QuickBooksSink::new(config, store.clone(), clock).unwrap();

    sink.deliver(&sale(1), "key-1").await.unwrap();
    assert_eq!(
        store.load().await.unwrap().expose(),
        FIRST_REFRESH,
        "the save failed"
    );
    qb.expire_access_tokens();
    sink.deliver(&sale(2), "key-2").await.unwrap();

    assert_eq!(qb.booked().len(), 2);
    assert_eq!(
        qb.refreshes(),
        2,
        "the second refresh used the token kept in memory"
    );
    assert_eq!(
        store.load().await.unwrap().expose(),
        qb.current_refresh_token(),
        "the newest token reached the store"
    );
}
