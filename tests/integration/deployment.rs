//! What a deployment needs: the template's alarms reach a person (every alarm notifies the alarm
//! topic, the stack's own or `AlarmTopicArn`; every queue has a dead-letter and a stalled-queue
//! alarm; each webhook source an alarm on refused signatures), and the README's Stripe endpoint
//! subscribes exactly the events the workers route.

fn template() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join("template.yaml")).expect("template.yaml")
}

/// Each resource's name and its text, in template order.
fn resources(template: &str) -> Vec<(String, String)> {
    let body = template
        .split("\nResources:\n")
        .nth(1)
        .and_then(|rest| rest.split("\nOutputs:\n").next())
        .expect("a Resources section");
    let mut found: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        let is_name = line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(':');
        if is_name && !line.trim_start().starts_with('#') {
            found.push((line.trim().trim_end_matches(':').to_string(), String::new()));
        } else if let Some((_, text)) = found.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    found
}

#[test]
fn every_alarm_notifies_the_alarm_topic_and_a_person_can_subscribe() {
    let template = template();
    let resources = resources(&template);
    let alarms: Vec<&(String, String)> = (resources.iter())
        .filter(|(_, text)| text.contains("Type: AWS::CloudWatch::Alarm"))
        .collect();
    assert!(alarms.len() >= 20, "{} alarms", alarms.len());
    for (name, text) in &alarms {
        assert!(
            text.contains(
                "AlarmActions: [!If [HasAlarmTopic, !Ref AlarmTopicArn, !Ref AlarmTopic]]"
            ),
            "{name} notifies nobody"
        );
    }
    let topic = resources
        .iter()
        .find(|(name, _)| name == "AlarmTopic")
        .expect("a topic");
    assert!(topic.1.contains("Condition: CreateAlarmTopic"));
    let email = (resources.iter())
        .find(|(name, _)| name == "AlarmEmailSubscription")
        .expect("an e-mail subscription");
    assert!(email.1.contains("Protocol: email") && email.1.contains("!Ref AlarmEmail"));
}

#[test]
fn every_queue_has_a_dead_letter_and_a_stalled_alarm_and_every_source_a_signature_alarm() {
    let template = template();
    let resources = resources(&template);
    let watches = |metric: &str, target: &str| {
        resources.iter().any(|(_, text)| {
            text.contains("Type: AWS::CloudWatch::Alarm")
                && text.contains(&format!("MetricName: {metric}"))
                && text.contains(target)
        })
    };
    for queue in ["StripeEvents", "KenticoEvents"] {
        assert!(
            watches(
                "ApproximateNumberOfMessagesVisible",
                &format!("!GetAtt {queue}Dlq.QueueName")
            ),
            "{queue}Dlq"
        );
        assert!(
            watches(
                "ApproximateAgeOfOldestMessage",
                &format!("!GetAtt {queue}Queue.QueueName")
            ),
            "{queue}Queue"
        );
    }
    for source in ["stripe", "kentico"] {
        for outcome in ["signature_mismatch", "signature_stale"] {
            let dimensions =
                format!("{{Name: Source, Value: {source}}}, {{Name: Outcome, Value: {outcome}}}");
            assert!(
                watches("WebhookRequests", &dimensions),
                "{source} {outcome}"
            );
        }
    }
    for worker in ["OrderWorkerFunction", "PaymentWorkerFunction"] {
        assert!(watches("Throttles", &format!("!Ref {worker}")), "{worker}");
        assert!(watches("Errors", &format!("!Ref {worker}")), "{worker}");
    }
}

/// The README's `stripe webhook_endpoints create` subscribes exactly the Stripe events the
/// payment worker routes: none missing (lost), none extra (a delivery for nothing).
#[test]
fn the_stripe_endpoint_in_the_readme_subscribes_exactly_the_routed_events() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = readme
        .split("stripe webhook_endpoints create")
        .nth(1)
        .and_then(|rest| rest.split("do printf").next())
        .expect("the README registers the endpoint with the Stripe CLI");
    let listed: std::collections::BTreeSet<&str> = (command.split_whitespace())
        .map(|w| w.trim_end_matches(';').trim_end_matches('\\'))
        .filter(|w| w.contains('.') && !w.contains('=') && !w.starts_with('"'))
        .collect();
    let routed: std::collections::BTreeSet<&str> =
        paybridge::flows::stripe_event_types().into_iter().collect();
    assert_eq!(listed, routed);
}

/// Every metric name the code emits (CloudWatch names; `serve` renders them snake-cased).
fn emitted_metrics() -> Vec<&'static str> {
    use paybridge::flows::money_metrics as money;
    vec![
        paybridge::ingress::METRIC_WEBHOOK_REQUESTS,
        paybridge::worker::METRIC_WORKER_MESSAGES,
        paybridge::metrics::METRIC_CONNECTOR_CALL_SECONDS,
        paybridge::flows::ledger_events::METRIC_LEDGER_ENTRIES,
        paybridge::reconcile::sweep::METRIC_DISCREPANCIES,
        paybridge::reconcile::sweep::METRIC_HEALING_EVENTS,
        money::FOREIGN_PAYMENTS,
        money::UNDERPAID_PAYMENTS,
        money::DOUBLE_PAYMENTS,
        money::PAID_AFTER_CANCEL,
        money::STALE_ORDER_UPDATES,
        money::SUPERSEDED_PAYMENT_EVENTS,
        money::DISPUTES,
        money::UNLINKED_CUSTOMER_EVENTS,
        money::CUSTOMER_ECHOES,
    ]
}

/// `WebhookRequests` → `webhook_requests`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn the_dashboards_show_only_metrics_the_code_emits() {
    let emitted = emitted_metrics();
    let template = template();
    let dashboard = template
        .split("  Dashboard:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a CloudWatch dashboard in the template");
    let mut named = 0;
    for part in dashboard.split("MetricName=\\\"").skip(1) {
        let name = part.split('\\').next().unwrap();
        assert!(
            emitted.contains(&name),
            "the dashboard shows {name}, which nothing emits"
        );
        named += 1;
    }
    for part in dashboard.split("\"Paybridge\",\n").skip(1) {
        let name = part
            .trim_start()
            .trim_start_matches('"')
            .split('"')
            .next()
            .unwrap();
        assert!(
            emitted.contains(&name),
            "the dashboard shows {name}, which nothing emits"
        );
        named += 1;
    }
    assert!(named >= 10, "{named} metrics found in the dashboard");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let grafana = std::fs::read_to_string(root.join("infra/grafana/paybridge.json")).unwrap();
    let _: serde_json::Value =
        serde_json::from_str(&grafana).expect("the Grafana dashboard is JSON");
    let known: Vec<String> = (emitted.iter().map(|m| format!("paybridge_{}", snake(m))))
        .chain(["paybridge_queue_messages".to_string()])
        .collect();
    let mut shown = 0;
    for part in grafana.split("paybridge_").skip(1) {
        let metric: String = part
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let base = ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .fold(metric.clone(), |m, suffix| {
                m.strip_suffix(suffix).map(str::to_string).unwrap_or(m)
            });
        if base == "serve" {
            continue; // the dashboard's uid
        }
        assert!(
            known.contains(&format!("paybridge_{base}")),
            "Grafana shows paybridge_{metric}, which serve does not export"
        );
        shown += 1;
    }
    assert!(
        shown >= 10,
        "{shown} metrics found in the Grafana dashboard"
    );
}

/// One mode for the whole deployment: the Stripe webhook and every function holding the
/// Stripe key read the same `StripeMode` parameter.
#[test]
fn the_stripe_webhook_and_every_function_with_the_stripe_key_share_one_mode() {
    let template = template();
    // No default: a wrong mode would acknowledge and drop the other mode's events.
    assert!(
        template.contains("  StripeMode:\n    Type: String\n    AllowedValues: [test, live]\n"),
        "StripeMode is chosen at each deployment"
    );
    let samconfig = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samconfig.toml"),
    )
    .unwrap();
    assert!(
        samconfig.contains("Stage=dev StripeMode=test") && samconfig.contains("StripeMode=live")
    );
    let functions: Vec<(String, String)> = resources(&template)
        .into_iter()
        .filter(|(_, text)| text.contains("AWS::Serverless::Function"))
        .collect();
    let mut moded = Vec::new();
    for (name, text) in &functions {
        let needs = text.contains("STRIPE_SECRET_KEY_SECRET_ARN")
            || text.contains("STRIPE_WEBHOOK_SECRET_ARN");
        assert_eq!(
            needs,
            text.contains("STRIPE_MODE: !Ref StripeMode"),
            "{name}"
        );
        if needs {
            moded.push(name.as_str());
        }
    }
    assert_eq!(
        moded,
        [
            "StripeWebhookFunction",
            "OrderWorkerFunction",
            "PaymentWorkerFunction",
            "ReconcilerFunction"
        ]
    );
}

/// The workers' time budget (paybridge::worker::budget) is derived from their Lambda timeout:
/// the template must give them that timeout, and the queues 6 × it as visibility timeout.
#[test]
fn the_workers_timeout_and_the_queues_visibility_are_the_time_budgets() {
    use paybridge::worker::budget::{VISIBILITY_TIMEOUT, WORKER_TIMEOUT};

    let template = template();
    let resources = resources(&template);
    let text_of = |name: &str| {
        resources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_else(|| panic!("{name} in template.yaml"))
    };
    for worker in ["OrderWorkerFunction", "PaymentWorkerFunction"] {
        assert!(
            text_of(worker).contains(&format!("      Timeout: {} #", WORKER_TIMEOUT.as_secs())),
            "{worker}'s Timeout is the budget's WORKER_TIMEOUT"
        );
    }
    for queue in ["StripeEventsQueue", "KenticoEventsQueue"] {
        assert!(
            text_of(queue).contains(&format!(
                "      VisibilityTimeout: {} #",
                VISIBILITY_TIMEOUT.as_secs()
            )),
            "{queue}'s VisibilityTimeout is 6 x the workers' timeout"
        );
    }
}
