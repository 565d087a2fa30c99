//! Order status names → Kentico's per-site status IDs: pinned by `KENTICO_ORDER_STATUSES`,
//! otherwise looked up and cached (a name the cached list lacks is looked up again once).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::client::KenticoClient;
use super::error::KenticoError;

/// Below this Jaro-Winkler similarity a known name is not offered as "did you mean".
const SUGGESTION_THRESHOLD: f64 = 0.7;

/// One row of Kentico's `ecommerce.orderstatus` (COM_OrderStatus).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStatus {
    /// StatusID, what `OrderStatusID` refers to.
    pub id: i64,
    /// StatusName, the code name.
    pub name: String,
    /// StatusDisplayName, what the admin UI shows.
    pub display_name: Option<String>,
    /// StatusSiteID; statuses are per site.
    pub site_id: Option<i64>,
    /// StatusEnabled.
    pub enabled: Option<bool>,
}

/// Parses `KENTICO_ORDER_STATUSES`: `Name=ID` pairs separated by commas, e.g.
/// `Paid=6,Payment Failed=7`. Names are trimmed and keyed lower-case (lookups ignore
/// case); an empty string means no overrides. The error lists every bad pair.
pub fn parse_status_overrides(raw: &str) -> Result<HashMap<String, i64>, String> {
    let mut overrides = HashMap::new();
    let mut bad = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        // The ID never contains '=', so split at the last one.
        let Some((name, id)) = pair.rsplit_once('=') else {
            bad.push(format!("\"{pair}\" (expected Name=ID)"));
            continue;
        };
        let name = name.trim().to_lowercase();
        match id.trim().parse::<i64>() {
            _ if name.is_empty() => bad.push(format!("\"{pair}\" (the name is empty)")),
            Ok(id) if id > 0 => {
                if overrides
                    .insert(name, id)
                    .is_some_and(|earlier| earlier != id)
                {
                    bad.push(format!(
                        "\"{pair}\" (the name is given twice with different IDs)"
                    ));
                }
            }
            _ => bad.push(format!("\"{pair}\" (the ID must be a positive integer)")),
        }
    }
    if bad.is_empty() {
        Ok(overrides)
    } else {
        Err(format!(
            "KENTICO_ORDER_STATUSES has bad pairs: {}",
            bad.join(", ")
        ))
    }
}

/// Resolves status names to IDs. Clones share the override table and the cache.
#[derive(Debug, Clone)]
pub struct OrderStatusResolver {
    client: KenticoClient,
    overrides: Arc<HashMap<String, i64>>,
    statuses: Arc<Mutex<Option<Arc<Vec<OrderStatus>>>>>,
}

impl OrderStatusResolver {
    /// A resolver over `client`; `overrides` comes from [`parse_status_overrides`].
    pub fn new(client: KenticoClient, overrides: HashMap<String, i64>) -> Self {
        let overrides = overrides
            .into_iter()
            .map(|(k, v)| (k.trim().to_lowercase(), v))
            .collect();
        Self {
            client,
            overrides: Arc::new(overrides),
            statuses: Arc::new(Mutex::new(None)),
        }
    }

    /// The status ID for `name`. An override wins; otherwise Kentico's list is fetched on
    /// first use and cached for the life of the process (a failed fetch is not cached, so
    /// the next call retries). A name the cached list lacks fetches the list again once before
    /// it is refused: a status created in Kentico after the process started (the fix an
    /// operator makes for `kentico_status_unknown`) is found by the redriven event, no restart
    /// needed. Unknown names end in the dead-letter queue, so these extra reads are rare.
    pub async fn id_for(&self, name: &str) -> Result<i64, KenticoError> {
        if let Some(id) = self.overrides.get(&name.trim().to_lowercase()) {
            return Ok(*id);
        }
        match resolve(name, &self.statuses(false).await?) {
            Err(KenticoError::UnknownStatus { .. }) => resolve(name, &self.statuses(true).await?),
            found => found,
        }
    }

    /// The cached list, fetched when there is none yet or `refresh` asks for it.
    async fn statuses(&self, refresh: bool) -> Result<Arc<Vec<OrderStatus>>, KenticoError> {
        let mut cached = self.statuses.lock().await;
        if let (Some(list), false) = (cached.as_ref(), refresh) {
            return Ok(list.clone());
        }
        let list = Arc::new(self.client.list_order_statuses().await?);
        *cached = Some(list.clone());
        Ok(list)
    }
}

impl OrderStatusResolver {
    /// The StatusName of status `id` (an override's name first), from the same cached list.
    pub async fn name_for(&self, id: i64) -> Result<Option<String>, KenticoError> {
        if let Some((name, _)) = self.overrides.iter().find(|(_, v)| **v == id) {
            return Ok(Some(name.clone()));
        }
        let statuses = self.statuses(false).await?;
        Ok(statuses.iter().find(|s| s.id == id).map(|s| s.name.clone()))
    }
}

/// Matches `name` on StatusName, then on StatusDisplayName, ignoring case. When several
/// sites define the name the first enabled one wins; pin the ID with an override when
/// that is not the right site.
pub(crate) fn resolve(name: &str, statuses: &[OrderStatus]) -> Result<i64, KenticoError> {
    let wanted = name.trim();
    let wanted_lower = wanted.to_lowercase();
    let same = |text: &str| text.trim().to_lowercase() == wanted_lower;
    let pick = |matches: Vec<&OrderStatus>| {
        matches
            .iter()
            .find(|s| s.enabled != Some(false))
            .or(matches.first())
            .map(|s| s.id)
    };
    let by_name = pick(statuses.iter().filter(|s| same(&s.name)).collect());
    let by_display = || {
        pick(
            statuses
                .iter()
                .filter(|s| s.display_name.as_deref().is_some_and(same))
                .collect(),
        )
    };
    if let Some(id) = by_name.or_else(by_display) {
        return Ok(id);
    }
    let known: Vec<String> = statuses.iter().map(|s| s.name.clone()).collect();
    let suggestion = statuses
        .iter()
        .flat_map(|s| {
            std::iter::once(&s.name)
                .chain(s.display_name.as_ref())
                .map(move |c| (s, c))
        })
        .map(|(s, candidate)| {
            (
                s,
                strsim::jaro_winkler(&candidate.to_lowercase(), &wanted_lower),
            )
        })
        .filter(|(_, score)| *score >= SUGGESTION_THRESHOLD)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(s, _)| s.name.clone());
    Err(KenticoError::UnknownStatus {
        name: wanted.to_string(),
        known,
        suggestion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: i64, name: &str, display: &str, enabled: bool) -> OrderStatus {
        OrderStatus {
            id,
            name: name.into(),
            display_name: Some(display.into()),
            site_id: Some(1),
            enabled: Some(enabled),
        }
    }

    fn defaults() -> Vec<OrderStatus> {
        vec![
            status(1, "New", "New", true),
            status(6, "Paid", "Paid", true),
            status(7, "PaymentFailed", "Payment Failed", true),
        ]
    }

    #[test]
    fn parses_override_pairs_ignoring_case_and_spaces() {
        let overrides = parse_status_overrides(" Paid=6, Payment Failed = 7 ,").unwrap();
        assert_eq!(overrides.get("paid"), Some(&6));
        assert_eq!(overrides.get("payment failed"), Some(&7));
        assert!(parse_status_overrides("").unwrap().is_empty());
    }

    #[test]
    fn lists_every_bad_override_pair() {
        let error = parse_status_overrides("Paid,=3,New=x,Old=-1,Paid=6,paid=9").unwrap_err();
        for fragment in [
            "\"Paid\" (expected",
            "\"=3\"",
            "\"New=x\"",
            "\"Old=-1\"",
            "\"paid=9\" (the name is given twice",
        ] {
            assert!(error.contains(fragment), "{fragment} missing from {error}");
        }
    }

    #[test]
    fn matches_status_name_before_display_name_ignoring_case() {
        assert_eq!(resolve("paid", &defaults()).unwrap(), 6);
        assert_eq!(resolve("payment failed", &defaults()).unwrap(), 7);
        assert_eq!(resolve(" PAYMENTFAILED ", &defaults()).unwrap(), 7);
    }

    #[test]
    fn prefers_an_enabled_status_when_sites_share_a_name() {
        let statuses = vec![
            status(3, "Paid", "Paid", false),
            status(16, "Paid", "Paid", true),
        ];
        assert_eq!(resolve("Paid", &statuses).unwrap(), 16);
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones_and_suggests_the_closest() {
        let Err(KenticoError::UnknownStatus {
            name,
            known,
            suggestion,
        }) = resolve("Payed", &defaults())
        else {
            panic!("expected UnknownStatus");
        };
        assert_eq!(name, "Payed");
        assert_eq!(known, vec!["New", "Paid", "PaymentFailed"]);
        assert_eq!(suggestion.as_deref(), Some("Paid"));
        let Err(KenticoError::UnknownStatus { suggestion, .. }) = resolve("Refunded", &defaults())
        else {
            panic!("expected UnknownStatus");
        };
        assert_eq!(suggestion, None);
    }
}
