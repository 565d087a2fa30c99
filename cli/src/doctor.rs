//! `paybridge doctor`: checks configuration and reachability, and says what to fix.

use std::path::Path;

use clap::Args;
use paybridge::config::worker::serve_settings;
use paybridge::flows::PaymentState;
use paybridge::flows::bootstrap::clients;

use crate::dlq::BackendArgs;
use crate::serve::{Backend, BackendKind};

/// Arguments of `doctor`.
#[derive(Args, Debug)]
pub struct DoctorArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// Runs every check; fails (exit 1) when any check failed.
pub fn run(args: DoctorArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let checks = runtime.block_on(checks(&args.backend.kind(), &args.backend.data_dir));
    for check in &checks {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"check": check.name, "ok": check.ok, "detail": check.detail})
            );
        } else {
            println!(
                "{} {:<18} {}",
                if check.ok { "ok  " } else { "FAIL" },
                check.name,
                check.detail
            );
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} check(s) failed"))
    }
}

async fn checks(kind: &BackendKind, data_dir: &Path) -> Vec<Check> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut checks = Vec::new();
    let mut check = |name, result: Result<String, String>| {
        let (ok, detail) = match result {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        checks.push(Check { name, ok, detail });
    };

    for source in ["STRIPE", "KENTICO"] {
        let variable = format!("{source}_WEBHOOK_SECRETS");
        check(
            if source == "STRIPE" {
                "stripe webhooks"
            } else {
                "kentico webhooks"
            },
            env(&variable)
                .or_else(|| env(&format!("{source}_WEBHOOK_SECRET_ARN")))
                .map(|_| "signing secret configured".to_string())
                .ok_or_else(|| {
                    format!("set {variable}: without it these webhooks are refused (503 in serve)")
                }),
        );
    }
    let settings = serve_settings(&env);
    let connectors = match &settings {
        Ok((_, connectors)) => {
            check("configuration", Ok("every setting parses".into()));
            Some(connectors.clone())
        }
        Err(error) => {
            check("configuration", Err(error.problems.join("; ")));
            None
        }
    };
    match Backend::open(*kind, data_dir, 25, &env).await {
        Ok(backend) => {
            let depths = backend.depths().await;
            let expected = 4;
            check(
                "queues",
                if depths.len() == expected {
                    Ok(depths
                        .iter()
                        .map(|(q, v, f)| format!("{q}: {v} visible, {f} in flight"))
                        .collect::<Vec<_>>()
                        .join("; "))
                } else {
                    Err(format!(
                        "only {} of {expected} queues answered ({})",
                        depths.len(),
                        backend.name()
                    ))
                },
            );
            if let Backend::Aws { sdk, table, .. } = &backend {
                let described = aws_sdk_dynamodb::Client::new(sdk)
                    .describe_table()
                    .table_name(table)
                    .send()
                    .await;
                check(
                    "state table",
                    described.map(|_| format!("{table} exists")).map_err(|e| {
                        format!(
                            "{table}: {} — check IDEMPOTENCY_TABLE_NAME and the credentials",
                            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                        )
                    }),
                );
            }
        }
        Err(error) => check("queues", Err(error)),
    }

    let Some(connectors) = connectors else {
        return checks;
    };
    if !connectors.missing().is_empty() {
        check(
            "connectors",
            Err(format!(
                "not configured: {}",
                connectors.missing().join("; ")
            )),
        );
        return checks;
    }
    // Secrets Manager only when a secret is given by ARN, as in serve.
    let reader = crate::serve::workers::secrets_reader(&connectors).await;
    let latency = paybridge::metrics::CallLatency::default();
    match clients(&connectors, reader.as_ref(), latency).await {
        Err(error) => check("connectors", Err(error.to_string())),
        Ok(clients) => {
            check(
                "stripe api",
                clients.stripe.retrieve_balance().await.map(|_| "the key is valid (read the balance)".into()).map_err(|e| {
                    format!("{e} — check STRIPE_SECRET_KEY (a restricted key needs Balance: read, PaymentIntents and Checkout Sessions: write)")
                }),
            );
            check(
                "kentico rest",
                clients
                    .kentico
                    .check_access()
                    .await
                    .map(|_| "reachable and authorized".into())
                    .map_err(|e| e.to_string()),
            );
            let mut unknown = Vec::new();
            for state in PaymentState::ALL {
                let name = connectors.flow.status_mapping.name(state);
                if let Err(error) = clients.statuses.id_for(name).await {
                    unknown.push(format!("{name}: {error}"));
                }
            }
            check(
                "kentico statuses",
                if unknown.is_empty() {
                    Ok("every mapped status exists".into())
                } else {
                    Err(unknown.join("; "))
                },
            );
        }
    }
    checks
}
