//! Entries written out for an accountant: JSON lines, CSV (one row per line of an entry), and
//! Beancount (one transaction per entry, accepted by `bean-check`, browsable with Fava).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Accounts, LedgerEntry};

/// One entry per line, as docs/CONTRACTS.md#ledger-entries specifies it.
pub fn json_lines(entries: &[LedgerEntry]) -> String {
    entries
        .iter()
        .filter_map(|entry| serde_json::to_string(entry).ok())
        .map(|line| line + "\n")
        .collect()
}

/// The CSV header.
pub const CSV_HEADER: &str = "entry_id,occurred_at,kind,currency,account,debit,credit,memo,kentico_order_id,stripe_balance_transaction";

/// One row per line of every entry, RFC 4180 quoting.
pub fn csv(entries: &[LedgerEntry]) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    for entry in entries {
        for line in &entry.lines {
            let fields = [
                entry.id.as_str(),
                entry.occurred_at.as_str(),
                entry.kind.as_str(),
                entry.currency.as_str(),
                line.account.as_str(),
                &line.debit.to_string(),
                &line.credit.to_string(),
                line.memo.as_str(),
                entry.references.kentico_order_id.as_deref().unwrap_or(""),
                entry.references.stripe_balance_transaction.as_str(),
            ]
            .map(quote);
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// A Beancount file: the accounts opened on the first day, then one balanced transaction per
/// entry (debits positive, credits negative), tagged with the entry id as a link. An account
/// whose configured name is not a Beancount account (`Assets:…`, `Income:…`, …, each part
/// starting with a capital letter or digit) is written under the root its role implies.
pub fn beancount(entries: &[LedgerEntry], accounts: &Accounts) -> String {
    let mut out = String::from("option \"title\" \"paybridge ledger\"\n\n");
    let opened: BTreeSet<String> = entries
        .iter()
        .flat_map(|entry| entry.lines.iter())
        .map(|line| beancount_account(&line.account, accounts))
        .collect();
    let first_day = entries
        .iter()
        .map(LedgerEntry::day)
        .min()
        .unwrap_or("1970-01-01");
    for account in &opened {
        let _ = writeln!(out, "{first_day} open {account}");
    }
    for entry in entries {
        let narration = entry
            .lines
            .first()
            .map(|line| line.memo.as_str())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{} * \"Stripe\" \"{}\" ^{}",
            entry.day(),
            escape(narration),
            entry.id
        );
        if let Some(order) = &entry.references.kentico_order_id {
            let _ = writeln!(out, "  kentico_order: \"{}\"", escape(order));
        }
        let _ = writeln!(
            out,
            "  stripe_balance_transaction: \"{}\"",
            escape(&entry.references.stripe_balance_transaction)
        );
        for line in &entry.lines {
            let amount = line.debit - line.credit;
            let _ = writeln!(
                out,
                "  {}  {} {}",
                beancount_account(&line.account, accounts),
                amount,
                entry.currency
            );
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

const ROOTS: [&str; 5] = ["Assets", "Liabilities", "Equity", "Income", "Expenses"];

/// `account` as a Beancount account name.
fn beancount_account(account: &str, accounts: &Accounts) -> String {
    let valid_part = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let parts: Vec<&str> = account.split(':').collect();
    if parts.len() > 1 && ROOTS.contains(&parts[0]) && parts[1..].iter().all(|p| valid_part(p)) {
        return account.to_string();
    }
    let root = if [&accounts.clearing, &accounts.bank].contains(&&account.to_string()) {
        "Assets"
    } else if [&accounts.revenue, &accounts.refunds].contains(&&account.to_string()) {
        "Income"
    } else {
        "Expenses"
    };
    let cleaned: String = account
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let cleaned = cleaned.trim_matches('-');
    let mut part = String::from("X");
    part.push_str(if cleaned.is_empty() {
        "Account"
    } else {
        cleaned
    });
    format!("{root}:Paybridge:{part}")
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::ledger::{EntryKind, LedgerLine, References};

    fn entry() -> LedgerEntry {
        let line = |account: &str, debit, credit, memo: &str| LedgerLine {
            account: account.into(),
            debit,
            credit,
            memo: memo.into(),
        };
        LedgerEntry {
            id: "le_payment_txn_1".into(),
            kind: EntryKind::Payment,
            occurred_at: "2026-11-29T12:00:00.000Z".into(),
            currency: "USD".into(),
            lines: vec![
                line(
                    "Assets:Stripe:Clearing",
                    dec!(100.00),
                    dec!(0),
                    "payment ch_1",
                ),
                line("4000 Sales, net", dec!(0), dec!(100.00), "payment \"ch_1\""),
            ],
            presentment: None,
            references: References {
                kentico_order_id: Some("1042".into()),
                stripe_balance_transaction: "txn_1".into(),
                ..References::default()
            },
        }
    }

    #[test]
    fn csv_has_a_row_per_line_and_quotes_what_needs_it() {
        let csv = csv(&[entry()]);
        let rows: Vec<&str> = csv.split("\r\n").filter(|r| !r.is_empty()).collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[2],
            "le_payment_txn_1,2026-11-29T12:00:00.000Z,payment,USD,\"4000 Sales, net\",0,100.00,\"payment \"\"ch_1\"\"\",1042,txn_1"
        );
    }

    #[test]
    fn json_lines_read_back_as_the_same_entries() {
        let text = json_lines(&[entry(), entry()]);
        let back: Vec<LedgerEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, vec![entry(), entry()]);
    }

    #[test]
    fn beancount_names_every_account_validly_and_signs_credits() {
        let accounts = Accounts {
            revenue: "4000 Sales, net".into(),
            ..Accounts::default()
        };
        let text = beancount(&[entry()], &accounts);
        assert!(
            text.contains("2026-11-29 open Assets:Stripe:Clearing"),
            "{text}"
        );
        assert!(
            text.contains("2026-11-29 open Income:Paybridge:X4000-Sales--net"),
            "{text}"
        );
        assert!(
            text.contains("  Income:Paybridge:X4000-Sales--net  -100.00 USD"),
            "{text}"
        );
        assert!(text.contains("^le_payment_txn_1"), "{text}");
    }
}
