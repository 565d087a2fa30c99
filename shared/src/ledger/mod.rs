//! Ledger entries: Stripe's money movements as double-entry accounting for the ERP, in the
//! clearing-account model (docs/CONTRACTS.md#ledger-entries). Not the [`crate::journal`], which
//! is the history of deliveries.
//!
//! Every entry is made from one balance transaction (what Stripe says a charge, refund, dispute
//! or payout did to the balance, fees included), in the settlement currency, and balances to
//! the minor unit by construction. Its id is deterministic from the balance transaction and the
//! entry kind, so an event delivered again can never post it twice.

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
pub mod dynamodb;
mod entries;
pub mod export;
pub mod in_memory;
pub mod quickbooks;
pub mod sink;
#[cfg(feature = "embedded")]
pub mod sqlite;
pub mod tokens;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

pub use dynamodb::DynamoDbLedgerStore;
pub use entries::{LedgerError, entry_for};
pub use in_memory::InMemoryLedgerStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteLedgerStore;

/// The UTC days from `from` (inclusive) to `to` (exclusive), both `YYYY-MM-DD`.
pub(crate) fn days(from: &str, to: &str) -> Result<Vec<String>, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let parse = |day: &str| {
        time::Date::parse(day, format)
            .map_err(|e| StoreError::Malformed(format!("'{day}' is not a YYYY-MM-DD day: {e}")))
    };
    let (mut day, end) = (parse(from)?, parse(to)?);
    let mut days = Vec::new();
    while day < end {
        days.push(
            day.format(format)
                .map_err(|e| StoreError::Malformed(e.to_string()))?,
        );
        day = day.next_day().unwrap_or(end);
    }
    Ok(days)
}

/// Whether a post wrote the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// This call posted it.
    New,
    /// An entry with its id was posted before; it stays as it was.
    AlreadyPosted,
}

/// Where posted entries are kept: each id once, findable by the day it occurred.
#[async_trait::async_trait]
pub trait LedgerStore: Send + Sync {
    /// Posts `entry` unless an entry with its id is there (one conditional write).
    async fn post(&self, entry: &LedgerEntry) -> Result<Posted, StoreError>;
    /// The entries that occurred from `from` (inclusive) to `to` (exclusive), both
    /// `YYYY-MM-DD` (UTC days), oldest first (ties by id).
    async fn between(&self, from: &str, to: &str) -> Result<Vec<LedgerEntry>, StoreError>;
}

/// What moved the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A charge settled: gross to revenue, fees out of clearing.
    Payment,
    /// A refund left the balance (its refunded fee, if any, came back).
    Refund,
    /// A refund failed: its money came back.
    RefundFailure,
    /// A dispute withdrew the charge's funds (and a dispute fee).
    Dispute,
    /// A won dispute reinstated the funds (and, where Stripe returns it, the fee).
    DisputeReversal,
    /// A payout moved the balance to the bank.
    Payout,
    /// A payout failed: its money came back to the balance.
    PayoutFailure,
}

impl EntryKind {
    /// The name in entry ids, exports and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Refund => "refund",
            Self::RefundFailure => "refund_failure",
            Self::Dispute => "dispute",
            Self::DisputeReversal => "dispute_reversal",
            Self::Payout => "payout",
            Self::PayoutFailure => "payout_failure",
        }
    }

    /// The kind of a balance transaction by its `reporting_category` (Stripe's grouping for
    /// accounting: it tells a dispute from a failed refund, which `type=adjustment` does not);
    /// `None` for categories paybridge does not post (counted as ignored).
    pub fn of_reporting_category(category: &str) -> Option<Self> {
        Some(match category {
            "charge" => Self::Payment,
            "refund" => Self::Refund,
            "refund_failure" => Self::RefundFailure,
            "dispute" => Self::Dispute,
            "dispute_reversal" => Self::DisputeReversal,
            "payout" => Self::Payout,
            "payout_reversal" => Self::PayoutFailure,
            _ => return None,
        })
    }
}

/// The chart of accounts entries post to (`LEDGER_ACCOUNTS`): one account per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    /// Money at Stripe not yet paid out: every entry passes through it.
    pub clearing: String,
    /// Sales (or a receivable, when the ERP books the invoice itself).
    pub revenue: String,
    /// Stripe's processing and dispute fees.
    pub fees: String,
    /// Refunds given (contra-revenue).
    pub refunds: String,
    /// Chargebacks.
    pub disputes: String,
    /// The bank account payouts land in.
    pub bank: String,
}

impl Default for Accounts {
    fn default() -> Self {
        Self {
            clearing: "Assets:Stripe:Clearing".into(),
            revenue: "Income:Sales".into(),
            fees: "Expenses:Stripe:Fees".into(),
            refunds: "Income:Refunds".into(),
            disputes: "Expenses:Stripe:Disputes".into(),
            bank: "Assets:Bank".into(),
        }
    }
}

impl Accounts {
    /// Each role with its account, in the order of `config::ledger::ROLES`.
    pub fn by_role(&self) -> [(&'static str, &str); 6] {
        [
            ("clearing", &self.clearing),
            ("revenue", &self.revenue),
            ("fees", &self.fees),
            ("refunds", &self.refunds),
            ("disputes", &self.disputes),
            ("bank", &self.bank),
        ]
    }

    /// Sets the account of `role` (as [`Accounts::by_role`] names them); `false` when there is
    /// no such role.
    pub fn set(&mut self, role: &str, account: &str) -> bool {
        let slot = match role {
            "clearing" => &mut self.clearing,
            "revenue" => &mut self.revenue,
            "fees" => &mut self.fees,
            "refunds" => &mut self.refunds,
            "disputes" => &mut self.disputes,
            "bank" => &mut self.bank,
            _ => return false,
        };
        *slot = account.to_string();
        true
    }

    /// The account the gross amount of `kind` posts against, opposite the clearing account.
    pub fn counterpart(&self, kind: EntryKind) -> &str {
        match kind {
            EntryKind::Payment => &self.revenue,
            EntryKind::Refund | EntryKind::RefundFailure => &self.refunds,
            EntryKind::Dispute | EntryKind::DisputeReversal => &self.disputes,
            EntryKind::Payout | EntryKind::PayoutFailure => &self.bank,
        }
    }
}

/// One line of an entry: a debit or a credit (the other is zero), in major units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    /// The account, as configured.
    pub account: String,
    /// Debit amount, ≥ 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub debit: Decimal,
    /// Credit amount, ≥ 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub credit: Decimal,
    /// What it is, for a person reading the ERP.
    pub memo: String,
}

/// What the customer paid, when it differs from the settlement currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presentment {
    /// In major units of `currency`.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// ISO 4217, upper case.
    pub currency: String,
    /// Presentment → settlement, as Stripe applied it.
    #[serde(with = "rust_decimal::serde::str")]
    pub exchange_rate: Decimal,
}

/// The objects an entry comes from, for finding it again on either side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct References {
    /// The Kentico order, when the payment is one of ours.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kentico_order_id: Option<String>,
    /// `pi_…`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stripe_payment_intent: Option<String>,
    /// `ch_…` / `py_…`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stripe_charge: Option<String>,
    /// `txn_…`: the balance transaction the entry is made from (always set).
    pub stripe_balance_transaction: String,
    /// `re_…`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stripe_refund: Option<String>,
    /// `dp_…` / `du_…`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stripe_dispute: Option<String>,
    /// `po_…`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stripe_payout: Option<String>,
}

/// One balanced accounting entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// `le_<kind>_<balance transaction id>`: the same movement always has the same id.
    pub id: String,
    /// What moved the money.
    pub kind: EntryKind,
    /// When Stripe booked the movement, RFC 3339 UTC.
    pub occurred_at: String,
    /// The settlement currency of every line, ISO 4217 upper case.
    pub currency: String,
    /// Debits and credits; they sum to the same amount.
    pub lines: Vec<LedgerLine>,
    /// What the customer paid, when its currency differs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub presentment: Option<Presentment>,
    /// Where it comes from.
    pub references: References,
}

impl LedgerEntry {
    /// The id of the entry of `kind` made from balance transaction `txn`.
    pub fn id_for(kind: EntryKind, txn: &str) -> String {
        format!("le_{}_{txn}", kind.as_str())
    }

    /// The sum of the debits (= the sum of the credits, for a balanced entry).
    pub fn total_debits(&self) -> Decimal {
        self.lines.iter().map(|line| line.debit).sum()
    }

    /// Whether the debits equal the credits and no amount is negative.
    pub fn is_balanced(&self) -> bool {
        let credits: Decimal = self.lines.iter().map(|line| line.credit).sum();
        self.lines
            .iter()
            .all(|line| line.debit >= Decimal::ZERO && line.credit >= Decimal::ZERO)
            && self.total_debits() == credits
    }

    /// The UTC day it occurred, `YYYY-MM-DD`.
    pub fn day(&self) -> &str {
        self.occurred_at.get(..10).unwrap_or(&self.occurred_at)
    }

    /// What the entry does to `account`: debits minus credits.
    pub fn net(&self, account: &str) -> Decimal {
        self.lines
            .iter()
            .filter(|line| line.account == account)
            .map(|line| line.debit - line.credit)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_run_from_the_first_to_the_day_before_the_last_across_months() {
        assert_eq!(
            days("2026-02-27", "2026-03-02").unwrap(),
            ["2026-02-27", "2026-02-28", "2026-03-01"]
        );
        assert!(days("2026-03-02", "2026-03-02").unwrap().is_empty());
        assert!(matches!(
            days("yesterday", "2026-03-02"),
            Err(StoreError::Malformed(_))
        ));
    }
}
