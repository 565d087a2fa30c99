//! One balance transaction → one balanced entry, whatever moved the money.
//!
//! A positive gross (a charge, a failed refund, a reinstated dispute, a failed payout) debits
//! the clearing account and credits the kind's counterpart (revenue, refunds, disputes, bank);
//! a negative one (a refund, a dispute, a payout) does the opposite. Each fee line of
//! `fee_details` debits fees and credits clearing (a refunded fee, negative, the opposite). So
//! the clearing account moves by exactly the transaction's `net`, and the entries of a payout's
//! transactions, with the payout's own, leave it at zero.

use rust_decimal::Decimal;

use super::{Accounts, EntryKind, LedgerEntry, LedgerLine, Presentment, References};
use crate::clock::rfc3339_millis;
use crate::connectors::stripe::BalanceTransaction;
use crate::mapping::{Currency, from_minor_units};

/// Why a balance transaction cannot become an entry: permanent, a person must look.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// Its currency is not one Stripe settles in.
    #[error("balance transaction {txn}: {reason}")]
    Currency {
        /// `txn_…`.
        txn: String,
        /// What is wrong.
        reason: String,
    },
    /// Its fee lines do not add up to its fee, or its net to gross minus fee.
    #[error("balance transaction {txn} does not add up: {reason}")]
    Discrepancy {
        /// `txn_…`.
        txn: String,
        /// Which sums differ.
        reason: String,
    },
}

/// The entry of `kind` made from `txn`. `presentment` is what the customer paid (amount in
/// minor units and currency) when it differs from the settlement currency.
pub fn entry_for(
    txn: &BalanceTransaction,
    kind: EntryKind,
    accounts: &Accounts,
    references: References,
    presentment: Option<(i64, &str)>,
) -> Result<LedgerEntry, LedgerError> {
    let currency = currency(txn, &txn.currency)?;
    let fee_sum: i64 = txn.fee_details.iter().map(|fee| fee.amount).sum();
    if (!txn.fee_details.is_empty() && fee_sum != txn.fee) || txn.amount - txn.fee != txn.net {
        return Err(LedgerError::Discrepancy {
            txn: txn.id.clone(),
            reason: format!(
                "amount {} − fee {} ≠ net {}, or fee lines sum to {fee_sum}",
                txn.amount, txn.fee, txn.net
            ),
        });
    }
    let major = |minor: i64| from_minor_units(minor.abs(), &currency);
    let mut lines = Vec::new();
    let counterpart = accounts.counterpart(kind);
    let memo = txn
        .source_id()
        .map(|source| format!("{} {source}", kind.as_str()))
        .unwrap_or_else(|| kind.as_str().to_string());
    lines.extend(pair(
        txn.amount,
        major(txn.amount),
        &accounts.clearing,
        counterpart,
        &memo,
    ));
    if txn.fee_details.is_empty() {
        lines.extend(pair(
            -txn.fee,
            major(txn.fee),
            &accounts.clearing,
            &accounts.fees,
            "fee",
        ));
    }
    for fee in &txn.fee_details {
        let memo = fee
            .description
            .clone()
            .unwrap_or_else(|| fee.fee_type.clone());
        lines.extend(pair(
            -fee.amount,
            major(fee.amount),
            &accounts.clearing,
            &accounts.fees,
            &memo,
        ));
    }
    let presentment = match presentment {
        Some((amount, code)) if !code.eq_ignore_ascii_case(&txn.currency) => {
            let paid = self::currency(txn, code)?;
            Some(Presentment {
                amount: from_minor_units(amount.abs(), &paid),
                currency: paid.code().to_string(),
                exchange_rate: txn.exchange_rate.unwrap_or(Decimal::ONE),
            })
        }
        _ => None,
    };
    let occurred_at = time::OffsetDateTime::from_unix_timestamp(txn.created)
        .map(rfc3339_millis)
        .unwrap_or_default();
    Ok(LedgerEntry {
        id: LedgerEntry::id_for(kind, &txn.id),
        kind,
        occurred_at,
        currency: currency.code().to_string(),
        lines,
        presentment,
        references: References {
            stripe_balance_transaction: txn.id.clone(),
            ..references
        },
    })
}

/// The two lines moving `amount` between clearing and `other`: a positive `signed` amount
/// comes into clearing, a negative one leaves it; nothing for zero.
fn pair(signed: i64, amount: Decimal, clearing: &str, other: &str, memo: &str) -> Vec<LedgerLine> {
    let line = |account: &str, debit: Decimal, credit: Decimal| LedgerLine {
        account: account.to_string(),
        debit,
        credit,
        memo: memo.to_string(),
    };
    match signed.signum() {
        1 => vec![
            line(clearing, amount, Decimal::ZERO),
            line(other, Decimal::ZERO, amount),
        ],
        -1 => vec![
            line(other, amount, Decimal::ZERO),
            line(clearing, Decimal::ZERO, amount),
        ],
        _ => Vec::new(),
    }
}

fn currency(txn: &BalanceTransaction, code: &str) -> Result<Currency, LedgerError> {
    Currency::parse("currency", &code.to_ascii_uppercase()).map_err(|e| LedgerError::Currency {
        txn: txn.id.clone(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
