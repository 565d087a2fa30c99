//! Test support: moto server, AWS clients pointed at it, API Gateway requests, sample events,
//! a headless Chromium for the console's browser tests.

pub mod apigw;
pub mod browser;
pub mod dynamodb;
pub mod fakes;
pub mod kms;
pub mod moto;
pub mod runtime_api;
pub mod sqs;

/// The repository root (for `events/` and other fixtures).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A name unique within this test run, for queues and tables.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000_000;
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// A loopback server that accepts connections and never answers (a peer that hangs); its
/// base URL. The connections stay open as long as the test process runs.
pub async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://{address}")
}
