//! Order links in SQLite: fields only ever filled in, a PaymentIntent index, a rank that only moves forward.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteDatabase;
use crate::idempotency::StoreError;
use crate::links::{Advance, OrderLink, OrderLinkStore};

/// Order links in the `order_links` table, PaymentIntents indexed in `payment_intent_links`.
#[derive(Debug, Clone)]
pub struct SqliteOrderLinkStore {
    db: SqliteDatabase,
}

impl SqliteOrderLinkStore {
    /// A store on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

const COLUMNS: &str = "o.order_id, o.order_guid, o.site, o.payment_intent_id, \
    o.checkout_session_id, o.amount, o.currency, o.status_rank, o.status_name";

fn link_from(row: &Row<'_>) -> rusqlite::Result<OrderLink> {
    Ok(OrderLink {
        order_id: row.get(0)?,
        order_guid: row.get(1)?,
        site: row.get(2)?,
        payment_intent_id: row.get(3)?,
        checkout_session_id: row.get(4)?,
        amount: row.get(5)?,
        currency: row.get(6)?,
        status_rank: row.get(7)?,
        status_name: row.get(8)?,
    })
}

fn select_order(connection: &Connection, order_id: i64) -> rusqlite::Result<Option<OrderLink>> {
    connection
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM order_links o WHERE o.order_id = ?1"
        ))?
        .query_row([order_id], link_from)
        .optional()
}

#[async_trait::async_trait]
impl OrderLinkStore for SqliteOrderLinkStore {
    async fn save(&self, link: &OrderLink) -> Result<(), StoreError> {
        let link = link.clone();
        self.db
            .write(move |tx| {
                tx.prepare_cached(
                    "INSERT INTO order_links (order_id, order_guid, site, payment_intent_id,
                       checkout_session_id, amount, currency)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (order_id) DO UPDATE SET
                       order_guid = COALESCE(excluded.order_guid, order_guid),
                       site = COALESCE(excluded.site, site),
                       payment_intent_id = COALESCE(excluded.payment_intent_id, payment_intent_id),
                       checkout_session_id = COALESCE(excluded.checkout_session_id, checkout_session_id),
                       amount = COALESCE(excluded.amount, amount),
                       currency = COALESCE(excluded.currency, currency)",
                )?
                .execute(params![
                    link.order_id,
                    link.order_guid,
                    link.site,
                    link.payment_intent_id,
                    link.checkout_session_id,
                    link.amount,
                    link.currency
                ])?;
                // Like the DynamoDB index item: the latest order saved with a PaymentIntent owns it.
                if let Some(payment_intent) = &link.payment_intent_id {
                    tx.prepare_cached(
                        "INSERT INTO payment_intent_links (payment_intent_id, order_id) VALUES (?1, ?2)
                         ON CONFLICT (payment_intent_id) DO UPDATE SET order_id = excluded.order_id",
                    )?
                    .execute(params![payment_intent, link.order_id])?;
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
        let payment_intent_id = payment_intent_id.to_string();
        self.db
            .read(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM payment_intent_links p
                     JOIN order_links o ON o.order_id = p.order_id
                     WHERE p.payment_intent_id = ?1"
                ))?
                .query_row([payment_intent_id], link_from)
                .optional()
            })
            .await
    }

    async fn advance(
        &self,
        order_id: i64,
        rank: u32,
        status_name: &str,
    ) -> Result<Advance, StoreError> {
        let status_name = status_name.to_string();
        self.db
            .write(move |tx| {
                let moved = tx
                    .prepare_cached(
                        "INSERT INTO order_links (order_id, status_rank, status_name) VALUES (?1, ?2, ?3)
                         ON CONFLICT (order_id) DO UPDATE SET
                           status_rank = excluded.status_rank, status_name = excluded.status_name
                         WHERE order_links.status_rank <= excluded.status_rank",
                    )?
                    .execute(params![order_id, rank, status_name])?;
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
    use crate::embedded::database::temp_database;

    #[tokio::test]
    async fn a_lower_rank_is_refused_and_an_equal_one_passes() {
        let (_dir, db) = temp_database();
        let store = SqliteOrderLinkStore::new(db);

        assert_eq!(store.advance(1, 60, "Paid").await.unwrap(), Advance::Moved);
        let late = store.advance(1, 30, "Payment pending").await.unwrap();
        let retried = store.advance(1, 60, "Paid").await.unwrap();

        assert_eq!(
            late,
            Advance::Refused {
                current_rank: 60,
                current_status: Some("Paid".into())
            }
        );
        assert_eq!(retried, Advance::Moved);
    }

    #[tokio::test]
    async fn saving_fills_fields_never_erases_them_and_indexes_the_payment_intent() {
        let (_dir, db) = temp_database();
        let store = SqliteOrderLinkStore::new(db);
        store.advance(7, 20, "Payment Failed").await.unwrap();

        store
            .save(&OrderLink {
                order_id: 7,
                order_guid: Some("6f1c".into()),
                payment_intent_id: Some("pi_1".into()),
                amount: Some(1999),
                ..OrderLink::default()
            })
            .await
            .unwrap();
        store
            .save(&OrderLink {
                order_id: 7,
                currency: Some("eur".into()),
                ..OrderLink::default()
            })
            .await
            .unwrap();

        let link = store.by_payment_intent("pi_1").await.unwrap().unwrap();
        assert_eq!(
            link,
            OrderLink {
                order_id: 7,
                order_guid: Some("6f1c".into()),
                payment_intent_id: Some("pi_1".into()),
                amount: Some(1999),
                currency: Some("eur".into()),
                status_rank: 20,
                status_name: Some("Payment Failed".into()),
                ..OrderLink::default()
            }
        );
        assert_eq!(store.by_order(7).await.unwrap(), Some(link));
        assert_eq!(store.by_payment_intent("pi_unknown").await.unwrap(), None);
        assert_eq!(store.by_order(8).await.unwrap(), None);
    }
}
