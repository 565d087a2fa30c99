//! `paybridge`: run the whole integration on one machine (`serve`) and operate it.

mod events;
mod serve;

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
    /// Work with sample events (events/*.json).
    #[command(subcommand)]
    Events(events::EventsCommand),
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
        Command::Serve(args) => serve::run(args),
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
