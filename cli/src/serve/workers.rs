//! The worker loops of `serve`: each drains its queue with the Lambdas' processor until told to stop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paybridge::app::ServeParts;
use paybridge::config::worker::WorkerKind;
use paybridge::worker::Poller;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Each worker's state for `/healthz`: `running`, or why it waits.
pub type WorkerStatus = Arc<Mutex<BTreeMap<&'static str, String>>>;

/// The running worker loops.
pub struct Workers {
    /// Their states.
    pub status: WorkerStatus,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Asks every loop to stop after its current batch and waits for them: a batch in flight
    /// is finished, so nothing is left half-done.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

/// Starts the loop of every worker that has a processor. A worker whose connectors are not
/// configured does not poll: its events wait on the queue, untouched, until paybridge is
/// restarted with the credentials.
pub fn start(parts: &ServeParts, visibility_timeout: u32) -> Workers {
    let (stop, stopped) = watch::channel(false);
    let status: WorkerStatus = Arc::default();
    let mut handles = Vec::new();
    for (kind, processor) in &parts.workers {
        let processor = match processor {
            Ok(processor) => processor.clone(),
            Err(why) => {
                lock(&status).insert(kind.name(), why.clone());
                continue;
            }
        };
        let poller = parts.backend.poller(*kind, processor, visibility_timeout);
        lock(&status).insert(kind.name(), "running".into());
        handles.push(tokio::spawn(run_loop(*kind, poller, stopped.clone())));
    }
    Workers {
        status,
        stop,
        handles,
    }
}

fn lock(status: &WorkerStatus) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, String>> {
    status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn run_loop(kind: WorkerKind, poller: Box<dyn Poller>, mut stopped: watch::Receiver<bool>) {
    while !*stopped.borrow() {
        let pause = match poller.poll_once().await {
            Ok(report) if report.outcomes.is_empty() => Duration::from_millis(200),
            Ok(_) => Duration::ZERO,
            Err(error) => {
                tracing::warn!(worker = kind.name(), %error, "polling failed; trying again shortly");
                Duration::from_secs(2)
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => {}
            }
        }
    }
    tracing::info!(worker = kind.name(), "worker stopped");
}
