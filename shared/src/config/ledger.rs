//! The chart of accounts ledger entries post to (`LEDGER_ACCOUNTS`).

use std::collections::BTreeMap;

use super::SecretValue;
use crate::ledger::Accounts;
use crate::secret::SecretString;

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

/// The QuickBooks Online company; setting it turns the QuickBooks sink on.
pub const VAR_QUICKBOOKS_REALM_ID: &str = "QUICKBOOKS_REALM_ID";
/// The app's OAuth2 client id.
pub const VAR_QUICKBOOKS_CLIENT_ID: &str = "QUICKBOOKS_CLIENT_ID";
/// The app's OAuth2 client secret (or `QUICKBOOKS_CLIENT_SECRET_SECRET_ARN`).
pub const VAR_QUICKBOOKS_CLIENT_SECRET: &str = "QUICKBOOKS_CLIENT_SECRET";
/// The refresh token paybridge was authorized with (`serve`: kept, rotated, in its store).
pub const VAR_QUICKBOOKS_REFRESH_TOKEN: &str = "QUICKBOOKS_REFRESH_TOKEN";
/// The Secrets Manager secret holding the refresh token, rewritten at each rotation.
pub const VAR_QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN: &str = "QUICKBOOKS_REFRESH_TOKEN_SECRET_ARN";
/// `role=Id` pairs: the QuickBooks account of each role of the chart.
pub const VAR_QUICKBOOKS_ACCOUNTS: &str = "QUICKBOOKS_ACCOUNTS";
/// The API base (the sandbox's, or a test fake).
pub const VAR_QUICKBOOKS_API_BASE: &str = "QUICKBOOKS_API_BASE";
/// The OAuth2 token endpoint.
pub const VAR_QUICKBOOKS_TOKEN_URL: &str = "QUICKBOOKS_TOKEN_URL";

/// Where the QuickBooks refresh token lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshTokenSetting {
    /// Given in `QUICKBOOKS_REFRESH_TOKEN`: seeds `serve`'s store.
    Plain(SecretString),
    /// Read from, and rotated into, this Secrets Manager secret.
    SecretsManager {
        /// The secret's ARN.
        arn: String,
    },
}

/// The QuickBooks Online sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickBooksSettings {
    /// `QUICKBOOKS_REALM_ID`.
    pub realm_id: String,
    /// `QUICKBOOKS_CLIENT_ID`.
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretValue,
    /// The refresh token's home.
    pub refresh_token: RefreshTokenSetting,
    /// Role → QuickBooks account `Id` (every role).
    pub accounts: BTreeMap<String, String>,
    /// `QUICKBOOKS_API_BASE`.
    pub api_base: String,
    /// `QUICKBOOKS_TOKEN_URL`.
    pub token_url: String,
}

/// Reads `QUICKBOOKS_ACCOUNTS`: every role, each a QuickBooks account `Id` (digits).
pub fn parse_quickbooks_accounts(raw: &str) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut ids = BTreeMap::new();
    let mut problems = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((role, id)) = pair.split_once('=') else {
            problems.push(format!(
                "{VAR_QUICKBOOKS_ACCOUNTS}: '{pair}' is not role=Id"
            ));
            continue;
        };
        let (role, id) = (role.trim(), id.trim());
        if !ROLES.contains(&role) {
            problems.push(format!(
                "{VAR_QUICKBOOKS_ACCOUNTS}: '{role}' is not a role ({})",
                ROLES.join(", ")
            ));
        } else if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            problems.push(format!(
                "{VAR_QUICKBOOKS_ACCOUNTS}: {role}='{id}' is not a QuickBooks account Id (digits)"
            ));
        } else if ids.insert(role.to_string(), id.to_string()).is_some() {
            problems.push(format!("{VAR_QUICKBOOKS_ACCOUNTS}: {role} is given twice"));
        }
    }
    for role in ROLES {
        if !ids.contains_key(role) && problems.is_empty() {
            problems.push(format!(
                "{VAR_QUICKBOOKS_ACCOUNTS}: no QuickBooks account for {role}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(ids)
    } else {
        Err(problems)
    }
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
    fn quickbooks_accounts_name_every_role_by_id() {
        let ids = parse_quickbooks_accounts(
            "clearing=35, revenue=79,fees=112,refunds=80,disputes=113,bank=36",
        )
        .unwrap();
        assert_eq!(ids["revenue"], "79");
        let problems =
            parse_quickbooks_accounts("clearing=35,revenue=Sales,tax=9,fees").unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        let problems = parse_quickbooks_accounts("clearing=35").unwrap_err();
        assert!(
            problems[0].contains("no QuickBooks account for"),
            "{problems:?}"
        );
    }

    #[test]
    fn lists_every_problem_at_once() {
        let problems = parse_accounts("revenue=4000,revenue=4001,tax=2200,fees=,bank").unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("'tax' is not a role")));
    }
}
