//! `paybridge dlq …` as an operator runs it, on the embedded store and on SQS (moto).

use std::process::{Command, Output};

use integration_tests::fakes::stripe::FakeStripe;
use integration_tests::{moto, sqs};
use serde_json::{Value, json};

use crate::serve_process::{
    KENTICO_WEBHOOK_SECRET, Setup, deliver, kentico_order, order_event, paybridge_binary, wait_for,
};

fn paybridge(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(paybridge_binary());
    command.args(args).env_remove("AWS_ENDPOINT_URL");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("paybridge runs")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_lists_shows_redrives_and_purges_dead_letters_of_the_embedded_store() {
    let setup = Setup::new().await;
    let serve = setup.serve().await;
    let mut bad = kentico_order(7);
    bad["OrderCurrencyCode"] = json!("US Dollar");
    setup.kentico.add_order(bad.clone());
    deliver(
        &reqwest::Client::new(),
        &serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(&bad),
    )
    .await;
    let data_dir = setup.data_dir.to_string_lossy().to_string();
    let dir = ["--backend", "embedded", "--data-dir", data_dir.as_str()];
    let list = |extra: &[&str]| paybridge(&[&["dlq", "list"], &dir[..], extra].concat(), &[]);
    wait_for("the dead letter", || {
        !json_lines(&list(&["--json"])).is_empty()
    })
    .await;

    let listed = json_lines(&list(&["--json"]));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["queue"], "kentico");
    assert_eq!(listed[0]["attributes"]["failure_kind"], "mapping_mismatch");
    assert_eq!(listed[0]["attributes"]["failure_suggestion"], "USD");
    let id = listed[0]["id"].as_str().unwrap().to_string();
    let table = String::from_utf8_lossy(&list(&[]).stdout).to_string();
    assert!(
        table.contains(&id) && table.contains("mapping_mismatch"),
        "{table}"
    );

    let show = paybridge(&[&["dlq", "show", &id], &dir[..]].concat(), &[]);
    assert!(show.status.success());
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("did you mean USD?")
            && shown.contains("\"OrderCurrencyCode\": \"US Dollar\""),
        "{shown}"
    );
    let missing = paybridge(&[&["dlq", "show", "no-such-id"], &dir[..]].concat(), &[]);
    assert_eq!(missing.status.code(), Some(3));

    // Redriven, the event runs again (and, still unmappable, comes back with its reason).
    let redrive = paybridge(&[&["dlq", "redrive", &id], &dir[..]].concat(), &[]);
    assert!(
        redrive.status.success(),
        "{}",
        String::from_utf8_lossy(&redrive.stderr)
    );
    wait_for("the second dead letter", || {
        json_lines(&list(&["--json"]))
            .iter()
            .any(|e| e["id"] != id.as_str())
    })
    .await;
    let again = json_lines(&list(&["--json"]));
    assert_eq!(again.len(), 1);

    let second = again[0]["id"].as_str().unwrap().to_string();
    let refused = paybridge(&[&["dlq", "purge", &second], &dir[..]].concat(), &[]);
    assert!(!refused.status.success(), "purging asks for confirmation");
    let purged = paybridge(
        &[&["dlq", "purge", &second, "--yes"], &dir[..]].concat(),
        &[],
    );
    assert!(purged.status.success());
    assert!(json_lines(&list(&["--json"])).is_empty());
    drop(serve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_redrives_and_purges_dead_letters_on_sqs() {
    let client = aws_sdk_sqs::Client::new(&moto::sdk_config().await);
    let (stripe_queue, stripe_dlq) =
        sqs::create_queue_with_dlq(&client, "cli-stripe", 25, 30).await;
    let (kentico_queue, kentico_dlq) =
        sqs::create_queue_with_dlq(&client, "cli-kentico", 25, 30).await;
    for id in ["evt_a", "evt_b"] {
        sqs::send(
            &client,
            &stripe_dlq,
            &format!(r#"{{"event_id":"{id}"}}"#),
            &[
                ("source", "stripe"),
                ("event_id", id),
                ("event_type", "payment_intent.succeeded"),
                ("failure_kind", "kentico_rejected"),
                ("failure_reason", "Kentico answered 400"),
            ],
        )
        .await;
    }
    let names = moto::AwsNames {
        stripe: (&stripe_queue, &stripe_dlq),
        kentico: (&kentico_queue, &kentico_dlq),
        table: "unused-here",
        ledger_table: "unused-here",
    }
    .env();
    let env: Vec<(&str, &str)> = names.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let listed = json_lines(&paybridge(
        &["dlq", "list", "--backend", "aws", "--json"],
        &env,
    ));
    assert_eq!(listed.len(), 2);
    let id_of = |event: &str| {
        listed
            .iter()
            .find(|e| e["attributes"]["event_id"] == event)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let redrive = paybridge(
        &["dlq", "redrive", "--backend", "aws", &id_of("evt_a")],
        &env,
    );
    assert!(
        redrive.status.success(),
        "{}",
        String::from_utf8_lossy(&redrive.stderr)
    );
    let purge = paybridge(
        &["dlq", "purge", "--backend", "aws", "--yes", &id_of("evt_b")],
        &env,
    );
    assert!(
        purge.status.success(),
        "{}",
        String::from_utf8_lossy(&purge.stderr)
    );

    let back = sqs::receive_all(&client, &stripe_queue).await;
    assert_eq!(back.len(), 1);
    assert_eq!(
        back[0].attributes.get("event_id").map(String::as_str),
        Some("evt_a")
    );
    assert!(
        !back[0].attributes.contains_key("failure_kind"),
        "failure attributes are dropped on redrive"
    );
    assert!(
        json_lines(&paybridge(
            &["dlq", "list", "--backend", "aws", "--json"],
            &env
        ))
        .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_working_setup_and_names_what_to_fix_in_a_broken_one() {
    let setup = Setup::new().await;
    // The statuses of a shop set up for paybridge: the payment ones and the after-payment ones.
    setup.kentico.set_statuses(vec![
        (3, "Pending Payment"),
        (4, "Payment pending"),
        (5, "Payment authorized"),
        (6, "Paid"),
        (7, "Payment Failed"),
        (8, "Canceled"),
        (10, "Partially refunded"),
        (11, "Refunded"),
        (12, "Disputed"),
        (13, "Chargeback"),
    ]);
    setup.stripe.add_webhook_endpoint(json!({
        "url": "https://paybridge.example/webhooks/stripe",
        "enabled_events": paybridge::flows::stripe_event_types(),
    }));
    let data_dir = setup.data_dir.to_string_lossy().to_string();
    let good = [
        ("STRIPE_WEBHOOK_SECRETS", "whsec_doctor"),
        ("KENTICO_WEBHOOK_SECRETS", KENTICO_WEBHOOK_SECRET),
        ("STRIPE_API_BASE", setup.stripe.base_url.as_str()),
        ("STRIPE_SECRET_KEY", "sk_test_paybridge_serve"),
        ("KENTICO_BASE_URL", setup.kentico.base_url.as_str()),
        ("KENTICO_USERNAME", "paybridge"),
        ("KENTICO_PASSWORD", "kentico-pass"),
    ];
    let doctor = |env: &[(&str, &str)]| {
        paybridge(
            &[
                "doctor",
                "--backend",
                "embedded",
                "--data-dir",
                &data_dir,
                "--json",
            ],
            env,
        )
    };

    let healthy = doctor(&good);
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stdout)
    );
    let checks = json_lines(&healthy);
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");
    assert!(checks.iter().any(|c| c["check"] == "kentico statuses"));
    let mode = checks.iter().find(|c| c["check"] == "stripe mode").unwrap();
    assert!(
        mode["detail"].as_str().unwrap().starts_with("test mode"),
        "{mode}"
    );
    // A live key where the deployment is pinned to test mode stops at the configuration.
    let mut live = good.to_vec();
    live.push(("STRIPE_MODE", "test"));
    live[3] = ("STRIPE_SECRET_KEY", "sk_live_paybridge");
    let wrong_mode = json_lines(&doctor(&live));
    let configuration = (wrong_mode.iter())
        .find(|c| c["check"] == "configuration")
        .unwrap();
    assert_eq!(configuration["ok"], false);
    assert!(
        configuration["detail"]
            .as_str()
            .unwrap()
            .contains("STRIPE_MODE=test but STRIPE_SECRET_KEY is a live-mode key"),
        "{configuration}"
    );

    let mut broken = good.to_vec();
    broken[3] = ("STRIPE_SECRET_KEY", "sk_test_revoked");
    broken[6] = ("KENTICO_PASSWORD", "wrong");
    let sick = doctor(&broken);
    assert_eq!(sick.status.code(), Some(1));
    let failed: Vec<String> = json_lines(&sick)
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        failed,
        [
            "stripe api",
            "stripe endpoints",
            "kentico rest",
            "kentico statuses"
        ]
    );
    let text = String::from_utf8_lossy(&sick.stdout);
    assert!(
        !text.contains("sk_test_revoked") && !text.contains("\"wrong\""),
        "secrets leaked: {text}"
    );
}

/// On Xperience by Kentico, `doctor` asks the package's health route, signed with the Kentico
/// webhook secret: the URL, the secret and every mapped status name are checked there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_the_xbyk_package_and_its_status_names() {
    let setup = Setup::new().await;
    let package = integration_tests::fakes::xbyk::FakeXbyk::start(&[KENTICO_WEBHOOK_SECRET]).await;
    setup.stripe.add_webhook_endpoint(json!({
        "url": "https://paybridge.example/webhooks/stripe",
        "enabled_events": paybridge::flows::stripe_event_types(),
    }));
    let data_dir = setup.data_dir.to_string_lossy().to_string();
    let good = [
        ("STRIPE_WEBHOOK_SECRETS", "whsec_doctor"),
        ("KENTICO_WEBHOOK_SECRETS", KENTICO_WEBHOOK_SECRET),
        ("STRIPE_API_BASE", setup.stripe.base_url.as_str()),
        ("STRIPE_SECRET_KEY", "sk_test_paybridge_serve"),
        ("KENTICO_PLATFORM", "xbyk"),
        ("KENTICO_BASE_URL", package.base_url.as_str()),
        ("KENTICO_CURRENCY", "EUR"),
    ];
    let doctor = |env: &[(&str, &str)]| {
        let args = [
            "doctor",
            "--backend",
            "embedded",
            "--data-dir",
            &data_dir,
            "--json",
        ];
        json_lines(&paybridge(&args, env))
    };
    let verdict = |checks: &[Value], name: &str| {
        let check = (checks.iter().find(|c| c["check"] == name))
            .unwrap_or_else(|| panic!("no {name} check: {checks:?}"));
        (
            check["ok"] == true,
            check["detail"].as_str().unwrap_or_default().to_string(),
        )
    };

    let healthy = doctor(&good);
    assert!(healthy.iter().all(|c| c["ok"] == true), "{healthy:?}");
    assert!(
        verdict(&healthy, "kentico package")
            .1
            .contains("accepts paybridge's signature")
    );
    assert!(
        package
            .requests()
            .iter()
            .all(|r| r.path == "/paybridge/health")
    );
    assert_eq!(package.refused(), 0);

    // A status the map names is missing in the shop.
    package.set_statuses(vec![(1, "New", "New"), (5, "Paid", "Paid")]);
    let (ok, detail) = verdict(&doctor(&good), "kentico statuses");
    assert!(!ok && detail.contains("Payment Failed"), "{detail}");

    // The package holds another secret.
    package.set_secrets(&["the_package_has_another_secret"]);
    let (ok, detail) = verdict(&doctor(&good), "kentico package");
    assert!(!ok, "{detail}");
    assert!(detail.contains("refused paybridge's signature"), "{detail}");
    assert!(
        !detail.contains(KENTICO_WEBHOOK_SECRET),
        "secret leaked: {detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_shows_an_orders_history_and_replay_repairs_without_duplicating() {
    let setup = Setup::new().await;
    let serve = setup.serve().await;
    let client = reqwest::Client::new();
    let order = kentico_order(11);
    setup.kentico.add_order(order.clone());
    deliver(
        &client,
        &serve.url,
        "/webhooks/kentico",
        "x-kentico-signature",
        KENTICO_WEBHOOK_SECRET,
        &order_event(&order),
    )
    .await;
    wait_for("the PaymentIntent", || {
        setup.stripe.payment_intents().len() == 1
    })
    .await;
    let id = setup.stripe.payment_intents()[0]["id"].clone();
    let intent = setup.stripe.succeed_payment_intent(id.as_str().unwrap());
    let paid = FakeStripe::event_body("evt_trace_paid", "payment_intent.succeeded", &intent);
    deliver(
        &client,
        &serve.url,
        "/webhooks/stripe",
        "stripe-signature",
        "whsec_paybridge_serve",
        &paid,
    )
    .await;
    wait_for("Paid", || {
        setup
            .kentico
            .order(11)
            .is_some_and(|o| o["OrderStatusID"] == 6)
    })
    .await;
    let data_dir = setup.data_dir.to_string_lossy().to_string();
    let dir = ["--backend", "embedded", "--data-dir", data_dir.as_str()];

    let trace = paybridge(
        &[&["trace", "--order-id", "11", "--json"], &dir[..]].concat(),
        &[],
    );
    assert!(
        trace.status.success(),
        "{}",
        String::from_utf8_lossy(&trace.stderr)
    );
    let traced: Value = serde_json::from_slice(&trace.stdout).unwrap();
    assert_eq!(traced["link"]["payment_intent"], intent["id"]);
    assert_eq!(traced["link"]["status"], "Paid");
    let events: Vec<(String, String)> = traced["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_type"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("ecommerce.order.created".to_string(), "done".to_string()),
            ("payment_intent.succeeded".to_string(), "done".to_string())
        ]
    );
    let text = paybridge(&[&["trace", "--order-id", "11"], &dir[..]].concat(), &[]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("status Paid (rank 60)"));
    assert_eq!(
        paybridge(&[&["trace", "--order-id", "999"], &dir[..]].concat(), &[])
            .status
            .code(),
        Some(3)
    );

    // Someone reset the order in Kentico: replaying its events writes the paid status again (the
    // order event leaves a paid order alone) and charges nothing new.
    let mut reset = setup.kentico.order(11).unwrap();
    reset["OrderStatusID"] = json!(1);
    reset["OrderIsPaid"] = json!(false);
    setup.kentico.add_order(reset);
    let writes_before = setup
        .kentico
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    let replay = paybridge(&[&["replay", "--order-id", "11"], &dir[..]].concat(), &[]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    wait_for("the replayed write-backs", || {
        setup
            .kentico
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count()
            > writes_before
    })
    .await;
    assert_eq!(
        setup.stripe.payment_intents().len(),
        1,
        "a replay never creates a second PaymentIntent"
    );
    assert_eq!(
        paybridge(
            &[&["replay", "--event-id", "evt_nowhere"], &dir[..]].concat(),
            &[]
        )
        .status
        .code(),
        Some(3)
    );
    drop(serve);
}

/// `doctor --backend aws` on moto: alarms that notify nobody, or a topic nobody confirmed, fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_aws_says_whether_the_alarms_reach_a_person() {
    use aws_sdk_cloudwatch::types::ComparisonOperator;
    let sdk = moto::sdk_config().await;
    let sqs_client = aws_sdk_sqs::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let (stripe_queue, stripe_dlq) =
        sqs::create_queue_with_dlq(&sqs_client, "doctor-stripe", 25, 30).await;
    let (kentico_queue, kentico_dlq) =
        sqs::create_queue_with_dlq(&sqs_client, "doctor-kentico", 25, 30).await;
    let table = integration_tests::dynamodb::create_idempotency_table(&dynamodb).await;
    let ledger = integration_tests::dynamodb::create_ledger_table(&dynamodb).await;
    let prefix = format!("{}-", integration_tests::unique_name("pbdoctor"));
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name(integration_tests::unique_name("alarms"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let alarm = |name: &str, notify: bool| {
        let mut request = cloudwatch
            .put_metric_alarm()
            .alarm_name(format!("{prefix}{name}"))
            .namespace("AWS/SQS")
            .metric_name("ApproximateNumberOfMessagesVisible")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Maximum)
            .period(60)
            .evaluation_periods(1)
            .threshold(0.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold);
        if notify {
            request = request.alarm_actions(&topic);
        }
        request.send()
    };
    alarm("stripe-events-dlq", true).await.unwrap();
    alarm("kentico-events-dlq", false).await.unwrap();
    let names = moto::AwsNames {
        stripe: (&stripe_queue, &stripe_dlq),
        kentico: (&kentico_queue, &kentico_dlq),
        table: &table,
        ledger_table: &ledger,
    }
    .env();
    let env: Vec<(&str, &str)> = names.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let alarms_check = || {
        let output = paybridge(
            &[
                "doctor",
                "--backend",
                "aws",
                "--alarm-prefix",
                &prefix,
                "--json",
            ],
            &env,
        );
        let checks = json_lines(&output);
        checks
            .into_iter()
            .find(|c| c["check"] == "alarms")
            .unwrap_or_else(|| {
                panic!(
                    "no alarms check: {}",
                    String::from_utf8_lossy(&output.stdout)
                )
            })
    };

    let silent = alarms_check();
    assert_eq!(silent["ok"], false, "{silent}");
    let detail = silent["detail"].as_str().unwrap();
    assert!(detail.contains("no confirmed subscriber"), "{detail}");
    assert!(
        detail.contains(&format!(
            "1 alarm(s) notify nobody: {prefix}kentico-events-dlq"
        )),
        "{detail}"
    );

    // Someone subscribes (an SQS queue: moto confirms it at once) and the silent alarm is fixed.
    let inbox = sqs::create_queue(&sqs_client, "alarm-inbox").await;
    let inbox_arn = format!(
        "arn:aws:sqs:us-east-1:123456789012:{}",
        inbox.rsplit('/').next().unwrap()
    );
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(inbox_arn)
        .send()
        .await
        .unwrap();
    alarm("kentico-events-dlq", true).await.unwrap();

    let heard = alarms_check();
    assert_eq!(heard["ok"], true, "{heard}");
    assert_eq!(
        heard["detail"],
        format!("2 alarm(s) notify {topic} (1 confirmed subscriber(s))")
    );
}

/// `paybridge mapping` on the embedded store: a document with problems is refused with each
/// one's path; a good one is published, shown, superseded, rolled back to, and the history
/// and audit trail say who did what; a stale `--expect` writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_documents_are_validated_published_and_rolled_back() {
    let dir = std::env::temp_dir().join(format!("paybridge-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data_dir = dir.join("store").to_string_lossy().to_string();
    let file = |name: &str, document: Value| {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&document).unwrap()).unwrap();
        path.to_string_lossy().to_string()
    };
    let run = |args: &[&str]| {
        let mut all = vec!["mapping"];
        all.extend_from_slice(args);
        if args[0] != "validate" {
            all.extend_from_slice(&["--backend", "embedded", "--data-dir", &data_dir]);
        }
        paybridge(&all, &[])
    };
    let text = |output: &Output| String::from_utf8_lossy(&output.stdout).to_string();
    let errors = |output: &Output| String::from_utf8_lossy(&output.stderr).to_string();

    let bad = file(
        "bad.json",
        json!({"schema": 1,
        "payment_intent": {"metadata": [{"key": "kentico_order_id", "from": ["OrderID"]}]},
        "aliases": {"countries": {"Neverland": "XX"}}}),
    );
    let refused = run(&["validate", &bad]);
    assert_eq!(refused.status.code(), Some(2), "{}", errors(&refused));
    assert!(
        errors(&refused)
            .contains("payment_intent.metadata[0].key: 'kentico_order_id' is paybridge's own key"),
        "{}",
        errors(&refused)
    );
    assert!(
        errors(&refused).contains("aliases.countries.Neverland"),
        "{}",
        errors(&refused)
    );
    assert_eq!(
        run(&["publish", &bad, "--author", "ada", "--comment", "x"])
            .status
            .code(),
        Some(2)
    );

    // Nothing published yet: version 0, the environment's.
    let env_version: Value = serde_json::from_str(&text(&run(&["show"]))).unwrap();
    assert_eq!(env_version["statuses"]["succeeded"], "Paid");

    let first = file(
        "first.json",
        json!({"schema": 1, "statuses": {"succeeded": "Completed"},
        "payment_intent": {"metadata": [{"key": "order_number", "from": ["OrderNumber"]}]}}),
    );
    let published = run(&[
        "publish",
        &first,
        "--author",
        "ada",
        "--comment",
        "order numbers to Stripe",
    ]);
    assert!(published.status.success(), "{}", errors(&published));
    assert!(text(&published).contains("published version 1"));
    let second = file(
        "second.json",
        json!({"schema": 1, "statuses": {"succeeded": "Paid in full"}}),
    );
    assert!(
        run(&["publish", &second, "--author", "bob", "--comment", "rename"])
            .status
            .success()
    );
    let active: Value = serde_json::from_str(&text(&run(&["show"]))).unwrap();
    assert_eq!(active["statuses"]["succeeded"], "Paid in full");

    // Someone saw version 1 as active: refused, nothing written.
    let stale = run(&[
        "publish",
        &first,
        "--author",
        "eve",
        "--comment",
        "late",
        "--expect",
        "1",
    ]);
    assert_eq!(stale.status.code(), Some(4), "{}", errors(&stale));

    let back = run(&[
        "rollback",
        "1",
        "--author",
        "ada",
        "--comment",
        "the rename broke Kentico",
    ]);
    assert!(back.status.success(), "{}", errors(&back));
    let active: Value = serde_json::from_str(&text(&run(&["show"]))).unwrap();
    assert_eq!(active["statuses"]["succeeded"], "Completed");
    assert_eq!(
        run(&["rollback", "9", "--author", "ada", "--comment", "x"])
            .status
            .code(),
        Some(3)
    );

    let history: Value = serde_json::from_str(&text(&run(&["history", "--json"]))).unwrap();
    assert_eq!(history["active"], 1);
    assert_eq!(history["versions"].as_array().unwrap().len(), 2);
    let audit: Vec<(String, u64, u64)> = (history["audit"].as_array().unwrap().iter())
        .map(|a| {
            (
                a["author"].as_str().unwrap().to_string(),
                a["previous"].as_u64().unwrap(),
                a["version"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        audit,
        [
            ("ada".to_string(), 2, 1),
            ("bob".to_string(), 1, 2),
            ("ada".to_string(), 0, 1)
        ],
        "newest first"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `paybridge mapping preview` prints the request an order event makes under a document or the
/// active version; `publish` replays the document on sample events first and refuses one that
/// breaks an order the active version maps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_documents_are_previewed_and_replayed_on_samples_before_publishing() {
    let dir = std::env::temp_dir().join(format!("paybridge-preview-{}", std::process::id()));
    let samples = dir.join("samples");
    std::fs::create_dir_all(&samples).unwrap();
    let data_dir = dir.join("store").to_string_lossy().to_string();
    let write = |path: std::path::PathBuf, value: Value| {
        std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
        path.to_string_lossy().to_string()
    };
    let order_event = |currency: &str| {
        json!({"id": "evt-1", "type": "ecommerce.order.created", "created": 1764417600,
            "data": {"object": {"OrderID": 1042, "OrderGUID": "6f1c2a1e-5d1b-4a53-9a0e-2f7c1d9b8e41",
                "OrderCurrencyCode": currency, "OrderGrandTotal": "129.90",
                "OrderItems": [{"OrderItemSKUName": "Espresso Grinder", "OrderItemUnitCount": 2}]}}})
    };
    let usd = write(samples.join("usd.json"), order_event("USD"));
    // An API Gateway request, as in events/: the preview reads the event inside.
    let spelled = write(
        samples.join("spelled.json"),
        json!({"body": order_event("US Dollar").to_string(), "isBase64Encoded": false}),
    );
    let with_alias = write(
        dir.join("alias.json"),
        json!({"schema": 1, "aliases": {"currencies": {"US Dollar": "USD"}},
            "payment_intent": {"metadata": [{"key": "grinder", "from": ["OrderItems[0].OrderItemSKUName"], "transform": [{"op": "upper"}]}]}}),
    );
    let without = write(dir.join("without.json"), json!({"schema": 1}));
    let samples = samples.to_string_lossy().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["mapping"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--backend", "embedded", "--data-dir", &data_dir]);
        paybridge(&all, &[])
    };
    let text = |output: &Output| String::from_utf8_lossy(&output.stdout).to_string();
    let errors = |output: &Output| String::from_utf8_lossy(&output.stderr).to_string();

    let refused = run(&["preview", "--event", &spelled]);
    assert_eq!(refused.status.code(), Some(2), "{}", errors(&refused));
    assert!(
        text(&refused).contains("no request: mapping_mismatch: OrderCurrencyCode"),
        "{}",
        text(&refused)
    );
    let previewed = run(&["preview", "--event", &spelled, "--document", &with_alias]);
    assert!(previewed.status.success(), "{}", errors(&previewed));
    let printed = text(&previewed);
    for line in [
        "POST /v1/payment_intents (under the document)",
        "currency = usd",
        "amount = 12990",
        "metadata[grinder] = ESPRESSO GRINDER",
        "alias: OrderCurrencyCode 'US Dollar' → USD",
        "body: amount=12990&currency=usd",
    ] {
        assert!(printed.contains(line), "{line}\n{printed}");
    }

    let published = run(&[
        "publish",
        &with_alias,
        "--author",
        "ada",
        "--comment",
        "aliases",
        "--samples",
        &samples,
    ]);
    assert!(published.status.success(), "{}", errors(&published));
    assert!(
        text(&published).contains("replayed on 2 sample order event(s): 2 map, none breaks"),
        "{}",
        text(&published)
    );
    let active = run(&["preview", "--event", &usd, "--json"]);
    let previews: Value = serde_json::from_str(&text(&active)).unwrap();
    assert_eq!(previews[0]["Ok"]["version"], 1, "{previews}");

    let broken = run(&[
        "publish",
        &without,
        "--author",
        "bob",
        "--comment",
        "cleanup",
        "--samples",
        &samples,
    ]);
    assert_eq!(broken.status.code(), Some(2), "{}", errors(&broken));
    assert!(
        errors(&broken).contains("orders the active version 1 maps would no longer map")
            && errors(&broken).contains("spelled.json: mapping_mismatch: OrderCurrencyCode"),
        "{}",
        errors(&broken)
    );
    let history = run(&["history", "--json"]);
    let history: Value = serde_json::from_str(&text(&history)).unwrap();
    assert_eq!(history["active"], 1, "nothing was published");
}
