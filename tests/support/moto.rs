//! A moto server for the tests: the one `.ci/run` started (`PAYBRIDGE_TEST_AWS_ENDPOINT`), or one
//! started here on a free port that dies with this test process.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The variable naming an already running moto server, e.g. `http://127.0.0.1:5123`.
pub const ENDPOINT_VARIABLE: &str = "PAYBRIDGE_TEST_AWS_ENDPOINT";

/// The endpoint of a running moto server, starting one if none was given.
pub fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| match std::env::var(ENDPOINT_VARIABLE) {
            Ok(url) if !url.is_empty() => url,
            _ => start_moto(),
        })
        .clone()
}

fn start_moto() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port");
    // The shell watches this process and stops moto when it is gone, so no server outlives
    // the test binary (nextest runs each test in its own process).
    let script = format!(
        "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done; kill $m 2>/dev/null",
        parent = std::process::id()
    );
    // Never waited for on purpose: the shell outlives this handle and ends with the test process.
    #[allow(clippy::zombie_processes)]
    std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moto_server must be installed: pip install 'moto[server]' (see README)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return format!("http://127.0.0.1:{port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not start on port {port} within 30 s");
}

/// An AWS SDK configuration pointed at moto, with dummy credentials and region.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// Where a backend's resources are on the emulator: what an operator command or `serve
/// --backend aws` is given.
pub struct AwsNames<'a> {
    /// The Stripe queue and its DLQ.
    pub stripe: (&'a str, &'a str),
    /// The Kentico queue and its DLQ.
    pub kentico: (&'a str, &'a str),
    /// The state table.
    pub table: &'a str,
    /// The ledger table.
    pub ledger_table: &'a str,
}

impl AwsNames<'_> {
    /// The environment naming them, with the emulator's endpoint and test credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        [
            ("AWS_ENDPOINT_URL", endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("STRIPE_EVENTS_QUEUE_URL", self.stripe.0.into()),
            ("STRIPE_EVENTS_DLQ_URL", self.stripe.1.into()),
            ("KENTICO_EVENTS_QUEUE_URL", self.kentico.0.into()),
            ("KENTICO_EVENTS_DLQ_URL", self.kentico.1.into()),
            ("IDEMPOTENCY_TABLE_NAME", self.table.into()),
            ("LEDGER_TABLE_NAME", self.ledger_table.into()),
        ]
        .into()
    }
}
