//! `paybridge events sign`: re-sign API Gateway sample events with a fresh timestamp.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use paybridge::config::cli::VAR_SIGNING_SECRET;
use paybridge::webhook::Source;
use paybridge::webhook::sample::{sign_event, source_of};

/// Commands on sample events.
#[derive(Subcommand)]
pub enum EventsCommand {
    /// Sign each FILE's body now with SECRET and write the signature header into it.
    Sign(SignArgs),
}

/// Arguments of `events sign`.
#[derive(Args)]
pub struct SignArgs {
    /// The webhook secret to sign with (whsec_… for Stripe, the shared secret for Kentico).
    #[arg(long, env = VAR_SIGNING_SECRET, hide_env_values = true)]
    secret: String,
    /// The source whose header to set; inferred from each event's rawPath when absent.
    #[arg(long)]
    source: Option<Source>,
    /// Sign with this unix timestamp instead of now (e.g. an old one for a stale sample).
    #[arg(long, allow_hyphen_values = true)]
    timestamp: Option<i64>,
    /// Change one byte of the body after signing: a fresh forged sample.
    #[arg(long)]
    tamper: bool,
    /// Write to this directory (same file names) instead of rewriting the files in place.
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// API Gateway HTTP API (payload v2) event files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Runs an events command; the error is the message to print.
pub fn run(command: EventsCommand) -> Result<(), String> {
    match command {
        EventsCommand::Sign(args) => sign(args),
    }
}

fn sign(args: SignArgs) -> Result<(), String> {
    let timestamp = args.timestamp.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    });
    for file in &args.files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut event: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        let source: Source = match args.source {
            Some(source) => source,
            None => source_of(&event).map_err(|e| format!("{}: {e}", file.display()))?,
        };
        sign_event(&mut event, source, &args.secret, timestamp, args.tamper)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let target = match &args.out_dir {
            Some(dir) => dir.join(file.file_name().unwrap_or_default()),
            None => file.clone(),
        };
        let pretty = serde_json::to_string_pretty(&event).map_err(|e| e.to_string())?;
        std::fs::write(&target, pretty + "\n").map_err(|e| format!("{}: {e}", target.display()))?;
        eprintln!("signed {} ({source}, t={timestamp})", target.display());
    }
    Ok(())
}
