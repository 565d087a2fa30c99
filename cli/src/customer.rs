//! `paybridge customer show --email | --kentico-id | --stripe-id [--json]`: one view of a customer
//! (both sides read live, the link, orders with payments, refunds and ledger entries,
//! subscriptions and invoices, the newest events). Exit code 3: nobody matches.

use std::sync::Arc;

use clap::{Args, Subcommand};
use paybridge::customers::view::{self, CustomerView, Lookup, Sources, ViewError};
use paybridge::metrics::InMemoryMetrics;

use crate::backend::BackendArgs;
use crate::dlq::EXIT_NOT_FOUND;

/// `customer …`.
#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Both sides of a customer, its orders, subscriptions, invoices and newest events.
    Show(ShowArgs),
}

/// Arguments of `customer show`: exactly one of the three lookups.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("lookup").required(true).args(["email", "kentico_id", "stripe_id"])))]
pub struct ShowArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// Every customer with this e-mail at Stripe or in Kentico.
    #[arg(long)]
    email: Option<String>,
    /// Kentico's CustomerID.
    #[arg(long)]
    kentico_id: Option<i64>,
    /// A Stripe Customer id (cus_…).
    #[arg(long)]
    stripe_id: Option<String>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a `customer` command.
pub fn run(command: CustomerCommand) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    match command {
        CustomerCommand::Show(args) => runtime.block_on(show(args)),
    }
}

async fn show(args: ShowArgs) -> Result<(), (u8, String)> {
    let lookup = match (&args.email, args.kentico_id, &args.stripe_id) {
        (Some(email), _, _) => Lookup::Email(email.clone()),
        (_, Some(id), _) => Lookup::KenticoId(id),
        (_, _, Some(id)) => Lookup::StripeId(id.clone()),
        _ => return Err((2, "say --email, --kentico-id or --stripe-id".into())),
    };
    let fail = |e: String| (1, e);
    let serve = args.backend.serve_env(Arc::new(InMemoryMetrics::new()));
    let backend = args.backend.open().await?;
    let clients = paybridge::app::serve::operator_clients(&serve, &backend)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let (customers, links, journal, ledger) = (
        backend.customers(),
        backend.links(),
        backend.journal(),
        backend.ledger(),
    );
    let sources = Sources {
        stripe: &clients.stripe,
        kentico: clients.kentico.as_ref().map(|rest| &rest.client),
        customers: &*customers,
        links: &*links,
        journal: &*journal,
        ledger: &*ledger,
    };
    let views = match view::show(&sources, &lookup).await {
        Ok(views) => views,
        Err(e @ ViewError::NotFound(_)) => return Err((EXIT_NOT_FOUND, e.to_string())),
        Err(e @ ViewError::Invalid(_)) => return Err((2, e.to_string())),
        Err(e) => return Err(fail(e.to_string())),
    };
    if args.json {
        let text = serde_json::to_string_pretty(&views).map_err(|e| fail(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_view(v);
    }
    Ok(())
}

fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Unix seconds as a UTC date.
fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

fn print_view(v: &CustomerView) {
    println!(
        "customer  Kentico {}  ⇄  Stripe {}",
        or_dash(v.kentico_customer_id),
        or_dash(v.stripe_customer_id.as_deref())
    );
    let column = |name: &str| {
        v.kentico
            .as_ref()
            .and_then(|k| k.get(name))
            .and_then(|value| value.as_str().map(str::to_string))
    };
    let kentico_name = [column("CustomerFirstName"), column("CustomerLastName")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    match &v.kentico {
        Some(_) => println!(
            "  Kentico   {:<28} {:<32} {}",
            kentico_name,
            or_dash(column("CustomerEmail")),
            or_dash(column("CustomerPhone"))
        ),
        None => println!("  Kentico   -"),
    }
    match &v.stripe {
        Some(c) => println!(
            "  Stripe    {:<28} {:<32} {}",
            c.name.as_deref().unwrap_or("-"),
            c.email.as_deref().unwrap_or("-"),
            c.phone.as_deref().unwrap_or("-")
        ),
        None => println!("  Stripe    -"),
    }
    match &v.link {
        Some(link) if link["unlinked"] == true => {
            println!("  link      unlinked (deleted at Stripe)")
        }
        Some(link) => println!(
            "  link      linked{}",
            link["kentico_version"]
                .as_str()
                .map(|v| format!(", Kentico version {v} written to Stripe"))
                .unwrap_or_default()
        ),
        None => println!("  link      none"),
    }
    println!("\n  ORDERS");
    if v.orders.is_empty() {
        println!("  -");
    }
    for o in &v.orders {
        let payments: Vec<String> = (o.payments.iter())
            .map(|p| {
                let refunded = match p.amount_refunded {
                    0 => String::new(),
                    n => format!(", refunded {n}"),
                };
                format!(
                    "{} {} {} {}{refunded}",
                    p.id, p.status, p.amount, p.currency
                )
            })
            .collect();
        println!(
            "  {:<8} {:<22} paid {:<6} {}",
            o.order_id,
            o.status_written.as_deref().unwrap_or("-"),
            o.is_paid
                .as_ref()
                .map_or("-".to_string(), ToString::to_string),
            if payments.is_empty() {
                "-".to_string()
            } else {
                payments.join("; ")
            }
        );
        for e in &o.ledger_entries {
            println!(
                "           ledger {} {} {} {}",
                e["id"].as_str().unwrap_or_default(),
                e["kind"].as_str().unwrap_or_default(),
                e["debits"].as_str().unwrap_or_default(),
                e["currency"].as_str().unwrap_or_default()
            );
        }
    }
    println!("\n  SUBSCRIPTIONS AND INVOICES");
    if v.billing.is_empty() {
        println!("  -");
    }
    for b in &v.billing {
        let amounts = b
            .amounts
            .as_ref()
            .map(|(due, paid, currency)| format!("due {due} paid {paid} {currency}"))
            .unwrap_or_default();
        let period = b
            .current_period
            .map(|(start, end)| format!("period {} to {}", date(start), date(end)))
            .unwrap_or_default();
        println!(
            "  {:<28} {:<12} {:<34} {}",
            b.id,
            b.status,
            b.last_event_type,
            [amounts, period].join(" ").trim()
        );
    }
    println!("\n  LAST EVENTS");
    if v.events.is_empty() {
        println!("  -");
    }
    for e in &v.events {
        println!(
            "  {:<25} {:<8} {:<34} {:<14} {}",
            e.at, e.source, e.event_type, e.outcome, e.detail
        );
    }
    for p in &v.problems {
        println!("  could not read: {p}");
    }
}
