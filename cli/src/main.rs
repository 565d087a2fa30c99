//! `paybridge`: the operator's command line. Today: re-sign sample events for local invokes.

mod events;

use clap::{Parser, Subcommand};

/// Stripe ⇄ Kentico order-to-cash: operator commands.
#[derive(Parser)]
#[command(name = "paybridge", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with sample events (events/*.json).
    #[command(subcommand)]
    Events(events::EventsCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Events(command) => events::run(command),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("paybridge: {message}");
            std::process::ExitCode::from(1)
        }
    }
}
