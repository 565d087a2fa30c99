//! `paybridge dlq`: list, show, redrive and purge dead-lettered events, on either backend.

mod embedded;
mod sqs;

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use paybridge::webhook::Source;

use crate::serve::{Backend, BackendKind};

/// Exit code: a named message is not in the dead-letter queue.
pub const EXIT_NOT_FOUND: u8 = 3;

/// Where the DLQs are: the same choice as `serve`.
#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// embedded (default) or aws (default when AWS_ENDPOINT_URL is set).
    #[arg(long, value_enum, global = true)]
    backend: Option<BackendKind>,
    /// The embedded store's directory.
    #[arg(
        long,
        env = "PAYBRIDGE_DATA_DIR",
        default_value = ".paybridge",
        global = true
    )]
    pub data_dir: PathBuf,
}

impl BackendArgs {
    /// Opens the chosen backend for an operator's command (no receive limit applies).
    pub async fn open(&self) -> Result<Backend, (u8, String)> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Backend::open(self.kind(), &self.data_dir, u32::MAX, &env)
            .await
            .map_err(|e| (1, e))
    }

    /// The chosen backend: `--backend`, else aws when `AWS_ENDPOINT_URL` is set, else embedded.
    pub fn kind(&self) -> BackendKind {
        let aws = std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.trim().is_empty());
        self.backend.unwrap_or(if aws {
            BackendKind::Aws
        } else {
            BackendKind::Embedded
        })
    }
}

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

/// One dead-lettered event, whichever backend holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    /// The DLQ message id.
    pub id: String,
    /// `stripe` or `kentico`: whose queue it came from.
    pub queue: String,
    /// The queue envelope.
    pub body: String,
    /// Its attributes, the `failure_*` ones included.
    pub attributes: BTreeMap<String, String>,
}

impl Entry {
    fn attribute(&self, name: &str) -> &str {
        self.attributes.get(name).map(String::as_str).unwrap_or("")
    }
}

/// The DLQ operations both backends offer.
#[async_trait::async_trait]
pub trait DeadLetters {
    async fn list(&self, source: Option<Source>, limit: usize) -> Result<Vec<Entry>, String>;
    async fn redrive(&self, ids: &[String]) -> Result<usize, String>;
    async fn purge(&self, ids: &[String]) -> Result<usize, String>;
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
    let backend = args.open().await?;
    let dlq = dead_letters(&backend);
    let fail = |e: String| (1, e);
    match command {
        DlqCommand::List {
            source,
            limit,
            json,
        } => {
            let entries = dlq.list(source, limit).await.map_err(fail)?;
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
            let entries = dlq.list(None, usize::MAX).await.map_err(fail)?;
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
                    .map_err(fail)?
                    .into_iter()
                    .map(|e| e.id)
                    .collect()
            } else if ids.is_empty() {
                return Err((2, "name the ids to redrive, or --all".into()));
            } else {
                ids
            };
            let mut moved = 0;
            for (done, chunk) in ids.chunks(10).enumerate() {
                moved += dlq.redrive(chunk).await.map_err(fail)?;
                if ids.len() > 10 {
                    eprintln!(
                        "redriving: {}/{}",
                        ((done + 1) * 10).min(ids.len()),
                        ids.len()
                    );
                }
            }
            println!("redrove {moved} of {} event(s)", ids.len());
            if moved < ids.len() {
                Err((
                    EXIT_NOT_FOUND,
                    format!(
                        "{} id(s) were not in a dead-letter queue",
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
            let purged = dlq.purge(&ids).await.map_err(fail)?;
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

/// The DLQs of `backend`.
pub fn dead_letters(backend: &Backend) -> Box<dyn DeadLetters> {
    match backend {
        Backend::Embedded {
            stripe, kentico, ..
        } => Box::new(embedded::EmbeddedDeadLetters::new(
            stripe.clone(),
            kentico.clone(),
        )),
        Backend::Aws {
            sdk,
            stripe,
            kentico,
            ..
        } => Box::new(sqs::SqsDeadLetters::new(
            sdk,
            stripe.clone(),
            kentico.clone(),
        )),
    }
}

fn print_table(entries: &[Entry]) {
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
