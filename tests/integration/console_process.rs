//! `paybridge console` as an operator starts it: on loopback over an embedded data dir, its
//! pages and its JSON answer over real HTTP, with the security headers, and nothing else.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use integration_tests::unique_name;

use crate::serve_process::paybridge_binary;

struct Console(Child);

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paybridge_console_serves_its_pages_and_the_flows_json_on_loopback() {
    let data_dir = std::env::temp_dir().join(unique_name("paybridge-console"));
    std::fs::create_dir_all(&data_dir).unwrap();
    let port = free_port();
    let port_text = port.to_string();
    let data_dir_text = data_dir.to_string_lossy().to_string();
    let _console = Console(
        Command::new(paybridge_binary())
            .args([
                "console",
                "--host",
                "127.0.0.1",
                "--port",
                &port_text,
                "--backend",
                "embedded",
                "--data-dir",
                &data_dir_text,
            ])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("PAYBRIDGE_CONSOLE_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paybridge console starts"),
    );
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut page = None;
    for _ in 0..300 {
        if let Ok(answer) = client.get(format!("{base}/console/")).send().await {
            page = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = page.expect("the console answers within 30 s");

    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'; frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("kentico-events"),
        "{html}"
    );

    let flows: serde_json::Value = client
        .get(format!("{base}/console/api/flows"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(flows["numbers"]["kentico.dlq"], "0");
    assert_eq!(flows["window_seconds"], 3600);
    assert_eq!(flows["mapping"]["active_version"], 0);

    // A POST from another site changes nothing.
    let refused = client
        .post(format!("{base}/console/flows/switch/confirm"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("flow=ledger&on=false&expected=0")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paybridge_serve_mounts_the_console_at_slash_console() {
    let setup = crate::serve_process::Setup::new().await;
    let serve = setup.serve().await;
    let client = reqwest::Client::new();

    let page = client
        .get(format!("{}/console/", serve.url))
        .send()
        .await
        .unwrap();

    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("stripe-events"), "{html}");
    // serve's counters are on the page, since the console runs inside it.
    assert!(html.contains("This process's counters"), "{html}");
    let health = client
        .get(format!("{}/healthz", serve.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
