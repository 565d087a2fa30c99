//! `paybridge`: run the whole integration on one machine (`serve`) and operate it.

mod backend;
mod console;
mod customer;
mod dlq;
mod doctor;
mod events;
mod ledger;
mod mapping;
mod reconcile;
mod replay;
mod serve;
mod setup;
mod trace;

use clap::{Parser, Subcommand};

/// Stripe ⇄ Kentico order-to-cash: run it on one machine, and operate it.
#[derive(Parser)]
#[command(name = "paybridge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the webhooks and run the workers on this machine (embedded store, or AWS).
    Serve(serve::ServeArgs),
    /// The operator console in a browser: flows, mapping, events, dead letters (loopback: no
    /// login; beyond it: --token). `serve` also mounts it at /console.
    Console(console::ConsoleArgs),
    /// Work with sample events (events/*.json).
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Re-enqueue stored events (`--event-id` or `--order-id`); side effects stay exactly once.
    Replay(replay::ReplayArgs),
    /// What happened to one order: its PaymentIntent, every event and outcome, dead letters, ledger entries.
    Trace(trace::TraceArgs),
    /// Check configuration and reachability (Stripe, Kentico, queues, table) and say what to fix.
    Doctor(doctor::DoctorArgs),
    /// Posted ledger entries: export a period as JSON lines, CSV or Beancount.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Compare Stripe, Kentico and the ledger for a window; --heal replays what missed webhooks
    /// left undone (exit code 3: discrepancies found).
    Reconcile(reconcile::ReconcileArgs),
    /// One view of a customer: both sides, orders, payments, subscriptions, invoices, events.
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// Register paybridge with a sender: `setup stripe --url …` creates or updates Stripe's
    /// webhook endpoint with exactly the routed event types and stores its signing secret.
    #[command(subcommand)]
    Setup(setup::SetupCommand),
    /// The mapping document's versions: validate, publish, show, roll back, history.
    #[command(subcommand)]
    Mapping(mapping::MappingCommand),
    /// Dead-lettered events: list, show, redrive, purge (exit code 3: an id was not found).
    Dlq {
        #[command(flatten)]
        backend: dlq::BackendArgs,
        #[command(subcommand)]
        command: dlq::DlqCommand,
    },
}

fn main() -> std::process::ExitCode {
    // A .env file is optional; a broken one is worth saying so.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("paybridge: ignoring .env: {error}");
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).map_err(|e| (1, e)),
        Command::Console(args) => console::run(args),
        Command::Events(command) => events::run(command).map_err(|e| (1, e)),
        Command::Dlq { backend, command } => dlq::run(backend, command),
        Command::Doctor(args) => doctor::run(args).map_err(|e| (1, e)),
        Command::Replay(args) => replay::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Ledger(command) => ledger::run(command),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Customer(command) => customer::run(command),
        Command::Setup(command) => setup::run(command),
        Command::Mapping(command) => mapping::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("paybridge: {message}");
            std::process::ExitCode::from(code)
        }
    }
}
