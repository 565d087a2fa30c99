//! Order links in SQLite: fields only ever filled in, every payable object indexed back to its
//! order, and the DynamoDB adapter's conditional writes as `UPDATE … WHERE`.

use std::collections::BTreeSet;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::embedded::SqliteDatabase;
use crate::links::{
    Advance, Attempt, FINAL_RANK, OrderLink, OrderLinkStore, OrderTerms, OrderVersion,
    PaymentClaim, TermsApplied,
};
use crate::store::StoreError;

/// Order links in `order_links`; PaymentIntents and Checkout Sessions indexed in
/// `payment_intent_links` and `checkout_session_links`.
#[derive(Debug, Clone)]
pub struct SqliteOrderLinkStore {
    db: SqliteDatabase,
}

impl SqliteOrderLinkStore {
    /// A store on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }

    /// The link of the order an index table (`query`, one `?1`) names for `id`.
    async fn by_index(
        &self,
        query: &'static str,
        id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        let id = id.to_string();
        self.db
            .read(move |c| {
                let order: Option<i64> = c
                    .prepare_cached(query)?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                order.map_or(Ok(None), |order| select_order(c, order))
            })
            .await
    }

    /// On the order's row (created empty when absent), runs one conditional `UPDATE` (`sql`
    /// with `?1` = the order id, then `values`): `None` when it matched, else the link as it
    /// stands.
    async fn update_row(
        &self,
        order_id: i64,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<Option<OrderLink>, StoreError> {
        self.db
            .write(move |tx| {
                ensure_row(tx, order_id)?;
                let mut all = vec![Value::Integer(order_id)];
                all.extend(values);
                if tx
                    .prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(all))?
                    > 0
                {
                    return Ok(None);
                }
                select_order(tx, order_id)
            })
            .await
    }

    /// Runs one conditional `UPDATE` (`sql` with `?1` = the order id); whether it matched.
    async fn update_if(
        &self,
        order_id: i64,
        sql: &'static str,
        values: Vec<Value>,
    ) -> Result<bool, StoreError> {
        self.db
            .write(move |tx| {
                let mut all = vec![Value::Integer(order_id)];
                all.extend(values);
                let changed = tx
                    .prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(all))?;
                Ok(changed > 0)
            })
            .await
    }
}

const COLUMNS: &str = "order_id, order_guid, site, payment_intent_id, checkout_session_id, \
    amount, currency, order_version, published, paid_by, canceled, status_rank, status_name, \
    status_payment_intent";

fn link_from(row: &Row<'_>) -> rusqlite::Result<OrderLink> {
    let version: Option<String> = row.get(7)?;
    Ok(OrderLink {
        order_id: row.get(0)?,
        order_guid: row.get(1)?,
        site: row.get(2)?,
        payment_intent_id: row.get(3)?,
        checkout_session_id: row.get(4)?,
        amount: row.get(5)?,
        currency: row.get(6)?,
        version: version.as_deref().and_then(OrderVersion::parse),
        published: row.get(8)?,
        paid_by: row.get(9)?,
        canceled: row.get(10)?,
        status_rank: row.get(11)?,
        status_name: row.get(12)?,
        status_payment_intent: row.get(13)?,
        payment_intents: BTreeSet::new(),
        checkout_sessions: BTreeSet::new(),
    })
}

fn ids(connection: &Connection, sql: &str, order_id: i64) -> rusqlite::Result<BTreeSet<String>> {
    connection
        .prepare_cached(sql)?
        .query_map([order_id], |row| row.get(0))?
        .collect()
}

fn select_order(connection: &Connection, order_id: i64) -> rusqlite::Result<Option<OrderLink>> {
    let link = connection
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM order_links WHERE order_id = ?1"
        ))?
        .query_row([order_id], link_from)
        .optional()?;
    let Some(mut link) = link else {
        return Ok(None);
    };
    link.payment_intents = ids(
        connection,
        "SELECT payment_intent_id FROM payment_intent_links WHERE order_id = ?1",
        order_id,
    )?;
    link.checkout_sessions = ids(
        connection,
        "SELECT checkout_session_id FROM checkout_session_links WHERE order_id = ?1",
        order_id,
    )?;
    Ok(Some(link))
}

fn ensure_row(tx: &Transaction<'_>, order_id: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO order_links (order_id) VALUES (?1) ON CONFLICT DO NOTHING")?
        .execute([order_id])?;
    Ok(())
}

#[async_trait::async_trait]
impl OrderLinkStore for SqliteOrderLinkStore {
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError> {
        let link = link.clone();
        self.db
            .write(move |tx| {
                ensure_row(tx, link.order_id)?;
                tx.prepare_cached(
                    "UPDATE order_links SET
                       order_guid = COALESCE(?2, order_guid),
                       site = COALESCE(?3, site),
                       published = COALESCE(?4, published),
                       canceled = canceled OR ?5
                     WHERE order_id = ?1",
                )?
                .execute(params![
                    link.order_id,
                    link.order_guid,
                    link.site,
                    link.published,
                    link.canceled
                ])?;
                for id in &link.payment_intents {
                    tx.prepare_cached(
                        "INSERT INTO payment_intent_links (payment_intent_id, order_id) VALUES (?1, ?2)
                         ON CONFLICT (payment_intent_id) DO UPDATE SET order_id = excluded.order_id",
                    )?
                    .execute(params![id, link.order_id])?;
                }
                for id in &link.checkout_sessions {
                    tx.prepare_cached(
                        "INSERT INTO checkout_session_links (checkout_session_id, order_id) VALUES (?1, ?2)
                         ON CONFLICT (checkout_session_id) DO UPDATE SET order_id = excluded.order_id",
                    )?
                    .execute(params![id, link.order_id])?;
                }
                Ok(())
            })
            .await
    }

    async fn by_order(&self, order_id: i64) -> Result<Option<OrderLink>, StoreError> {
        self.db.read(move |c| select_order(c, order_id)).await
    }

    async fn by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        self.by_index(
            "SELECT order_id FROM payment_intent_links WHERE payment_intent_id = ?1",
            payment_intent_id,
        )
        .await
    }

    async fn by_checkout_session(
        &self,
        checkout_session_id: &str,
    ) -> Result<Option<OrderLink>, StoreError> {
        self.by_index(
            "SELECT order_id FROM checkout_session_links WHERE checkout_session_id = ?1",
            checkout_session_id,
        )
        .await
    }

    async fn apply_terms(
        &self,
        order_id: i64,
        terms: &OrderTerms,
    ) -> Result<TermsApplied, StoreError> {
        let current = self
            .update_row(
                order_id,
                "UPDATE order_links SET order_version = ?2, amount = ?3, currency = ?4
                 WHERE order_id = ?1 AND (order_version IS NULL OR order_version <= ?2)",
                vec![
                    terms.version.as_str().to_string().into(),
                    terms.amount.into(),
                    terms.currency.clone().into(),
                ],
            )
            .await?;
        Ok(match current {
            None => TermsApplied::Applied,
            Some(link) => TermsApplied::Stale {
                current: link.version.unwrap_or_else(|| terms.version.clone()),
            },
        })
    }

    async fn lease(
        &self,
        order_id: i64,
        holder: &str,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.update_row(
            order_id,
            "UPDATE order_links SET lease_holder = ?2, lease_until = ?3
             WHERE order_id = ?1
               AND (lease_until IS NULL OR lease_until < ?4 OR lease_holder = ?2)",
            vec![holder.to_string().into(), until_ms.into(), now_ms.into()],
        )
        .await
        .map(|refused| refused.is_none())
    }

    async fn release(&self, order_id: i64, holder: &str) -> Result<(), StoreError> {
        self.update_if(
            order_id,
            "UPDATE order_links SET lease_holder = NULL, lease_until = NULL
             WHERE order_id = ?1 AND lease_holder = ?2",
            vec![holder.to_string().into()],
        )
        .await
        .map(|_released| ())
    }

    async fn activate(
        &self,
        order_id: i64,
        terms: &OrderTerms,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let (intent, session) = match attempt {
            Attempt::PaymentIntent(id) => (Some(id.clone()), None),
            Attempt::CheckoutSession(id) => (None, Some(id.clone())),
        };
        self.update_row(
            order_id,
            "UPDATE order_links SET order_version = ?2, amount = ?3, currency = ?4,
               payment_intent_id = ?5, checkout_session_id = ?6
             WHERE order_id = ?1
               AND (order_version IS NULL OR order_version <= ?2)
               AND paid_by IS NULL AND NOT canceled",
            vec![
                terms.version.as_str().to_string().into(),
                terms.amount.into(),
                terms.currency.clone().into(),
                intent.into(),
                session.into(),
            ],
        )
        .await
        .map(|refused| refused.is_none())
    }

    async fn bind_session_payment(
        &self,
        order_id: i64,
        checkout_session_id: &str,
        payment_intent_id: &str,
    ) -> Result<bool, StoreError> {
        self.update_if(
            order_id,
            "UPDATE order_links SET payment_intent_id = ?3
             WHERE order_id = ?1 AND checkout_session_id = ?2",
            vec![
                checkout_session_id.to_string().into(),
                payment_intent_id.to_string().into(),
            ],
        )
        .await
    }

    async fn claim_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
    ) -> Result<PaymentClaim, StoreError> {
        // One payer: the same one passes again, nobody pays a canceled order.
        let claim = "UPDATE order_links SET paid_by = ?2
             WHERE order_id = ?1 AND (paid_by = ?2 OR (paid_by IS NULL AND NOT canceled))";
        let payer = vec![payment_intent_id.to_string().into()];
        let current = self.update_row(order_id, claim, payer).await?;
        Ok(match current.map(|link| link.paid_by) {
            None => PaymentClaim::Claimed,
            Some(Some(other)) => PaymentClaim::PaidBy(other),
            Some(None) => PaymentClaim::Canceled,
        })
    }

    async fn after_payment(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<bool, StoreError> {
        if rank < FINAL_RANK {
            return Ok(false);
        }
        self.update_if(
            order_id,
            "UPDATE order_links SET status_rank = ?3, status_name = ?4, status_payment_intent = ?2
             WHERE order_id = ?1 AND paid_by = ?2 AND status_rank >= ?5",
            vec![
                payment_intent_id.to_string().into(),
                rank.into(),
                status_name.to_string().into(),
                FINAL_RANK.into(),
            ],
        )
        .await
    }

    async fn advance(
        &self,
        order_id: i64,
        payment_intent_id: &str,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError> {
        let (pi, name) = (payment_intent_id.to_string(), status_name.to_string());
        self.db
            .write(move |tx| {
                ensure_row(tx, order_id)?;
                let moved = tx
                    .prepare_cached(
                        "UPDATE order_links SET status_rank = ?2, status_name = ?3, status_payment_intent = ?4
                         WHERE order_id = ?1 AND (status_rank <= ?2
                           OR ((status_payment_intent IS NULL OR status_payment_intent <> ?4)
                               AND status_rank < ?5))",
                    )?
                    .execute(params![order_id, rank, name, pi, FINAL_RANK])?;
                if moved > 0 {
                    return Ok(Advance::Moved);
                }
                let current = select_order(tx, order_id)?;
                Ok(Advance::Refused {
                    current_rank: current.as_ref().map_or(0, |l| l.status_rank),
                    current_status: current.and_then(|l| l.status_name),
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_link_store_contract() {
        let (_dir, db) = temp_database();
        crate::links::contract::run_all(&SqliteOrderLinkStore::new(db)).await;
    }
}
