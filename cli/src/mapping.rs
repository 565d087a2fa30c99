//! `paybridge mapping`: the mapping document's versions (docs/CONTRACTS.md#mapping-document) —
//! check a document, publish it as the next version, show one, roll back to an earlier one,
//! list the versions and the audit trail. Exit codes: 2 a document with problems, 3 an unknown
//! version, 4 someone else changed the active version meanwhile (nothing was written).

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use paybridge::config::worker::serve_settings;
use paybridge::mapping_doc::MappingDocument;
use paybridge::mapping_doc::store::{MappingChange, MappingStore};
use time::OffsetDateTime;

use crate::backend::{BackendArgs, env};

/// `mapping` subcommands.
#[derive(Subcommand, Debug)]
pub enum MappingCommand {
    /// Check a document file: every problem with its JSON path (exit 2 when there is one).
    Validate {
        /// The document (JSON).
        file: PathBuf,
    },
    /// Print the active document, or --version N (0: the one the environment amounts to).
    Show(ShowArgs),
    /// Publish a document file as the next version and make it active.
    Publish(PublishArgs),
    /// Make an earlier version active again (0: back to the environment's settings).
    Rollback(RollbackArgs),
    /// The stored versions, newest first, and the audit trail.
    History(HistoryArgs),
}

/// Arguments of `mapping show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// This version instead of the active one.
    #[arg(long)]
    version: Option<u32>,
}

/// Arguments of `mapping publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// The document (JSON).
    file: PathBuf,
    /// Who publishes (kept in the version and the audit trail).
    #[arg(long)]
    author: String,
    /// Why.
    #[arg(long)]
    comment: String,
    /// The version you expect to be active (default: the one active now). Publishing fails
    /// with exit code 4 when another is.
    #[arg(long)]
    expect: Option<u32>,
}

/// Arguments of `mapping rollback`.
#[derive(Args, Debug)]
pub struct RollbackArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// The version to make active (0: the environment's settings).
    version: u32,
    /// Who.
    #[arg(long)]
    author: String,
    /// Why.
    #[arg(long)]
    comment: String,
}

/// Arguments of `mapping history`.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// At most this many versions and audit lines.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// As JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a `mapping` command.
pub fn run(command: MappingCommand) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    runtime.block_on(async {
        match command {
            MappingCommand::Validate { file } => read(&file).map(|_| {
                println!("{}: no problem", file.display());
            }),
            MappingCommand::Show(args) => show(args).await,
            MappingCommand::Publish(args) => publish(args).await,
            MappingCommand::Rollback(args) => rollback(args).await,
            MappingCommand::History(args) => history(args).await,
        }
    })
}

/// Reads and checks a document file; its problems, one per line, are the error (exit 2).
fn read(file: &PathBuf) -> Result<MappingDocument, (u8, String)> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| (1, format!("cannot read {}: {e}", file.display())))?;
    MappingDocument::parse(&text).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        (
            2,
            format!(
                "{} has {} problem(s):\n{}",
                file.display(),
                lines.len(),
                lines.join("\n")
            ),
        )
    })
}

/// Version 0: the document the environment's settings amount to (what is active while no
/// version is, or after a rollback to 0).
pub fn environment_document() -> Result<MappingDocument, String> {
    let (_, connectors) = serve_settings(&env).map_err(|e| e.to_string())?;
    Ok(MappingDocument::from_settings(&connectors.flow))
}

async fn store(backend: &BackendArgs) -> Result<Arc<dyn MappingStore>, (u8, String)> {
    Ok(backend.open().await?.mappings())
}

fn fail(error: impl std::fmt::Display) -> (u8, String) {
    (1, error.to_string())
}

async fn show(args: ShowArgs) -> Result<(), (u8, String)> {
    let store = store(&args.backend).await?;
    let version = match args.version {
        Some(version) => version,
        None => store.active().await.map_err(fail)?.0,
    };
    let text = if version == 0 {
        serde_json::to_string_pretty(&environment_document().map_err(fail)?).map_err(fail)?
    } else {
        match store.get(version).await.map_err(fail)? {
            Some(stored) => stored.document,
            None => return Err((3, format!("there is no version {version}"))),
        }
    };
    println!("{text}");
    Ok(())
}

async fn publish(args: PublishArgs) -> Result<(), (u8, String)> {
    let document = read(&args.file)?;
    let text = serde_json::to_string_pretty(&document).map_err(fail)?;
    let store = store(&args.backend).await?;
    let expected = match args.expect {
        Some(version) => version,
        None => store.active().await.map_err(fail)?.0,
    };
    let change = (store
        .publish(&text, &args.author, &args.comment, expected, now())
        .await)
        .map_err(fail)?;
    answer(change, "published")
}

async fn rollback(args: RollbackArgs) -> Result<(), (u8, String)> {
    let store = store(&args.backend).await?;
    let active = store.active().await.map_err(fail)?.0;
    let change = (store
        .activate(args.version, &args.author, &args.comment, active, now())
        .await)
        .map_err(fail)?;
    answer(change, "active again:")
}

fn answer(change: MappingChange, done: &str) -> Result<(), (u8, String)> {
    match change {
        MappingChange::Done(version) => {
            println!("{done} version {version}");
            Ok(())
        }
        MappingChange::Conflict { active } => Err((
            4,
            format!(
                "version {active} became active meanwhile: nothing was written; look at it and try again"
            ),
        )),
        MappingChange::Unknown(version) => Err((3, format!("there is no version {version}"))),
        MappingChange::TooLarge { bytes, limit } => Err((
            2,
            format!("the document is {bytes} bytes; a version holds at most {limit}"),
        )),
    }
}

async fn history(args: HistoryArgs) -> Result<(), (u8, String)> {
    let store = store(&args.backend).await?;
    let (active, _) = store.active().await.map_err(fail)?;
    let versions = store.versions(args.limit).await.map_err(fail)?;
    let audit = store.audit(args.limit).await.map_err(fail)?;
    if args.json {
        let value = serde_json::json!({"active": active, "versions": versions, "audit": audit});
        println!("{}", serde_json::to_string_pretty(&value).map_err(fail)?);
        return Ok(());
    }
    println!(
        "active: version {active}{}",
        if active == 0 {
            " (the environment's)"
        } else {
            ""
        }
    );
    println!("\nversions:");
    for version in &versions {
        let marker = if version.version == active { "*" } else { " " };
        println!(
            "{marker} {:>4}  {}  {:<20}  {}",
            version.version, version.created_at, version.author, version.comment
        );
    }
    println!("\naudit:");
    for line in &audit {
        println!(
            "  {}  {:<20}  {:<9}  {} -> {}  {}",
            line.at,
            line.author,
            line.action.as_str(),
            line.previous,
            line.version,
            line.comment
        );
    }
    Ok(())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
