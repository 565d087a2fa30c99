//! `paybridge setup …`: registers paybridge with a sender, so nothing has to be copied by hand.
//! `setup stripe` registers (or brings up to date) Stripe's webhook endpoint and stores its
//! signing secret where the deployment reads it.

pub mod check;
mod env_file;
mod store;
mod stripe;

use clap::Subcommand;

/// `setup …`.
#[derive(Subcommand, Debug)]
pub enum SetupCommand {
    /// Register the Stripe webhook endpoint with exactly the event types paybridge routes (or
    /// bring an existing one up to date), and store its signing secret.
    Stripe(stripe::StripeArgs),
}

/// Runs a `setup` command.
pub fn run(command: SetupCommand) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    match command {
        SetupCommand::Stripe(args) => runtime.block_on(stripe::run(args)),
    }
}
