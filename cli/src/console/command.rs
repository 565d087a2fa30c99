//! `paybridge console`: the console alone, on the embedded store or AWS, until Ctrl-C.

use std::net::SocketAddr;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use clap::Args;
use paybridge::config::cli::VAR_CONSOLE_TOKEN;

use super::{Gate, router, state};
use crate::backend::BackendArgs;

/// Arguments of `console`.
#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Address to bind. Loopback (the default): no login. Anything else: a login with --token.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// The token operators log in with when bound beyond loopback.
    #[arg(long, env = VAR_CONSOLE_TOKEN, hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs `console` until Ctrl-C.
pub fn run(args: ConsoleArgs) -> Result<(), (u8, String)> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, e.to_string()))?;
    runtime.block_on(serve_console(args))
}

async fn serve_console(args: ConsoleArgs) -> Result<(), (u8, String)> {
    let backend = args.backend.open().await?;
    let gate = Gate::for_bind(args.host, args.token.as_deref());
    let state = state(backend, gate, None).map_err(|e| (1, e))?;
    let address = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| (1, format!("cannot listen on {address}: {e}")))?;
    let app = Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .merge(router(state));
    tracing::info!(%address, "paybridge console: http://{address}/console/");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| (1, format!("server error: {e}")))
}
