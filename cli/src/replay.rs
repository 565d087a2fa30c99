//! `paybridge replay`: re-enqueue stored envelopes. A replayed event runs again under a fresh
//! idempotency key; its side effects stay guarded by their business keys (one PaymentIntent per
//! order, statuses only forward), so a replay repairs without duplicating.

use clap::Args;
use paybridge::queue::{
    ATTRIBUTE_EVENT_ID, ATTRIBUTE_EVENT_TYPE, ATTRIBUTE_SOURCE, OutgoingMessage, QueueEnvelope,
};
use paybridge::webhook::Source;
use paybridge::worker::processor::ATTRIBUTE_REPLAY;

use crate::dlq::{BackendArgs, EXIT_NOT_FOUND};

/// Arguments of `replay`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["event_id", "order_id"])))]
pub struct ReplayArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// One event, by the sender's id (evt_… or a Kentico event GUID).
    #[arg(long)]
    event_id: Option<String>,
    /// With --event-id: only this source's event.
    #[arg(long, requires = "event_id")]
    source: Option<Source>,
    /// Every event seen for a Kentico order, in the order they were handled.
    #[arg(long)]
    order_id: Option<i64>,
}

/// Runs `replay`.
pub fn run(args: ReplayArgs) -> Result<(), (u8, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    runtime.block_on(replay(args))
}

async fn replay(args: ReplayArgs) -> Result<(), (u8, String)> {
    let backend = args.backend.open().await?;
    let journal = backend.journal();
    let mut wanted: Vec<(String, String)> = Vec::new();
    if let Some(event_id) = &args.event_id {
        for source in Source::ALL {
            if args.source.is_none_or(|s| s == source) {
                wanted.push((source.to_string(), event_id.clone()));
            }
        }
    }
    if let Some(order_id) = args.order_id {
        let entries = journal
            .entries(&format!("order:{order_id}"))
            .await
            .map_err(|e| (1, e.to_string()))?;
        for entry in entries {
            let key = (entry.source, entry.event_id);
            if !wanted.contains(&key) {
                wanted.push(key);
            }
        }
    }
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let mut replayed = 0;
    for (source, event_id) in &wanted {
        let Some(body) = journal
            .envelope(source, event_id)
            .await
            .map_err(|e| (1, e.to_string()))?
        else {
            continue;
        };
        let envelope: QueueEnvelope = serde_json::from_str(&body).map_err(|e| {
            (
                1,
                format!("the stored envelope of {event_id} is unreadable: {e}"),
            )
        })?;
        let message = OutgoingMessage {
            attributes: vec![
                (ATTRIBUTE_SOURCE.to_string(), envelope.source.to_string()),
                (
                    ATTRIBUTE_EVENT_TYPE.to_string(),
                    envelope.event_type.clone(),
                ),
                (ATTRIBUTE_EVENT_ID.to_string(), envelope.event_id.clone()),
                (ATTRIBUTE_REPLAY.to_string(), stamp.to_string()),
            ],
            body,
        };
        backend
            .publisher(envelope.source)
            .publish(message)
            .await
            .map_err(|e| (1, e.to_string()))?;
        println!(
            "replayed {} {} ({})",
            envelope.source, envelope.event_id, envelope.event_type
        );
        replayed += 1;
    }
    if replayed == 0 {
        return Err((
            EXIT_NOT_FOUND,
            "no stored event matches (the journal keeps events JOURNAL_RETENTION_DAYS, 30 by default)".into(),
        ));
    }
    eprintln!("{replayed} event(s) re-enqueued");
    Ok(())
}
