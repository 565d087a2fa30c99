//! `paybridge ledger export`: the posted ledger entries of a period, for the ERP or an
//! accountant — JSON lines, CSV, or a Beancount file (`bean-check` accepts it; Fava browses it).

use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use paybridge::config::worker::serve_settings;
use paybridge::ledger::export;
use paybridge::metrics::InMemoryMetrics;

use crate::backend::{BackendArgs, env};

/// `ledger` subcommands.
#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Write the entries that occurred from --from (inclusive) to --to (exclusive) to stdout.
    Export(ExportArgs),
}

/// Arguments of `ledger export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// First day, YYYY-MM-DD (UTC).
    #[arg(long)]
    from: String,
    /// Day after the last, YYYY-MM-DD (UTC).
    #[arg(long)]
    to: String,
    /// json (one entry per line), csv (one row per line of an entry) or beancount.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON entry per line.
    Json,
    /// One row per line of an entry.
    Csv,
    /// A Beancount file.
    Beancount,
}

/// Runs a `ledger` command.
pub fn run(command: LedgerCommand) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    match command {
        LedgerCommand::Export(args) => runtime.block_on(export_entries(args)),
    }
}

async fn export_entries(args: ExportArgs) -> Result<(), (u8, String)> {
    let fail = |e: String| (1, e);
    let (_, connectors) = serve_settings(&env).map_err(|e| fail(e.to_string()))?;
    let serve = args.backend.serve_env(Arc::new(InMemoryMetrics::new()));
    let backend = paybridge::app::serve::operator_backend(&serve)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let entries = backend
        .ledger()
        .between(&args.from, &args.to)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let text = match args.format {
        Format::Json => export::json_lines(&entries),
        Format::Csv => export::csv(&entries),
        Format::Beancount => export::beancount(&entries, &connectors.flow.ledger_accounts),
    };
    print!("{text}");
    eprintln!(
        "{} ledger entr{}",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" }
    );
    Ok(())
}
