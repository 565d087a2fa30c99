//! The journal in the state table, one item per thing so no item nears DynamoDB's 400 KB:
//!
//! - `journal#key#<business key>`: the counter `seq` of that key's entries;
//! - `journal#entry#<business key>#<seq>`: one entry (one outcome of one delivery), with
//!   `recorded_at` (unix ms) for [`EventJournal::recent`] (entries written before it have none
//!   and are not among the recent ones);
//! - `journal#event#<source>#<event id>`: the first envelope of an event, inline when it fits
//!   in [`PART_BYTES`], else the number of its `parts` and their `digest`;
//! - `journal#part#<source>#<event id>#<digest>#<n>`: the parts of a larger envelope.
//!
//! Every item expires `JOURNAL_RETENTION_DAYS` after its last write (DynamoDB TTL, which may lag
//! by two days: reads skip an expired item); each delivery of an event renews its envelope.
//! Items of the earlier layout (entries appended to a list on the key's item, written before
//! this version) are read too, until retention deletes them.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use sha2::{Digest, Sha256};

use super::{EventJournal, JournalEntry, RecentEntry};
use crate::store::StoreError;

/// The largest envelope (or part of one) in one item, in bytes: DynamoDB items stop at 400 KB.
pub const PART_BYTES: usize = 350_000;

/// The most entries `entries` returns: the latest, for a key with a longer history.
pub const MAX_ENTRIES: u64 = 5_000;

/// The most scan pages [`EventJournal::recent`] reads (1 MB each): the console's counts stay a
/// bounded read on a large table.
pub const MAX_RECENT_SCAN_PAGES: usize = 20;

/// `BatchGetItem` takes at most this many keys.
const BATCH_KEYS: usize = 100;

/// Attempts at the keys a `BatchGetItem` left unprocessed (throttling) before giving up.
const BATCH_ATTEMPTS: u32 = 5;

type Item = HashMap<String, AttributeValue>;

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoDbEventJournal {
    client: Client,
    table: String,
    retention_seconds: i64,
}

fn key_pk(business_key: &str) -> String {
    format!("journal#key#{business_key}")
}

fn entry_pk(business_key: &str, seq: u64) -> String {
    format!("journal#entry#{business_key}#{seq:012}")
}

fn event_pk(source: &str, event_id: &str) -> String {
    format!("journal#event#{source}#{event_id}")
}

fn part_pk(source: &str, event_id: &str, digest: &str, n: usize) -> String {
    format!("journal#part#{source}#{event_id}#{digest}#{n}")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether an item's time is up (TTL deletes it eventually).
fn is_live(item: &Item, now: i64) -> bool {
    let expiration =
        (item.get("expiration").and_then(|v| v.as_n().ok())).and_then(|n| n.parse::<i64>().ok());
    expiration.is_none_or(|at| at > now)
}

fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// `text` cut into pieces of at most `max` bytes, each on a character boundary.
fn split_on_char_boundaries(text: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (part, tail) = rest.split_at(cut);
        parts.push(part);
        rest = tail;
    }
    parts.push(rest);
    parts
}

impl DynamoDbEventJournal {
    /// A journal in `table` (partition key `pk`) keeping what it saw `retention_days`.
    pub fn new(client: Client, table: impl Into<String>, retention_days: u32) -> Self {
        Self {
            client,
            table: table.into(),
            retention_seconds: i64::from(retention_days) * 86_400,
        }
    }

    fn expiration(&self) -> AttributeValue {
        AttributeValue::N((now() + self.retention_seconds).to_string())
    }

    /// The item `pk`, unless its time is up.
    async fn live_item(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?
            .item;
        let now = now();
        Ok(item.filter(|i| is_live(i, now)))
    }

    /// The live items of `pks`, by key (missing and expired ones left out).
    async fn live_items(&self, pks: Vec<String>) -> Result<HashMap<String, Item>, StoreError> {
        let now = now();
        let mut found = HashMap::with_capacity(pks.len());
        for chunk in pks.chunks(BATCH_KEYS) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|pk| HashMap::from([("pk".to_string(), AttributeValue::S(pk.clone()))]))
                .collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Malformed(e.to_string()))?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                attempt += 1;
                if attempt > BATCH_ATTEMPTS {
                    return Err(StoreError::Throttled(format!(
                        "BatchGetItem left keys unprocessed {BATCH_ATTEMPTS} times"
                    )));
                }
                if attempt > 1 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamodb(&e))?;
                for item in answer
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .into_iter()
                    .flatten()
                {
                    if let Some(pk) = item.get("pk").and_then(|v| v.as_s().ok()).cloned()
                        && is_live(&item, now)
                    {
                        found.insert(pk, item);
                    }
                }
                pending = answer
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.table)
                    .filter(|k| !k.keys.is_empty());
            }
        }
        Ok(found)
    }

    /// Keeps `envelope` as the first copy of its event, or renews the copy kept (one call for
    /// a later delivery, the usual case of a long history).
    async fn keep_envelope(&self, entry: &JournalEntry, envelope: &str) -> Result<(), StoreError> {
        let (source, event_id) = (&entry.source, &entry.event_id);
        let expiration = self.expiration();
        if self.renew_envelope(entry, expiration.clone()).await? {
            return Ok(());
        }
        let mut head = HashMap::from([
            (
                "pk".to_string(),
                AttributeValue::S(event_pk(source, event_id)),
            ),
            ("expiration".to_string(), expiration.clone()),
        ]);
        let mut parts = Vec::new();
        if envelope.len() <= PART_BYTES {
            head.insert("envelope".into(), AttributeValue::S(envelope.into()));
        } else {
            // Parts first, under a name of their content: a head never points at missing
            // parts, and a second, different copy cannot overwrite the first one's.
            let digest = hex::encode(&Sha256::digest(envelope.as_bytes())[..8]);
            for (n, part) in split_on_char_boundaries(envelope, PART_BYTES)
                .iter()
                .enumerate()
            {
                parts.push(part_pk(source, event_id, &digest, n));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .item(
                        "pk",
                        AttributeValue::S(part_pk(source, event_id, &digest, n)),
                    )
                    .item("part", AttributeValue::S((*part).to_string()))
                    .item("expiration", expiration.clone())
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamodb(&e))?;
            }
            head.insert("parts".into(), AttributeValue::N(parts.len().to_string()));
            head.insert("digest".into(), AttributeValue::S(digest));
        }
        let first = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(head))
            .condition_expression("attribute_not_exists(envelope) AND attribute_not_exists(parts)")
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e));
        match first {
            Ok(_) => Ok(()),
            // Another delivery kept its copy in between: renew that one.
            Err(StoreError::ConditionFailed(_)) => {
                self.renew_envelope(entry, expiration).await.map(|_| ())
            }
            Err(other) => Err(other),
        }
    }

    /// Renews the retention of the envelope kept for `entry`'s event (and of its parts);
    /// `false` if none is kept yet.
    async fn renew_envelope(
        &self,
        entry: &JournalEntry,
        expiration: AttributeValue,
    ) -> Result<bool, StoreError> {
        let (source, event_id) = (&entry.source, &entry.event_id);
        let renewed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(event_pk(source, event_id)))
            .update_expression("SET expiration = :expiration")
            .condition_expression("attribute_exists(envelope) OR attribute_exists(parts)")
            .expression_attribute_values(":expiration", expiration.clone())
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e));
        let head = match renewed {
            Ok(answer) => answer.attributes.unwrap_or_default(),
            Err(StoreError::ConditionFailed(_)) => return Ok(false),
            Err(other) => return Err(other),
        };
        let digest = head.get("digest").and_then(|v| v.as_s().ok());
        if let (Some(parts), Some(digest)) = (number(&head, "parts"), digest) {
            for n in 0..parts as usize {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key(
                        "pk",
                        AttributeValue::S(part_pk(source, event_id, digest, n)),
                    )
                    .update_expression("SET expiration = :expiration")
                    .condition_expression("attribute_exists(part)")
                    .expression_attribute_values(":expiration", expiration.clone())
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamodb(&e))?;
            }
        }
        Ok(true)
    }

    /// The next number of `business_key`'s entries.
    async fn next_seq(
        &self,
        business_key: &str,
        expiration: &AttributeValue,
    ) -> Result<u64, StoreError> {
        // The key's counter outlives each of its entries, so a counter that is gone (TTL) had
        // only expired entries: counting again from 1 overwrites nothing live.
        let counter = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key_pk(business_key)))
            .update_expression("ADD seq :one SET expiration = :expiration")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":expiration", expiration.clone())
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| StoreError::dynamodb(&e))?;
        (counter.attributes.as_ref())
            .and_then(|a| number(a, "seq"))
            .ok_or_else(|| StoreError::Malformed("the journal counter has no seq".into()))
    }
}

#[async_trait::async_trait]
impl EventJournal for DynamoDbEventJournal {
    async fn record(
        &self,
        business_key: &str,
        entry: &JournalEntry,
        envelope: &str,
    ) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(entry).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let expiration = self.expiration();
        let recorded_at = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
        // A number is never given twice, but an entry is not overwritten on that promise alone
        // (a counter recreated while expired entries linger, an emulator's race): a taken number
        // is passed over.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let seq = self.next_seq(business_key, &expiration).await?;
            let written = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", AttributeValue::S(entry_pk(business_key, seq)))
                .item("entry", AttributeValue::S(json.clone()))
                .item("recorded_at", AttributeValue::N(recorded_at.to_string()))
                .item("expiration", expiration.clone())
                .condition_expression("attribute_not_exists(pk) OR expiration < :now")
                .expression_attribute_values(":now", AttributeValue::N(now().to_string()))
                .send()
                .await
                .map_err(|e| StoreError::dynamodb(&e));
            match written {
                Ok(_) => break,
                Err(StoreError::ConditionFailed(_)) if attempts < 5 => continue,
                Err(other) => return Err(other),
            }
        }
        self.keep_envelope(entry, envelope).await
    }

    async fn envelope(&self, source: &str, event_id: &str) -> Result<Option<String>, StoreError> {
        let Some(head) = self.live_item(event_pk(source, event_id)).await? else {
            return Ok(None);
        };
        if let Some(envelope) = head.get("envelope").and_then(|v| v.as_s().ok()) {
            return Ok(Some(envelope.clone()));
        }
        let digest = head.get("digest").and_then(|v| v.as_s().ok());
        let (Some(parts), Some(digest)) = (number(&head, "parts"), digest) else {
            return Err(StoreError::Malformed(format!(
                "the journal item of {source} {event_id} has neither an envelope nor parts"
            )));
        };
        let pks: Vec<String> = (0..parts as usize)
            .map(|n| part_pk(source, event_id, digest, n))
            .collect();
        let mut found = self.live_items(pks.clone()).await?;
        let mut envelope = String::with_capacity(parts as usize * PART_BYTES);
        for (n, pk) in pks.iter().enumerate() {
            let part = (found.remove(pk))
                .and_then(|mut item| item.remove("part"))
                .and_then(|v| v.as_s().ok().cloned())
                .ok_or_else(|| {
                    StoreError::Malformed(format!(
                        "part {n} of {parts} of the envelope of {source} {event_id} is missing"
                    ))
                })?;
            envelope.push_str(&part);
        }
        Ok(Some(envelope))
    }

    async fn entries(&self, business_key: &str) -> Result<Vec<JournalEntry>, StoreError> {
        let Some(counter) = self.live_item(key_pk(business_key)).await? else {
            return Ok(Vec::new());
        };
        // Entries of the earlier layout, appended to a list on this item.
        let mut entries: Vec<JournalEntry> = (counter.get("entries"))
            .and_then(|v| v.as_l().ok())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_s().ok())
            .filter_map(|s| serde_json::from_str(s).ok())
            .collect();
        let last = number(&counter, "seq").unwrap_or(0);
        let first = last.saturating_sub(MAX_ENTRIES) + 1;
        let pks: Vec<String> = (first..=last)
            .map(|seq| entry_pk(business_key, seq))
            .collect();
        let mut found = self.live_items(pks.clone()).await?;
        for pk in &pks {
            let parsed = (found.remove(pk))
                .and_then(|mut item| item.remove("entry"))
                .and_then(|v| v.as_s().ok().cloned())
                .and_then(|s| serde_json::from_str::<JournalEntry>(&s).ok());
            // A gap is a writer that stopped between counting and writing: nothing to show.
            entries.extend(parsed);
        }
        let skip = entries.len().saturating_sub(MAX_ENTRIES as usize);
        Ok(entries.into_iter().skip(skip).collect())
    }

    async fn recent(&self, since_ms: i64, limit: usize) -> Result<Vec<RecentEntry>, StoreError> {
        let mut found: Vec<(i64, RecentEntry)> = Vec::new();
        let mut start: Option<Item> = None;
        let now = now();
        for _ in 0..MAX_RECENT_SCAN_PAGES {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :prefix) AND recorded_at >= :since")
                .expression_attribute_values(":prefix", AttributeValue::S("journal#entry#".into()))
                .expression_attribute_values(":since", AttributeValue::N(since_ms.to_string()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::dynamodb(&e))?;
            for item in page.items() {
                if !is_live(item, now) {
                    continue;
                }
                let pk = item.get("pk").and_then(|v| v.as_s().ok());
                // `journal#entry#<business key>#<seq>`: the key may itself hold `#`.
                let business_key = (pk.and_then(|pk| pk.strip_prefix("journal#entry#")))
                    .and_then(|rest| rest.rsplit_once('#'))
                    .map(|(key, _)| key.to_string());
                let entry = (item.get("entry").and_then(|v| v.as_s().ok()))
                    .and_then(|s| serde_json::from_str::<JournalEntry>(s).ok());
                let recorded_at = number(item, "recorded_at").unwrap_or(0);
                if let (Some(business_key), Some(entry)) = (business_key, entry) {
                    let recorded_at = i64::try_from(recorded_at).unwrap_or(i64::MAX);
                    found.push((
                        recorded_at,
                        RecentEntry {
                            business_key,
                            entry,
                        },
                    ));
                }
            }
            match page.last_evaluated_key {
                Some(key) => start = Some(key),
                None => break,
            }
        }
        found.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        Ok(found.into_iter().take(limit).map(|(_, e)| e).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_character_boundaries_within_the_limit() {
        let text = "aé€😀".repeat(1_000);
        for max in [4, 5, 7, 350] {
            let parts = split_on_char_boundaries(&text, max);
            assert!(parts.iter().all(|p| p.len() <= max && !p.is_empty()));
            assert_eq!(parts.concat(), text);
        }
        assert_eq!(split_on_char_boundaries("", 4), vec![""]);
    }
}
