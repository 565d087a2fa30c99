//! The `--backend` / `--data-dir` arguments every command shares; the parts come from
//! `paybridge::app`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use paybridge::app::{Backend, BackendKind, ServeEnv};
use paybridge::clock::SystemClock;
use paybridge::config::cli::VAR_DATA_DIR;
use paybridge::config::process_env;
use paybridge::metrics::{InMemoryMetrics, Metrics};

/// Where queues and state live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// SQLite in `--data-dir`: nothing else to run.
    Embedded,
    /// SQS and DynamoDB (names from the environment, endpoint from `AWS_ENDPOINT_URL`).
    Aws,
}

/// Where the queues and state are: the same choice for `serve` and every operator command.
#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// embedded (default) or aws (default when AWS_ENDPOINT_URL is set).
    #[arg(long, value_enum, global = true)]
    backend: Option<BackendArg>,
    /// The embedded store's directory.
    #[arg(
        long,
        env = VAR_DATA_DIR,
        default_value = ".paybridge",
        global = true
    )]
    pub data_dir: PathBuf,
}

/// The process environment with empty values treated as unset (a blank line in `.env`).
pub fn env(name: &str) -> Option<String> {
    process_env(name).filter(|v| !v.trim().is_empty())
}

impl BackendArgs {
    /// The composition root's view of these arguments and the process.
    pub fn serve_env(&self, metrics: Arc<dyn Metrics>) -> ServeEnv<'_> {
        ServeEnv {
            backend: self.backend.map(|kind| match kind {
                BackendArg::Embedded => BackendKind::Embedded,
                BackendArg::Aws => BackendKind::Aws,
            }),
            data_dir: &self.data_dir,
            env: &env,
            metrics,
            clock: Arc::new(SystemClock),
        }
    }

    /// Opens the chosen backend for an operator's command.
    pub async fn open(&self) -> Result<Backend, (u8, String)> {
        let serve = self.serve_env(Arc::new(InMemoryMetrics::new()));
        paybridge::app::serve::operator_backend(&serve)
            .await
            .map_err(|e| (1, e.to_string()))
    }
}
