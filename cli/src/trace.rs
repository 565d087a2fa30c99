//! `paybridge trace --order-id`: what happened to one order — its Stripe side, every event with
//! each delivery's outcome and time, and anything in a dead-letter queue.

use clap::Args;
use paybridge::app::Backend;
use paybridge::dead_letters::DeadLetterEntry;
use paybridge::journal::JournalEntry;
use paybridge::links::OrderLink;
use serde_json::{Value, json};

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

/// The order's Stripe side, a few lines.
fn print_link(l: &OrderLink) {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    println!(
        "  owes {} {} (version {})",
        or_dash(l.amount.map(|a| a.to_string())),
        l.currency.as_deref().unwrap_or(""),
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
        let output = json!({"order_id": args.order_id, "link": link, "events": events, "dead_letters": dead});
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
