//! QuickBooks Online as a ledger sink: each entry becomes one `JournalEntry`
//! (`POST /v3/company/{realmId}/journalentry`), authorized by OAuth2 with a rotating refresh
//! token. The entry's idempotency key becomes QuickBooks' `requestid`, so a retried delivery
//! whose answer was lost books nothing twice.
//!
//! Access tokens live an hour and are kept in memory; a refresh reads the newest refresh token
//! from its [`RefreshTokenStore`] and saves the one Intuit returns before using the access token.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::LedgerEntry;
use super::sink::{LedgerSink, SinkError, call_timeout, is_transient};
use super::tokens::{RefreshTokenStore, TokenStoreError};
use crate::clock::Clock;
use crate::secret::SecretString;

/// Production API base.
pub const DEFAULT_API_BASE: &str = "https://quickbooks.api.intuit.com";
/// Intuit's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer";
/// The API minor version paybridge speaks.
pub const MINOR_VERSION: u32 = 75;
/// QuickBooks caps `DocNumber` at 21 characters.
const DOC_NUMBER_CHARS: usize = 21;
/// An access token is refreshed this long before Intuit says it expires.
const EXPIRY_MARGIN_SECONDS: i64 = 120;

/// Where and as whom the sink books.
#[derive(Debug, Clone)]
pub struct QuickBooksConfig {
    /// `https://quickbooks.api.intuit.com` (or the sandbox's).
    pub api_base: String,
    /// Intuit's OAuth2 token endpoint.
    pub token_url: String,
    /// The company (`realmId`).
    pub realm_id: String,
    /// The app's OAuth2 client id.
    pub client_id: String,
    /// The app's OAuth2 client secret.
    pub client_secret: SecretString,
    /// Ledger account name (as the entries carry it) → QuickBooks account `Id`.
    pub accounts: BTreeMap<String, String>,
    /// Per call.
    pub timeout: Duration,
}

#[derive(Clone)]
struct AccessToken {
    token: SecretString,
    expires_at: OffsetDateTime,
}

/// What the sink holds between calls.
#[derive(Default)]
struct TokenState {
    access: Option<AccessToken>,
    /// A rotated refresh token the store did not take yet: used for the next refresh and saved
    /// again before it, so a failed save loses nothing while the process lives.
    unsaved: Option<SecretString>,
}

/// Books each entry as a QuickBooks Online journal entry.
pub struct QuickBooksSink {
    http: reqwest::Client,
    config: QuickBooksConfig,
    tokens: Arc<dyn RefreshTokenStore>,
    state: tokio::sync::Mutex<TokenState>,
    clock: Arc<dyn Clock>,
}

/// How long an instance refused for a refresh token another instance is rotating waits before
/// reading the store again.
const ROTATION_RACE_WAIT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JournalEntryBody {
    doc_number: String,
    txn_date: String,
    private_note: String,
    currency_ref: Ref,
    line: Vec<Line>,
}

#[derive(Serialize)]
struct Ref {
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Line {
    description: String,
    amount: Box<RawValue>,
    detail_type: &'static str,
    journal_entry_line_detail: LineDetail,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LineDetail {
    posting_type: &'static str,
    account_ref: Ref,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
    refresh_token: Option<String>,
}

/// The `JournalEntry` for `entry`: one line per non-zero debit or credit, accounts by their
/// QuickBooks `Id`, amounts as exact decimals.
pub fn journal_entry(
    entry: &LedgerEntry,
    accounts: &BTreeMap<String, String>,
) -> Result<serde_json::Value, SinkError> {
    let mut lines = Vec::new();
    for line in &entry.lines {
        let Some(id) = accounts.get(&line.account) else {
            return Err(SinkError::Rejected(format!(
                "no QuickBooks account is configured for '{}' (QUICKBOOKS_ACCOUNTS)",
                line.account
            )));
        };
        for (amount, posting_type) in [(line.debit, "Debit"), (line.credit, "Credit")] {
            if amount.is_zero() {
                continue;
            }
            let amount = RawValue::from_string(amount.normalize().to_string())
                .map_err(|e| SinkError::Rejected(format!("amount {amount}: {e}")))?;
            lines.push(Line {
                description: line.memo.chars().take(4000).collect(),
                amount,
                detail_type: "JournalEntryLineDetail",
                journal_entry_line_detail: LineDetail {
                    posting_type,
                    account_ref: Ref { value: id.clone() },
                },
            });
        }
    }
    let txn = &entry.references.stripe_balance_transaction;
    let skip = txn.chars().count().saturating_sub(DOC_NUMBER_CHARS);
    let body = JournalEntryBody {
        doc_number: txn.chars().skip(skip).collect(),
        txn_date: entry.occurred_at.chars().take(10).collect(),
        private_note: format!("paybridge {} ({})", entry.id, txn),
        currency_ref: Ref {
            value: entry.currency.clone(),
        },
        line: lines,
    };
    serde_json::to_value(&body).map_err(|e| SinkError::Rejected(e.to_string()))
}

/// QuickBooks' `requestid` for an idempotency key: a stable digest, short enough for its limit.
pub fn request_id(idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    format!("pb{}", &hex::encode(digest)[..30])
}

impl QuickBooksSink {
    /// A sink booking into `config.realm_id`, its refresh token kept in `tokens`.
    pub fn new(
        config: QuickBooksConfig,
        tokens: Arc<dyn RefreshTokenStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SinkError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SinkError::Rejected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            config,
            tokens,
            state: tokio::sync::Mutex::new(TokenState::default()),
            clock,
        })
    }

    /// A valid access token: the cached one, or a fresh one when it is (nearly) expired or
    /// `stale` (QuickBooks refused it).
    async fn access_token(&self, stale: bool) -> Result<SecretString, SinkError> {
        let mut state = self.state.lock().await;
        if let Some(unsaved) = state.unsaved.clone()
            && self.save(&unsaved).await
        {
            state.unsaved = None;
        }
        let now = self.clock.now();
        if let Some(token) = state.access.as_ref()
            && !stale
            && token.expires_at - time::Duration::seconds(EXPIRY_MARGIN_SECONDS) > now
        {
            return Ok(token.token.clone());
        }
        state.access = None;
        let refresh = match state.unsaved.clone() {
            Some(unsaved) => unsaved,
            None => self.tokens.load().await.map_err(token_store)?,
        };
        let (used, granted) = match self.refresh(&refresh).await {
            Err(Refused::InvalidGrant) => {
                // Another instance may be rotating it: its new token reaches the store shortly.
                let mut newest = self.tokens.load().await.map_err(token_store)?;
                if newest.expose() == refresh.expose() {
                    tokio::time::sleep(ROTATION_RACE_WAIT).await;
                    newest = self.tokens.load().await.map_err(token_store)?;
                }
                if newest.expose() == refresh.expose() {
                    return Err(Refused::InvalidGrant.into_sink());
                }
                let granted = self.refresh(&newest).await.map_err(Refused::into_sink)?;
                (newest, granted)
            }
            other => (refresh, other.map_err(Refused::into_sink)?),
        };
        state.unsaved = None;
        if let Some(rotated) = &granted.refresh_token
            && rotated != used.expose()
        {
            // Only the newest keeps working: keep it before using the access token.
            let rotated = SecretString::new(rotated.clone());
            if !self.save(&rotated).await {
                state.unsaved = Some(rotated);
            }
        }
        let token = AccessToken {
            token: SecretString::new(granted.access_token),
            expires_at: now + time::Duration::seconds(granted.expires_in.max(0)),
        };
        state.access = Some(token.clone());
        Ok(token.token)
    }

    /// Saves a rotated refresh token; a failure is logged (the caller keeps it in memory).
    async fn save(&self, rotated: &SecretString) -> bool {
        match self.tokens.save(rotated).await {
            Ok(()) => {
                tracing::info!(
                    sink = "quickbooks",
                    "the rotated QuickBooks refresh token was saved"
                );
                true
            }
            Err(error) => {
                tracing::error!(
                    sink = "quickbooks",
                    error = %error,
                    "the rotated QuickBooks refresh token could not be saved: it is kept in memory and saved again before the next refresh; if this process stops first, authorize paybridge again"
                );
                false
            }
        }
    }

    async fn refresh(&self, refresh: &SecretString) -> Result<TokenResponse, Refused> {
        let form = format!(
            "grant_type=refresh_token&refresh_token={}",
            form_encode(refresh.expose())
        );
        let response = self
            .http
            .post(&self.config.token_url)
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form)
            .timeout(
                call_timeout(self.config.timeout, "token endpoint").map_err(|e| match e {
                    SinkError::Unavailable(why) | SinkError::Rejected(why) => {
                        Refused::Unavailable(why)
                    }
                })?,
            )
            .send()
            .await
            .map_err(|e| Refused::Unavailable(format!("token endpoint: {}", e.without_url())))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return serde_json::from_str(&text)
                .map_err(|e| Refused::Unavailable(format!("token endpoint answered {e}")));
        }
        let error: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match (status.as_u16(), error["error"].as_str()) {
            (400, Some("invalid_grant")) => Err(Refused::InvalidGrant),
            (400 | 401, Some(code)) => Err(Refused::Rejected(format!(
                "QuickBooks' token endpoint refused the app ({code}): check QUICKBOOKS_CLIENT_ID and its secret"
            ))),
            (code, _) if is_transient(code) => Err(Refused::Unavailable(format!(
                "token endpoint: HTTP {status}"
            ))),
            _ => Err(Refused::Rejected(format!(
                "token endpoint: HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ))),
        }
    }
}

enum Refused {
    InvalidGrant,
    Rejected(String),
    Unavailable(String),
}

impl Refused {
    fn into_sink(self) -> SinkError {
        match self {
            Self::InvalidGrant => SinkError::Rejected(
                "QuickBooks refused the refresh token (invalid_grant): authorize paybridge again and store the new refresh token".into(),
            ),
            Self::Rejected(reason) => SinkError::Rejected(reason),
            Self::Unavailable(reason) => SinkError::Unavailable(reason),
        }
    }
}

fn token_store(error: TokenStoreError) -> SinkError {
    match error {
        TokenStoreError::Missing => SinkError::Rejected(error.to_string()),
        TokenStoreError::Unavailable(_) => SinkError::Unavailable(error.to_string()),
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// QuickBooks' explanation in a `Fault` answer.
fn fault(text: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let fault = if json["Fault"].is_object() {
        &json["Fault"]
    } else {
        &json["fault"]
    };
    let errors = fault["Error"]
        .as_array()
        .or_else(|| fault["error"].as_array());
    match errors {
        Some(errors) => errors
            .iter()
            .map(|e| {
                let pick = |k: &str, l: &str| e[k].as_str().or_else(|| e[l].as_str()).unwrap_or("");
                format!(
                    "{} ({}): {}",
                    pick("Message", "message"),
                    pick("code", "code"),
                    pick("Detail", "detail")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        None => text.chars().take(300).collect(),
    }
}

#[async_trait::async_trait]
impl LedgerSink for QuickBooksSink {
    fn name(&self) -> &'static str {
        "quickbooks"
    }

    async fn deliver(&self, entry: &LedgerEntry, idempotency_key: &str) -> Result<(), SinkError> {
        let body = journal_entry(entry, &self.config.accounts)?;
        let url = format!(
            "{}/v3/company/{}/journalentry?requestid={}&minorversion={MINOR_VERSION}",
            self.config.api_base.trim_end_matches('/'),
            form_encode(&self.config.realm_id),
            request_id(idempotency_key)
        );
        let mut stale = false;
        loop {
            let token = self.access_token(stale).await?;
            let response = self
                .http
                .post(&url)
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body)
                .timeout(call_timeout(self.config.timeout, "QuickBooks")?)
                .send()
                .await
                .map_err(|e| SinkError::Unavailable(format!("QuickBooks: {}", e.without_url())))?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            match status.as_u16() {
                200..=299 => {
                    let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    let id = answer["JournalEntry"]["Id"].as_str().unwrap_or_default();
                    if id.is_empty() {
                        return Err(SinkError::Unavailable(format!(
                            "QuickBooks answered {status} without a JournalEntry Id"
                        )));
                    }
                    tracing::info!(sink = "quickbooks", entry = %entry.id, journal_entry = id, "booked");
                    return Ok(());
                }
                401 if !stale => stale = true, // the access token was revoked or expired early
                401 => {
                    return Err(SinkError::Rejected(format!(
                        "QuickBooks refused a fresh access token: {}",
                        fault(&text)
                    )));
                }
                code if is_transient(code) => {
                    return Err(SinkError::Unavailable(format!(
                        "QuickBooks: HTTP {status}: {}",
                        fault(&text)
                    )));
                }
                _ => {
                    return Err(SinkError::Rejected(format!(
                        "QuickBooks: HTTP {status}: {}",
                        fault(&text)
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::ledger::{EntryKind, LedgerLine, References};

    fn entry() -> LedgerEntry {
        let line = |account: &str, debit: &str, credit: &str, memo: &str| LedgerLine {
            account: account.into(),
            debit: debit.parse::<Decimal>().unwrap(),
            credit: credit.parse::<Decimal>().unwrap(),
            memo: memo.into(),
        };
        LedgerEntry {
            id: "le_payment_txn_3Mtwf8LkdIwHu7ix0S4MRnrE".into(),
            kind: EntryKind::Payment,
            occurred_at: "2026-11-29T12:00:00.000Z".into(),
            currency: "USD".into(),
            lines: vec![
                line("Assets:Stripe:Clearing", "129.90", "0", "payment ch_1"),
                line("Income:Sales", "0", "129.90", "payment ch_1"),
                line(
                    "Expenses:Stripe:Fees",
                    "4.07",
                    "0",
                    "Stripe processing fees",
                ),
                line(
                    "Assets:Stripe:Clearing",
                    "0",
                    "4.07",
                    "Stripe processing fees",
                ),
            ],
            presentment: None,
            references: References {
                stripe_balance_transaction: "txn_3Mtwf8LkdIwHu7ix0S4MRnrE".into(),
                ..References::default()
            },
        }
    }

    fn accounts() -> BTreeMap<String, String> {
        [
            ("Assets:Stripe:Clearing", "35"),
            ("Income:Sales", "79"),
            ("Expenses:Stripe:Fees", "112"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn an_entry_becomes_a_balanced_journal_entry_with_exact_amounts() {
        let body = journal_entry(&entry(), &accounts()).unwrap();
        let text = body.to_string();
        assert!(text.contains(r#""Amount":129.9"#), "{text}");
        assert_eq!(
            body["DocNumber"], "wf8LkdIwHu7ix0S4MRnrE",
            "the last 21 characters"
        );
        assert_eq!(body["TxnDate"], "2026-11-29");
        assert_eq!(body["CurrencyRef"]["value"], "USD");
        let lines = body["Line"].as_array().unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["JournalEntryLineDetail"]["PostingType"], "Debit");
        assert_eq!(
            lines[0]["JournalEntryLineDetail"]["AccountRef"]["value"],
            "35"
        );
        assert_eq!(lines[1]["JournalEntryLineDetail"]["PostingType"], "Credit");
        assert_eq!(lines[1]["DetailType"], "JournalEntryLineDetail");
        assert!(
            body["PrivateNote"]
                .as_str()
                .unwrap()
                .contains("le_payment_txn_3Mtwf8")
        );
    }

    #[test]
    fn an_account_without_a_quickbooks_id_is_refused_by_name() {
        let mut accounts = accounts();
        accounts.remove("Expenses:Stripe:Fees");
        let Err(SinkError::Rejected(reason)) = journal_entry(&entry(), &accounts) else {
            panic!("an unmapped account was booked")
        };
        assert!(reason.contains("Expenses:Stripe:Fees"), "{reason}");
    }

    #[test]
    fn the_request_id_is_stable_short_and_distinct() {
        let a = request_id("paybridge-ledger_quickbooks-le_payment_txn_1");
        assert_eq!(
            a,
            request_id("paybridge-ledger_quickbooks-le_payment_txn_1")
        );
        assert_ne!(
            a,
            request_id("paybridge-ledger_quickbooks-le_payment_txn_2")
        );
        assert_eq!(a.len(), 32);
    }
}
