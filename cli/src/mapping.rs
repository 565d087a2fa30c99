//! `paybridge mapping`: the mapping document's versions (docs/CONTRACTS.md#mapping-document) —
//! check a document, preview the request it makes for an order event, publish it as the next
//! version (after replaying it on sample events), show one, roll back to an earlier one, list the
//! versions and the audit trail. Exit codes: 2 a document with problems (or one that breaks a
//! sample order), 3 an unknown version, 4 someone else changed the active version meanwhile
//! (nothing was written).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use paybridge::config::flow::FlowSettings;
use paybridge::config::worker::serve_settings;
use paybridge::flows::preview::{Preview, PreviewError, events_in, preview_order, replay_samples};
use paybridge::mapping_doc::active::applied;
use paybridge::mapping_doc::store::{MappingChange, MappingStore};
use paybridge::mapping_doc::{AppliedMapping, MappingDocument};
use serde_json::Value;
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
    /// The Stripe request a Kentico order event makes under a document (default: the active
    /// version): the exact form body, its fields, the aliases applied.
    Preview(PreviewArgs),
    /// Publish a document file as the next version and make it active.
    Publish(PublishArgs),
    /// Make an earlier version active again (0: back to the environment's settings).
    Rollback(RollbackArgs),
    /// The stored versions, newest first, and the audit trail.
    History(HistoryArgs),
    /// Suggestions against the active version, as the console's Suggestions page shows them:
    /// the alias each group of dead-lettered mapping mismatches needs, and the PaymentIntent
    /// fields unmapped order fields could fill, each with its confidence and reasons.
    Suggest(SuggestArgs),
}

/// Arguments of `mapping suggest`.
#[derive(Args, Debug)]
pub struct SuggestArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// As JSON (the shapes of the console's `/console/api/suggestions`).
    #[arg(long)]
    json: bool,
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

/// Arguments of `mapping preview`.
#[derive(Args, Debug)]
pub struct PreviewArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// A file holding Kentico order events (bare, API Gateway or SQS, as in `events/`).
    #[arg(long)]
    event: PathBuf,
    /// The document to preview instead of the active version.
    #[arg(long)]
    document: Option<PathBuf>,
    /// As JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `mapping publish`.
#[derive(Args, Debug)]
pub struct PublishArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// The document (JSON).
    file: PathBuf,
    /// The sample events it is replayed on first (every `*.json` in the directory); default
    /// `events/` when there is one.
    #[arg(long)]
    samples: Option<PathBuf>,
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
            MappingCommand::Preview(args) => preview(args).await,
            MappingCommand::Publish(args) => publish(args).await,
            MappingCommand::Rollback(args) => rollback(args).await,
            MappingCommand::History(args) => history(args).await,
            MappingCommand::Suggest(args) => suggest(args).await,
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

/// The environment's flow settings (what version 0 is, and what a document applies over).
fn base_settings() -> Result<FlowSettings, (u8, String)> {
    environment_settings().map_err(fail)
}

/// The environment's Stripe mode (`STRIPE_MODE`, or the plain key's), when it says one.
pub fn environment_stripe_mode() -> Option<paybridge::config::mode::StripeMode> {
    let (_, connectors) = serve_settings(&env).ok()?;
    connectors.stripe.and_then(|stripe| stripe.mode)
}

/// The environment's flow settings, or why they could not be read.
pub fn environment_settings() -> Result<FlowSettings, String> {
    let (_, connectors) = serve_settings(&env).map_err(|e| e.to_string())?;
    Ok(connectors.flow)
}

/// The active version, applied over the environment's settings.
async fn active(store: &dyn MappingStore) -> Result<AppliedMapping, (u8, String)> {
    let (version, stored) = store.active().await.map_err(fail)?;
    applied(&base_settings()?, version, stored.as_ref()).map_err(fail)
}

/// Every event in `file`, named after it.
fn events_of(file: &Path) -> Result<Vec<(String, Value)>, (u8, String)> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| (1, format!("cannot read {}: {e}", file.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| (2, format!("{} is not JSON: {e}", file.display())))?;
    let name = file.display().to_string();
    Ok(events_in(&value)
        .into_iter()
        .map(|e| (name.clone(), e))
        .collect())
}

async fn preview(args: PreviewArgs) -> Result<(), (u8, String)> {
    let mapping = match &args.document {
        Some(file) => AppliedMapping::new(u32::MAX, &read(file)?, &base_settings()?),
        None => active(&*store(&args.backend).await?).await?,
    };
    let events = events_of(&args.event)?;
    if events.is_empty() {
        return Err((2, format!("{} holds no event", args.event.display())));
    }
    let previews: Vec<_> = (events.iter())
        .map(|(_, event)| preview_order(&mapping, event))
        .collect();
    if args.json {
        let value = serde_json::to_value(&previews).map_err(fail)?;
        println!("{}", serde_json::to_string_pretty(&value).map_err(fail)?);
    } else {
        for preview in &previews {
            print_preview(preview);
        }
    }
    match previews.iter().all(Result::is_ok) {
        true => Ok(()),
        false => Err((2, "an event has no request under this mapping".into())),
    }
}

fn print_preview(preview: &Result<Preview, PreviewError>) {
    match preview {
        Err(error) => println!("no request: {error}\n"),
        Ok(preview) => {
            let version = match preview.version {
                u32::MAX => "the document".to_string(),
                version => format!("version {version}"),
            };
            println!("{} (under {version})", preview.request);
            for (field, value) in &preview.fields {
                println!("  {field} = {value}");
            }
            for (field, spelling, code) in &preview.aliases {
                println!("  alias: {field} '{spelling}' → {code}");
            }
            for note in &preview.notes {
                println!("  note: {note}");
            }
            println!("body: {}\n", preview.body);
        }
    }
}

/// The sample events a publish replays: every `*.json` in `dir`, sorted.
fn samples(dir: Option<&Path>) -> Result<Vec<(String, Value)>, (u8, String)> {
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None if Path::new("events").is_dir() => PathBuf::from("events"),
        None => return Ok(Vec::new()),
    };
    let entries =
        std::fs::read_dir(&dir).map_err(|e| (1, format!("cannot read {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = (entries.filter_map(Result::ok))
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut events = Vec::new();
    for file in files {
        // A file that is not JSON is no sample (and no reason to refuse a publish).
        events.extend(events_of(&file).unwrap_or_default());
    }
    Ok(events)
}

async fn publish(args: PublishArgs) -> Result<(), (u8, String)> {
    let document = read(&args.file)?;
    let text = serde_json::to_string_pretty(&document).map_err(fail)?;
    let store = store(&args.backend).await?;
    let samples = samples(args.samples.as_deref())?;
    if !samples.is_empty() {
        let active = active(&*store).await?;
        let candidate = AppliedMapping::new(active.version + 1, &document, &base_settings()?);
        let outcomes = replay_samples(&active, &candidate, &samples);
        let broken: Vec<String> = (outcomes.iter())
            .filter(|o| o.regression)
            .map(|o| match &o.outcome {
                Err(error) => format!("{}: {error}", o.name),
                Ok(_) => o.name.clone(),
            })
            .collect();
        if !broken.is_empty() {
            return Err((
                2,
                format!(
                    "not published: orders the active version {} maps would no longer map:\n{}",
                    active.version,
                    broken.join("\n")
                ),
            ));
        }
        let mapped = outcomes.iter().filter(|o| o.outcome.is_ok()).count();
        println!(
            "replayed on {} sample order event(s): {mapped} map, none breaks",
            outcomes.len()
        );
    }
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

async fn suggest(args: SuggestArgs) -> Result<(), (u8, String)> {
    let backend = args.backend.open().await?;
    let settings = crate::console::ConsoleSettings::from_environment();
    let g = (crate::console::suggestions(&backend, &settings).await).map_err(fail)?;
    if args.json {
        let value = serde_json::json!({
            "active_version": g.active.version,
            "corrections": g.corrections,
            "uncorrected": g.uncorrected,
            "fields": g.fields.iter().flat_map(|f| f.suggestions.iter()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value).map_err(fail)?);
        return Ok(());
    }
    print!("{}", suggestions_text(&g));
    Ok(())
}

/// What `mapping suggest` prints: the corrections with the dead letters each lets through,
/// the mismatches without one, the unmapped fields with their ranked targets.
pub fn suggestions_text(g: &crate::console::Gathered) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "suggestions against the active version {}",
        g.active.version
    );
    let _ = writeln!(out, "\ncorrections for dead-lettered mapping mismatches:");
    if g.corrections.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for group in &g.corrections {
        let c = &group.correction;
        let _ = writeln!(out, "  [{:>3}] {}", c.confidence, group.description);
        let _ = writeln!(out, "        why: {}", c.explanation);
        let ids: Vec<String> = (group.dead_letters.iter())
            .map(|d| match &d.order_id {
                Some(order) => format!("{} (order {order})", d.id),
                None => d.id.clone(),
            })
            .collect();
        let _ = writeln!(out, "        lets through: {}", ids.join(", "));
    }
    if !g.uncorrected.is_empty() {
        let _ = writeln!(out, "\nmismatches without a correction:");
        for u in &g.uncorrected {
            let _ = writeln!(out, "  {} {}: {}", u.dead_letter.id, u.field, u.why);
        }
    }
    let _ = writeln!(out, "\nunmapped order fields:");
    if g.fields.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for field in &g.fields {
        let _ = writeln!(out, "  {}", field.path);
        for s in &field.suggestions {
            let reasons = s.reasons.join("; ");
            let _ = writeln!(out, "    [{:>3}] → {}: {reasons}", s.confidence, s.target());
        }
    }
    let _ = writeln!(
        out,
        "\nAccept one in the console's Suggestions page (it publishes the next version and \
         redrives exactly the dead letters it lets through), or add it to a document with \
         `paybridge mapping publish` and redrive with `paybridge dlq redrive ID…`."
    );
    out
}
