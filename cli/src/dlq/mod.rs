//! `paybridge dlq`: list, show, redrive and purge dead-lettered events, on either backend.

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;
use paybridge::dead_letters::{DeadLetterEntry, DeadLetters};
use paybridge::webhook::Source;

pub use crate::backend::BackendArgs;

/// Exit code: a named message is not in the dead-letter queue.
pub const EXIT_NOT_FOUND: u8 = 3;

/// `dlq` subcommands.
#[derive(Subcommand, Debug)]
pub enum DlqCommand {
    /// List dead-lettered events (newest last).
    List {
        /// Only this source's DLQ.
        #[arg(long)]
        source: Option<Source>,
        /// At most this many per queue.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one dead-lettered event: its failure attributes and the envelope.
    Show {
        /// The DLQ message id (from `dlq list`).
        id: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Put events back on their queue (idempotent: done work is not redone).
    Redrive {
        /// Every dead-lettered event (of `--source`, when given).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Only this source's DLQ (with `--all`).
        #[arg(long)]
        source: Option<Source>,
        /// DLQ message ids.
        ids: Vec<String>,
    },
    /// Delete events from the DLQ for good.
    Purge {
        /// DLQ message ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs a `dlq` command; `Err((code, message))` on failure.
pub fn run(backend: BackendArgs, command: DlqCommand) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    runtime.block_on(execute(backend, command))
}

async fn execute(args: BackendArgs, command: DlqCommand) -> Result<(), (u8, String)> {
    let dlq = args.open().await?.dead_letters();
    let fail = |e: String| (1, e);
    let failed = |e: paybridge::queue::QueueError| (1, e.to_string());
    match command {
        DlqCommand::List {
            source,
            limit,
            json,
        } => {
            let entries = dlq.list(source, limit).await.map_err(failed)?;
            if json {
                for entry in &entries {
                    println!(
                        "{}",
                        serde_json::to_string(entry).map_err(|e| fail(e.to_string()))?
                    );
                }
            } else {
                print_table(&entries);
            }
            Ok(())
        }
        DlqCommand::Show { id, json } => {
            let entries = dlq.list(None, usize::MAX).await.map_err(failed)?;
            let entry = entries.into_iter().find(|e| e.id == id).ok_or((
                EXIT_NOT_FOUND,
                format!("{id} is not in a dead-letter queue"),
            ))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&entry).map_err(|e| fail(e.to_string()))?
                );
            } else {
                println!("id:        {}\nqueue:     {}", entry.id, entry.queue);
                for (name, value) in &entry.attributes {
                    println!("{:<10} {value}", format!("{name}:"));
                }
                println!("envelope:\n{}", pretty(&entry.body));
            }
            Ok(())
        }
        DlqCommand::Redrive { all, source, ids } => {
            let ids = if all {
                dlq.list(source, usize::MAX)
                    .await
                    .map_err(failed)?
                    .into_iter()
                    .map(|e| e.id)
                    .collect()
            } else if ids.is_empty() {
                return Err((2, "name the ids to redrive, or --all".into()));
            } else {
                ids
            };
            let moved = redrive(dlq.as_ref(), &ids, |done| {
                if ids.len() > REDRIVE_CHUNK {
                    eprintln!("redriving: {done}/{}", ids.len());
                }
            })
            .await
            .map_err(failed)?;
            println!("redrove {moved} of {} event(s)", ids.len());
            if moved < ids.len() {
                Err((
                    EXIT_NOT_FOUND,
                    format!(
                        "{} id(s) were not redriven: not in a dead-letter queue, or a dead letter whose body the journal no longer holds (logged; it stays in the DLQ)",
                        ids.len() - moved
                    ),
                ))
            } else {
                Ok(())
            }
        }
        DlqCommand::Purge { ids, yes } => {
            if !yes
                && !confirm(&format!(
                    "Delete {} dead-lettered event(s) for good?",
                    ids.len()
                ))
                .map_err(fail)?
            {
                return Err((1, "nothing purged".into()));
            }
            let purged = dlq.purge(&ids).await.map_err(failed)?;
            println!("purged {purged} of {} event(s)", ids.len());
            if purged < ids.len() {
                Err((
                    EXIT_NOT_FOUND,
                    format!(
                        "{} id(s) were not in a dead-letter queue",
                        ids.len() - purged
                    ),
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// How many ids one redrive call takes (SQS moves at most 10 messages per batch).
const REDRIVE_CHUNK: usize = 10;

/// Redrives `ids` in batches the queue takes, calling `progress` with how many were tried so
/// far; how many were put back.
pub async fn redrive(
    dlq: &dyn DeadLetters,
    ids: &[String],
    mut progress: impl FnMut(usize),
) -> Result<usize, paybridge::queue::QueueError> {
    let mut moved = 0;
    for (done, chunk) in ids.chunks(REDRIVE_CHUNK).enumerate() {
        moved += dlq.redrive(chunk).await?;
        progress(((done + 1) * REDRIVE_CHUNK).min(ids.len()));
    }
    Ok(moved)
}

fn print_table(entries: &[DeadLetterEntry]) {
    println!(
        "{:<38} {:<8} {:<34} {:<24} {:<24} REASON",
        "ID", "QUEUE", "EVENT TYPE", "KIND", "FAILED AT"
    );
    for e in entries {
        let reason: String = e.attribute("failure_reason").chars().take(80).collect();
        println!(
            "{:<38} {:<8} {:<34} {:<24} {:<24} {reason}",
            e.id,
            e.queue,
            e.attribute("event_type"),
            e.attribute("failure_kind"),
            e.attribute("failed_at")
        );
    }
    eprintln!("{} dead-lettered event(s)", entries.len());
}

fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| body.to_string())
}

fn confirm(question: &str) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err("refusing to purge without confirmation: pass --yes".into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().map_err(|e| e.to_string())?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
