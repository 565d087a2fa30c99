//! The chart of accounts ledger entries post to (`LEDGER_ACCOUNTS`).

use super::SecretValue;
use crate::ledger::Accounts;

/// Where posted entries are POSTed (signed), when set.
pub const VAR_LEDGER_WEBHOOK_URL: &str = "LEDGER_WEBHOOK_URL";
/// The secret the entries are signed with (or `LEDGER_WEBHOOK_SECRET_SECRET_ARN`).
pub const VAR_LEDGER_WEBHOOK_SECRET: &str = "LEDGER_WEBHOOK_SECRET";

/// The signed HTTP sink of ledger entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSinkSettings {
    /// `LEDGER_WEBHOOK_URL`.
    pub url: String,
    /// `LEDGER_WEBHOOK_SECRET` or its secret.
    pub secret: SecretValue,
}

/// The variable: `role=account` pairs, comma-separated, e.g.
/// `clearing=1010 Stripe,revenue=4000,fees=6100,refunds=4100,disputes=6200,bank=1000`.
pub const VAR_LEDGER_ACCOUNTS: &str = "LEDGER_ACCOUNTS";

/// The roles an account is configured for.
pub const ROLES: [&str; 6] = ["clearing", "revenue", "fees", "refunds", "disputes", "bank"];

/// Reads `raw` over the default chart: each pair replaces one role's account; every problem is
/// listed (an unknown role, a pair without `=`, an empty account, a role given twice).
pub fn parse_accounts(raw: &str) -> Result<Accounts, Vec<String>> {
    let mut accounts = Accounts::default();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((role, account)) = pair.split_once('=') else {
            problems.push(format!(
                "{VAR_LEDGER_ACCOUNTS}: '{pair}' is not role=account"
            ));
            continue;
        };
        let (role, account) = (role.trim(), account.trim().to_string());
        if account.is_empty() {
            problems.push(format!("{VAR_LEDGER_ACCOUNTS}: {role} has no account"));
            continue;
        }
        if seen.contains(&role) {
            problems.push(format!("{VAR_LEDGER_ACCOUNTS}: {role} is given twice"));
            continue;
        }
        seen.push(role);
        let slot = match role {
            "clearing" => &mut accounts.clearing,
            "revenue" => &mut accounts.revenue,
            "fees" => &mut accounts.fees,
            "refunds" => &mut accounts.refunds,
            "disputes" => &mut accounts.disputes,
            "bank" => &mut accounts.bank,
            other => {
                problems.push(format!(
                    "{VAR_LEDGER_ACCOUNTS}: '{other}' is not a role ({})",
                    ROLES.join(", ")
                ));
                continue;
            }
        };
        *slot = account;
    }
    if problems.is_empty() {
        Ok(accounts)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_replace_the_default_chart_role_by_role() {
        let accounts = parse_accounts(" revenue = 4000 Sales , bank=1000").unwrap();
        assert_eq!(accounts.revenue, "4000 Sales");
        assert_eq!(accounts.bank, "1000");
        assert_eq!(accounts.clearing, Accounts::default().clearing);
    }

    #[test]
    fn lists_every_problem_at_once() {
        let problems = parse_accounts("revenue=4000,revenue=4001,tax=2200,fees=,bank").unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("'tax' is not a role")));
    }
}
