//! `paybridge trace --order-id`: what happened to one order — its Stripe side, every event with
//! each delivery's outcome and time, anything in a dead-letter queue, and its ledger entries.

use std::collections::BTreeSet;

use clap::Args;
use paybridge::app::Backend;
use paybridge::dead_letters::DeadLetterEntry;
use paybridge::journal::JournalEntry;
use paybridge::ledger::LedgerEntry;
use paybridge::links::OrderLink;
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};

use crate::dlq::{BackendArgs, EXIT_NOT_FOUND};

/// Arguments of `trace`.
#[derive(Args, Debug)]
pub struct TraceArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// The Kentico OrderID.
    #[arg(long)]
    order_id: i64,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// What a link says the order owes, in major units (`129.90 USD`, `1500 JPY`): the link keeps
/// Stripe's minor units. A currency that does not parse shows the minor units as they are.
pub fn owes(amount: Option<i64>, currency: Option<&str>) -> String {
    let Some(amount) = amount else {
        return "-".into();
    };
    match currency.map(|c| paybridge::mapping::Currency::parse("currency", c)) {
        Some(Ok(currency)) => format!(
            "{} {}",
            paybridge::mapping::from_minor_units(amount, &currency),
            currency.code()
        ),
        Some(Err(_)) => format!("{amount} minor units of {}", currency.unwrap_or_default()),
        None => format!("{amount} minor units"),
    }
}

/// The order's Stripe side, a few lines.
fn print_link(l: &OrderLink) {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    println!(
        "  owes {} (version {})",
        owes(l.amount, l.currency.as_deref()),
        or_dash(l.version.as_ref().map(ToString::to_string))
    );
    let active = l.active();
    let mark = |id: &String| {
        let is_active = active.as_ref().is_some_and(|a| a.id() == id)
            || l.payment_intent_id.as_ref() == Some(id);
        if is_active {
            format!("{id} (active)")
        } else {
            id.clone()
        }
    };
    let objects: Vec<String> = (l.checkout_sessions.iter().map(mark))
        .chain(l.payment_intents.iter().map(mark))
        .collect();
    println!(
        "  payable objects {}",
        if objects.is_empty() {
            "-".to_string()
        } else {
            objects.join(", ")
        }
    );
    println!(
        "  status {} (rank {}){}{}",
        l.status_name.as_deref().unwrap_or("none yet"),
        l.status_rank,
        l.paid_by
            .as_ref()
            .map(|p| format!("  paid by {p}"))
            .unwrap_or_default(),
        if l.canceled {
            "  canceled in Kentico"
        } else {
            ""
        }
    );
}

/// Runs `trace`.
pub fn run(args: TraceArgs) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    runtime.block_on(trace(args))
}

/// Everything known about one order (what `trace` prints and the console's order page shows).
#[derive(Debug, Clone)]
pub struct OrderTrace {
    /// Its Stripe side.
    pub link: Option<OrderLink>,
    /// Every delivery's outcome, oldest first.
    pub events: Vec<JournalEntry>,
    /// Its events in a dead-letter queue.
    pub dead_letters: Vec<DeadLetterEntry>,
}

impl OrderTrace {
    /// Whether nothing at all is known.
    pub fn is_empty(&self) -> bool {
        self.link.is_none() && self.events.is_empty() && self.dead_letters.is_empty()
    }
}

/// Gathers what the backend knows of `order_id`: its link, its journal, its dead letters.
pub async fn gather(backend: &Backend, order_id: i64) -> Result<OrderTrace, String> {
    let link = (backend.links().by_order(order_id).await).map_err(|e| e.to_string())?;
    let events = (backend
        .journal()
        .entries(&format!("order:{order_id}"))
        .await)
        .map_err(|e| e.to_string())?;
    let dead_letters = (backend.dead_letters().list(None, usize::MAX).await)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|e| concerns(&e.body, order_id))
        .collect();
    Ok(OrderTrace {
        link,
        events,
        dead_letters,
    })
}

/// The days before today always read for an order (its recent money movements, journaled or
/// not yet).
const LEDGER_RECENT_DAYS: i64 = 6;
/// The most days read for one order: the ledger is kept by day, not by order, so each day read
/// is a query over every entry of that day.
const LEDGER_DAYS_MAX: usize = 60;

/// The ledger entries of `order_id`, oldest first: those of the days [`ledger_days`] gives
/// that name the order or one of its PaymentIntents.
pub async fn ledger_entries(
    backend: &Backend,
    order_id: i64,
    trace: &OrderTrace,
) -> Result<Vec<LedgerEntry>, String> {
    let ledger = backend.ledger();
    let mut entries: Vec<LedgerEntry> = Vec::new();
    for (from, to) in ledger_days(&trace.events, OffsetDateTime::now_utc().date()) {
        let read = (ledger.between(&day(from), &day(to)).await).map_err(|e| e.to_string())?;
        entries.extend(
            read.into_iter()
                .filter(|entry| ledger_concerns(entry, order_id, trace.link.as_ref())),
        );
    }
    entries.sort_by(|a, b| (&a.occurred_at, &a.id).cmp(&(&b.occurred_at, &b.id)));
    entries.dedup_by(|a, b| a.id == b.id);
    Ok(entries)
}

/// The ledger days to read for an order, as `[from, to)` ranges, oldest first: the day of each
/// of its journal entries with the days either side (Stripe books a movement when it sends its
/// event; a day boundary may fall between them), and the last week up to tomorrow — at most
/// [`LEDGER_DAYS_MAX`] days, the latest kept. An order whose events the journal no longer
/// holds shows only its last week's entries (`paybridge ledger export` has the rest).
pub fn ledger_days(events: &[JournalEntry], today: Date) -> Vec<(Date, Date)> {
    let mut days: BTreeSet<Date> = (0..=LEDGER_RECENT_DAYS)
        .map(|back| today - Duration::days(back))
        .chain(today.next_day())
        .collect();
    for event in events {
        let Some(at) = event.at.get(..10) else {
            continue;
        };
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let Ok(date) = Date::parse(at, format) else {
            continue;
        };
        days.extend(
            [date.previous_day(), Some(date), date.next_day()]
                .into_iter()
                .flatten(),
        );
    }
    let kept: Vec<Date> = days.into_iter().rev().take(LEDGER_DAYS_MAX).collect();
    let mut ranges: Vec<(Date, Date)> = Vec::new();
    for date in kept.into_iter().rev() {
        let end = date.next_day().unwrap_or(date);
        match ranges.last_mut() {
            Some((_, to)) if *to == date => *to = end,
            _ => ranges.push((date, end)),
        }
    }
    ranges
}

fn day(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Whether a ledger entry belongs to the order: it names the order, or one of its
/// PaymentIntents.
pub fn ledger_concerns(entry: &LedgerEntry, order_id: i64, link: Option<&OrderLink>) -> bool {
    let references = &entry.references;
    references.kentico_order_id.as_deref() == Some(order_id.to_string().as_str())
        || references
            .stripe_payment_intent
            .as_ref()
            .is_some_and(|pi| link.is_some_and(|l| payment_intents(l).contains(pi)))
}

/// Every PaymentIntent of a link, the active one and the one that paid included.
pub fn payment_intents(link: &OrderLink) -> BTreeSet<String> {
    (link.payment_intents.iter())
        .chain(&link.payment_intent_id)
        .chain(&link.paid_by)
        .cloned()
        .collect()
}

/// Whether a queue envelope concerns `order_id` (a Kentico order event or a Stripe event whose
/// object carries the order's metadata).
pub fn concerns(body: &str, order_id: i64) -> bool {
    let Ok(envelope) = serde_json::from_str::<Value>(body) else {
        return false;
    };
    let object = &envelope["payload"]["data"]["object"];
    object["OrderID"].as_i64() == Some(order_id)
        || object["OrderID"].as_str() == Some(&order_id.to_string())
        || object["metadata"]["kentico_order_id"].as_str() == Some(&order_id.to_string())
}

async fn trace(args: TraceArgs) -> Result<(), (u8, String)> {
    let backend = args.backend.open().await?;
    let fail = |e: String| (1, e);
    let trace = gather(&backend, args.order_id).await.map_err(fail)?;
    if trace.is_empty() {
        return Err((
            EXIT_NOT_FOUND,
            format!("nothing is known about order {}", args.order_id),
        ));
    }
    // The ledger is read on the side: a ledger that does not answer leaves the rest of the trace.
    let ledger = match ledger_entries(&backend, args.order_id, &trace).await {
        Ok(entries) => entries,
        Err(error) => {
            eprintln!("the ledger did not answer: {error}");
            Vec::new()
        }
    };
    let OrderTrace {
        link,
        events,
        dead_letters: dead,
    } = trace;
    if args.json {
        let link = link.map(|l| {
            json!({"order_guid": l.order_guid, "site": l.site, "payment_intent": l.payment_intent_id,
                "checkout_session": l.checkout_session_id, "amount": l.amount, "currency": l.currency,
                "version": l.version.as_ref().map(ToString::to_string),
                "payment_intents": l.payment_intents, "checkout_sessions": l.checkout_sessions,
                "paid_by": l.paid_by, "canceled": l.canceled,
                "status": l.status_name, "status_rank": l.status_rank,
                "status_payment_intent": l.status_payment_intent})
        });
        let output = json!({"order_id": args.order_id, "link": link, "events": events, "dead_letters": dead, "ledger_entries": ledger});
        println!(
            "{}",
            serde_json::to_string_pretty(&output).map_err(|e| fail(e.to_string()))?
        );
        return Ok(());
    }
    println!("order {}", args.order_id);
    match &link {
        Some(l) => print_link(l),
        None => println!("  nothing recorded at Stripe's side"),
    }
    println!(
        "\n{:<25} {:<8} {:<40} {:<15} {:<20} DETAIL",
        "AT", "SOURCE", "EVENT", "WORKER", "OUTCOME (DELIVERY)"
    );
    for e in &events {
        println!(
            "{:<25} {:<8} {:<40} {:<15} {:<20} {}",
            e.at,
            e.source,
            format!("{} {}", e.event_type, e.event_id),
            e.worker,
            format!("{} (#{})", e.outcome, e.receive_count),
            e.detail
        );
    }
    if !ledger.is_empty() {
        println!("\nledger entries:");
        for line in ledger_lines(&ledger) {
            println!("{line}");
        }
    }
    if !dead.is_empty() {
        println!("\nin a dead-letter queue:");
        for d in &dead {
            println!(
                "  {}  {}  {}",
                d.id,
                d.attributes
                    .get("failure_kind")
                    .map(String::as_str)
                    .unwrap_or(""),
                d.attributes
                    .get("failure_reason")
                    .map(String::as_str)
                    .unwrap_or("")
            );
        }
    }
    Ok(())
}

/// The text lines of `paybridge trace` for ledger entries: each entry, then its lines.
fn ledger_lines(entries: &[LedgerEntry]) -> Vec<String> {
    let mut out = Vec::new();
    for entry in entries {
        out.push(format!(
            "  {}  {}  {}  {}",
            entry.occurred_at,
            entry.kind.as_str(),
            entry.id,
            entry.currency
        ));
        for line in &entry.lines {
            out.push(format!(
                "    {:<30} debit {:>12}  credit {:>12}",
                line.account, line.debit, line.credit
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_order_owes_is_shown_in_major_units_of_its_currency() {
        assert_eq!(owes(Some(12_990), Some("usd")), "129.90 USD");
        assert_eq!(owes(Some(1_500), Some("jpy")), "1500 JPY");
        assert_eq!(owes(Some(12_340), Some("kwd")), "12.340 KWD");
        assert_eq!(owes(Some(42), Some("xx")), "42 minor units of xx");
        assert_eq!(owes(Some(42), None), "42 minor units");
        assert_eq!(owes(None, Some("usd")), "-");
    }

    #[test]
    fn ledger_entries_print_with_their_lines() {
        let entry: LedgerEntry = serde_json::from_value(json!({
            "id": "le_payment_txn_1", "kind": "payment", "occurred_at": "2026-12-02T12:00:00Z",
            "currency": "EUR",
            "lines": [{"account": "Assets:Stripe:Clearing", "debit": "12.50", "credit": "0", "memo": ""},
                      {"account": "Income:Sales", "debit": "0", "credit": "12.50", "memo": ""}],
            "references": {"stripe_balance_transaction": "txn_1"}
        }))
        .unwrap();
        let lines = ledger_lines(&[entry]);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(
            lines[0],
            "  2026-12-02T12:00:00Z  payment  le_payment_txn_1  EUR"
        );
        assert!(
            lines[1].contains("Assets:Stripe:Clearing") && lines[1].contains("debit        12.50"),
            "{lines:?}"
        );
        assert!(lines[2].contains("credit        12.50"), "{lines:?}");
    }

    #[test]
    fn a_ledger_entry_is_the_order_s_when_it_names_the_order_or_one_of_its_payment_intents() {
        let entry = |references: Value| -> LedgerEntry {
            serde_json::from_value(json!({
                "id": "le", "kind": "refund", "occurred_at": "2026-12-02T12:00:00Z",
                "currency": "EUR", "lines": [], "references": references
            }))
            .unwrap()
        };
        let link = OrderLink {
            order_id: 7,
            payment_intents: ["pi_old".to_string()].into(),
            paid_by: Some("pi_paid".into()),
            ..OrderLink::default()
        };
        let named = entry(json!({"kentico_order_id": "7", "stripe_balance_transaction": "t"}));
        assert!(ledger_concerns(&named, 7, None));
        assert!(!ledger_concerns(&named, 8, Some(&link)));
        for pi in ["pi_old", "pi_paid"] {
            let by_intent =
                entry(json!({"stripe_payment_intent": pi, "stripe_balance_transaction": "t"}));
            assert!(ledger_concerns(&by_intent, 7, Some(&link)), "{pi}");
            assert!(!ledger_concerns(&by_intent, 7, None), "{pi}");
        }
        let other = entry(
            json!({"kentico_order_id": "70", "stripe_payment_intent": "pi_other",
            "stripe_balance_transaction": "t"}),
        );
        assert!(!ledger_concerns(&other, 7, Some(&link)));
    }
}
