//! Customer links in SQLite (`customer_links`); every change is one conditional statement.

use rusqlite::{OptionalExtension, Row, params};

use super::{
    Bound, CustomerBilling, CustomerLink, CustomerLinkStore, Side, StoredBilling, billing,
};
use crate::embedded::SqliteDatabase;
use crate::links::OrderVersion;
use crate::store::StoreError;

const COLUMNS: &str = "kentico_customer_id, customer_guid, site, stripe_customer_id, \
    kentico_version, written_to_stripe, written_to_kentico, unlinked";

/// The SQLite adapter.
#[derive(Debug, Clone)]
pub struct SqliteCustomerLinkStore {
    db: SqliteDatabase,
}

impl SqliteCustomerLinkStore {
    /// Links on `db`.
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }

    async fn one(
        &self,
        condition: &'static str,
        value: rusqlite::types::Value,
    ) -> Result<Option<CustomerLink>, StoreError> {
        self.db
            .read(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM customer_links WHERE {condition}"),
                    params![value],
                    read_link,
                )
                .optional()
            })
            .await
    }
}

fn read_link(row: &Row<'_>) -> rusqlite::Result<CustomerLink> {
    let version: Option<String> = row.get(4)?;
    Ok(CustomerLink {
        kentico_customer_id: row.get(0)?,
        customer_guid: row.get(1)?,
        site: row.get(2)?,
        stripe_customer_id: row.get(3)?,
        kentico_version: version.as_deref().and_then(OrderVersion::parse),
        written_to_stripe: row.get(5)?,
        written_to_kentico: row.get(6)?,
        unlinked: row.get::<_, i64>(7)? != 0,
    })
}

#[async_trait::async_trait]
impl CustomerLinkStore for SqliteCustomerLinkStore {
    async fn get(&self, kentico_customer_id: i64) -> Result<Option<CustomerLink>, StoreError> {
        self.one("kentico_customer_id = ?1", kentico_customer_id.into())
            .await
    }

    async fn by_stripe_customer(
        &self,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        self.one(
            "stripe_customer_id = ?1 AND unlinked = 0",
            stripe_customer_id.to_string().into(),
        )
        .await
    }

    async fn bind(
        &self,
        kentico_customer_id: i64,
        customer_guid: Option<&str>,
        site: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Bound, StoreError> {
        let (guid, site, stripe) = (
            customer_guid.map(str::to_owned),
            site.map(str::to_owned),
            stripe_customer_id.to_string(),
        );
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO customer_links (kentico_customer_id) VALUES (?1)
                     ON CONFLICT (kentico_customer_id) DO NOTHING",
                    params![kentico_customer_id],
                )?;
                tx.execute(
                    "UPDATE customer_links SET stripe_customer_id = ?2, unlinked = 0,
                         customer_guid = COALESCE(customer_guid, ?3), site = COALESCE(site, ?4)
                     WHERE kentico_customer_id = ?1
                       AND (stripe_customer_id IS NULL OR unlinked = 1 OR stripe_customer_id = ?2)",
                    params![kentico_customer_id, stripe, guid, site],
                )?;
                let link = tx.query_row(
                    &format!("SELECT {COLUMNS} FROM customer_links WHERE kentico_customer_id = ?1"),
                    params![kentico_customer_id],
                    read_link,
                )?;
                Ok(match &link.stripe_customer_id {
                    Some(bound) if *bound != stripe => Bound::LinkedToAnother(bound.clone()),
                    _ => Bound::Linked(link),
                })
            })
            .await
    }

    async fn record_written(
        &self,
        kentico_customer_id: i64,
        side: Side,
        fingerprint: &str,
        version: Option<&OrderVersion>,
    ) -> Result<bool, StoreError> {
        let fingerprint = fingerprint.to_string();
        let version = version.map(|v| v.as_str().to_string());
        let changed = self
            .db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO customer_links (kentico_customer_id) VALUES (?1)
                     ON CONFLICT (kentico_customer_id) DO NOTHING",
                    params![kentico_customer_id],
                )?;
                match side {
                    Side::Stripe => tx.execute(
                        "UPDATE customer_links
                         SET written_to_stripe = ?2, kentico_version = COALESCE(?3, kentico_version)
                         WHERE kentico_customer_id = ?1
                           AND (?3 IS NULL OR kentico_version IS NULL OR kentico_version <= ?3)",
                        params![kentico_customer_id, fingerprint, version],
                    ),
                    Side::Kentico => tx.execute(
                        "UPDATE customer_links SET written_to_kentico = ?2
                         WHERE kentico_customer_id = ?1",
                        params![kentico_customer_id, fingerprint],
                    ),
                }
            })
            .await?;
        Ok(changed > 0)
    }

    async fn unlink(&self, stripe_customer_id: &str) -> Result<Option<CustomerLink>, StoreError> {
        let stripe = stripe_customer_id.to_string();
        self.db
            .write(move |tx| {
                let id: Option<i64> = tx
                    .query_row(
                        "SELECT kentico_customer_id FROM customer_links
                         WHERE stripe_customer_id = ?1 AND unlinked = 0",
                        params![stripe],
                        |row| row.get(0),
                    )
                    .optional()?;
                let Some(id) = id else {
                    return Ok(None);
                };
                tx.execute(
                    "UPDATE customer_links SET unlinked = 1 WHERE kentico_customer_id = ?1",
                    params![id],
                )?;
                tx.query_row(
                    &format!("SELECT {COLUMNS} FROM customer_links WHERE kentico_customer_id = ?1"),
                    params![id],
                    read_link,
                )
                .optional()
            })
            .await
    }

    async fn billing(&self, stripe_customer_id: &str) -> Result<StoredBilling, StoreError> {
        let stripe = stripe_customer_id.to_string();
        let stored: Option<(String, i64)> = self
            .db
            .read(move |c| {
                c.query_row(
                    "SELECT records, version FROM customer_billing WHERE stripe_customer_id = ?1",
                    params![stripe],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
            })
            .await?;
        let Some((records, version)) = stored else {
            return Ok(StoredBilling::default());
        };
        Ok(StoredBilling {
            billing: billing::decode(stripe_customer_id, &records)?,
            version: u64::try_from(version).unwrap_or_default(),
        })
    }

    async fn put_billing(
        &self,
        stripe_customer_id: &str,
        records: &CustomerBilling,
        version: u64,
    ) -> Result<bool, StoreError> {
        let (stripe, text) = (stripe_customer_id.to_string(), billing::encode(records)?);
        let version = i64::try_from(version)
            .map_err(|_| StoreError::Malformed(format!("billing version {version}")))?;
        let changed = self
            .db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO customer_billing (stripe_customer_id, records, version)
                     VALUES (?1, ?2, 1)
                     ON CONFLICT (stripe_customer_id) DO UPDATE
                     SET records = excluded.records, version = version + 1
                     WHERE version = ?3",
                    params![stripe, text, version],
                )
                .map(|n| n > 0)
            })
            .await?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::temp_database;

    #[tokio::test]
    async fn keeps_the_customer_link_store_contract() {
        let (_dir, db) = temp_database();
        super::super::contract::run_all(&SqliteCustomerLinkStore::new(db)).await;
    }
}
