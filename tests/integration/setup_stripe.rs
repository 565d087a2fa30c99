//! `paybridge setup stripe` as an operator runs it, against the Stripe fake: the endpoint is
//! registered with exactly the routed event types, its secret lands where the deployment reads
//! it (a `.env` file, or Secrets Manager on moto) and works, a rerun updates instead of
//! creating, and `doctor` says when events would be lost.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use integration_tests::now_unix;
use serde_json::{Value, json};

use crate::serve_process::{STRIPE_KEY, Setup, paybridge_binary};

const URL: &str = "https://paybridge.example/webhooks/stripe";

/// Runs `paybridge` in `dir` with only `env` (and `PATH`), so no stray `.env` or variable counts.
fn paybridge(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(paybridge_binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("paybridge runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The `stripe endpoints` line of `doctor --json`.
fn endpoint_check(output: &Output) -> Value {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .find(|c| c["check"] == "stripe endpoints")
        .unwrap_or_else(|| panic!("no stripe endpoints check: {}", text(output)))
}

fn routed() -> Vec<String> {
    (paybridge::flows::stripe_event_types().into_iter())
        .map(str::to_string)
        .collect()
}

fn events_of(endpoint: &Value) -> Vec<String> {
    let mut events: Vec<String> = (endpoint["enabled_events"].as_array().unwrap().iter())
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    events.sort();
    events
}

fn posts(setup: &Setup) -> usize {
    (setup.stripe.requests().iter())
        .filter(|r| r.method == "POST")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_registers_the_endpoint_stores_its_secret_in_env_and_a_rerun_updates_it() {
    let setup = Setup::new().await;
    std::fs::create_dir_all(&setup.data_dir).unwrap();
    let dir = setup.data_dir.as_path();
    let env_file = dir.join("deploy.env");
    let env_arg = env_file.to_string_lossy().to_string();
    let data_dir = dir.to_string_lossy().to_string();
    let env = [
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_API_BASE", setup.stripe.base_url.as_str()),
        ("KENTICO_BASE_URL", setup.kentico.base_url.as_str()),
        ("KENTICO_USERNAME", "paybridge"),
        ("KENTICO_PASSWORD", "kentico-pass"),
    ];
    let doctor = || {
        let args = ["doctor", "--backend", "embedded", "--data-dir", &data_dir];
        endpoint_check(&paybridge(dir, &[&args[..], &["--json"]].concat(), &env))
    };
    let setup_stripe = || {
        let args = ["setup", "stripe", "--url", URL, "--env-file", &env_arg];
        paybridge(dir, &[&args[..], &["--backend", "embedded"]].concat(), &env)
    };

    let none = doctor();
    assert_eq!(none["ok"], false, "{none}");
    assert!(
        none["detail"]
            .as_str()
            .unwrap()
            .contains("paybridge setup stripe --url"),
        "{none}"
    );

    // First run: created with exactly the routed events and the pinned version.
    let created = setup_stripe();
    assert!(created.status.success(), "{}", text(&created));
    let endpoints = setup.stripe.webhook_endpoints();
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    let endpoint = &endpoints[0];
    let id = endpoint["id"].as_str().unwrap().to_string();
    assert_eq!(endpoint["url"], URL);
    assert_eq!(events_of(endpoint), routed());
    assert_eq!(
        endpoint["api_version"],
        paybridge::connectors::stripe::DEFAULT_API_VERSION
    );
    let create = (setup.stripe.requests().into_iter())
        .find(|r| r.method == "POST" && r.path == "/v1/webhook_endpoints")
        .unwrap();
    assert!(
        (create.idempotency_key.as_deref().unwrap()).starts_with("paybridge-webhook_endpoint-"),
        "{create:?}"
    );
    assert!(text(&created).contains(&format!("created Stripe webhook endpoint {id}")));

    // The secret is in the .env file (its user's only), and nowhere on the terminal.
    let written = std::fs::read_to_string(&env_file).unwrap();
    let secrets = (written.lines())
        .find_map(|l| l.strip_prefix("STRIPE_WEBHOOK_SECRETS="))
        .unwrap_or_else(|| panic!("no STRIPE_WEBHOOK_SECRETS in {written}"))
        .to_string();
    assert!(secrets.starts_with("whsec_fake"), "{secrets}");
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!text(&created).contains(&secrets), "{}", text(&created));

    let healthy = doctor();
    assert_eq!(healthy["ok"], true, "{healthy}");

    // Somebody drops an event type in the Dashboard: doctor names it, a rerun restores it.
    let mut fewer = routed();
    fewer.retain(|t| t != "payout.paid");
    setup
        .stripe
        .edit_webhook_endpoint(&id, json!({"enabled_events": fewer}));
    let lossy = doctor();
    assert_eq!(lossy["ok"], false, "{lossy}");
    let detail = lossy["detail"].as_str().unwrap();
    assert!(
        detail.contains("payout.paid") && detail.contains(&format!("--url {URL}")),
        "{detail}"
    );

    let updated = setup_stripe();
    assert!(updated.status.success(), "{}", text(&updated));
    let said = text(&updated);
    assert!(
        said.contains(&format!("updated Stripe webhook endpoint {id}"))
            && said.contains("added payout.paid")
            && said.contains("stays valid"),
        "{said}"
    );
    assert!(!said.contains(&secrets), "{said}");
    let endpoints = setup.stripe.webhook_endpoints();
    assert_eq!(endpoints.len(), 1, "updated, not created again");
    assert_eq!(events_of(&endpoints[0]), routed());
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), written);

    // A disabled endpoint fails doctor and is enabled again.
    setup
        .stripe
        .edit_webhook_endpoint(&id, json!({"status": "disabled"}));
    assert_eq!(doctor()["ok"], false);
    let enabled = setup_stripe();
    assert!(
        text(&enabled).contains("enabled it again"),
        "{}",
        text(&enabled)
    );
    assert_eq!(setup.stripe.webhook_endpoints()[0]["status"], "enabled");
    assert_eq!(doctor()["ok"], true);

    // Nothing to do: nothing is sent.
    let before = posts(&setup);
    let unchanged = setup_stripe();
    assert!(unchanged.status.success(), "{}", text(&unchanged));
    assert!(
        text(&unchanged).contains("nothing changed"),
        "{}",
        text(&unchanged)
    );
    assert_eq!(posts(&setup), before);

    // The stored secret is the one serve verifies Stripe's deliveries with.
    let serve = setup
        .serve_with(&[], &[("STRIPE_WEBHOOK_SECRETS", secrets.as_str())])
        .await;
    let secret = secrets.rsplit(',').next().unwrap();
    let body = json!({"id": "evt_setup_1", "object": "event", "type": "balance.available",
        "created": now_unix(), "livemode": false, "data": {"object": {}}})
    .to_string();
    let signature =
        paybridge::webhook::signature::sign_header(&[secret], now_unix(), body.as_bytes());
    let answer = reqwest::Client::new()
        .post(format!("{}/webhooks/stripe", serve.url))
        .header("stripe-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
}

#[tokio::test]
async fn setup_refuses_a_url_stripe_would_send_events_to_in_the_clear() {
    let setup = Setup::new().await;
    std::fs::create_dir_all(&setup.data_dir).unwrap();
    let env = [
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_API_BASE", setup.stripe.base_url.as_str()),
    ];
    for url in [
        "http://paybridge.example/webhooks/stripe",
        "ftp://paybridge.example/webhooks/stripe",
        "paybridge.example/webhooks/stripe",
    ] {
        let refused = paybridge(&setup.data_dir, &["setup", "stripe", "--url", url], &env);
        assert_eq!(refused.status.code(), Some(2), "{url}: {}", text(&refused));
        assert!(text(&refused).contains("https://"), "{}", text(&refused));
    }
    assert!(setup.stripe.requests().is_empty());
    assert!(!setup.data_dir.join(".env").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_adds_the_secret_to_the_secrets_manager_secret_the_function_reads() {
    let sdk = integration_tests::moto::sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let create = |name: &str, value: &str| {
        let request = secrets
            .create_secret()
            .name(integration_tests::unique_name(name))
            .secret_string(value);
        async move { request.send().await.unwrap().arn.unwrap() }
    };
    // The JSON shape with an older secret (a rotation), and the template's generated placeholder.
    let json_arn = create(
        "setup-json",
        r#"{"STRIPE_WEBHOOK_SECRETS":"whsec_old","NOTE":"kept"}"#,
    )
    .await;
    let placeholder_arn = create(
        "setup-placeholder",
        "Xk2P9qLm4Rt7Wv1Yz8Bc3Nd6Fg0Hj5Ks2Lq9Mp4Rs7Tv1W",
    )
    .await;
    let setup = Setup::new().await;
    std::fs::create_dir_all(&setup.data_dir).unwrap();
    let endpoint = integration_tests::moto::endpoint();
    let env = [
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_API_BASE", setup.stripe.base_url.as_str()),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let read = |arn: String| {
        let request = secrets.get_secret_value().secret_id(arn);
        async move { request.send().await.unwrap().secret_string.unwrap() }
    };

    for (arn, host) in [(&json_arn, "a"), (&placeholder_arn, "b")] {
        let url = format!("https://{host}.example/webhooks/stripe");
        // With AWS_ENDPOINT_URL set the backend is AWS, and Secrets Manager the default store.
        let done = paybridge(
            &setup.data_dir,
            &["setup", "stripe", "--url", &url, "--secret-id", arn],
            &env,
        );
        assert!(done.status.success(), "{}", text(&done));
        assert!(!text(&done).contains("whsec_fake"), "{}", text(&done));
    }

    let stored: Value = serde_json::from_str(&read(json_arn).await).unwrap();
    assert_eq!(stored["NOTE"], "kept");
    let list = stored["STRIPE_WEBHOOK_SECRETS"].as_str().unwrap();
    let (old, new) = list.split_once(',').unwrap();
    assert_eq!(old, "whsec_old");
    assert!(new.starts_with("whsec_fake"), "{list}");
    let replaced = read(placeholder_arn).await;
    assert!(
        replaced.starts_with("whsec_fake") && !replaced.contains(','),
        "{replaced}"
    );
    assert_eq!(setup.stripe.webhook_endpoints().len(), 2);
    assert!(!setup.data_dir.join(".env").exists());
}
