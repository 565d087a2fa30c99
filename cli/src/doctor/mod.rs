//! `paybridge doctor`: checks configuration and reachability, and says what to fix.

mod alarms;

use std::sync::Arc;

use clap::Args;
use paybridge::config::aws::VAR_TABLE;
use paybridge::config::ingress::{IngressVariables, webhooks_configured};
use paybridge::config::mode::VAR_STRIPE_MODE;
use paybridge::flows::PaymentState;
use paybridge::mapping::KenticoPlatform;
use paybridge::mapping::payment_status::AfterPayment;
use paybridge::metrics::InMemoryMetrics;
use paybridge::webhook::Source;

use crate::backend::{BackendArgs, env};

/// Arguments of `doctor`.
#[derive(Args, Debug)]
pub struct DoctorArgs {
    #[command(flatten)]
    backend: BackendArgs,
    /// JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// With --backend aws: the names of the deployment's alarms start with this (default:
    /// from IDEMPOTENCY_TABLE_NAME, `paybridge-<stage>-state` → `paybridge-<stage>-`).
    #[arg(long)]
    alarm_prefix: Option<String>,
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
    let checks = runtime.block_on(checks(&args.backend, args.alarm_prefix.as_deref()));
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

async fn checks(backend_args: &BackendArgs, alarm_prefix: Option<&str>) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut check = |name, result: Result<String, String>| {
        let (ok, detail) = match result {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        checks.push(Check { name, ok, detail });
    };

    for source in Source::ALL {
        let variable = IngressVariables::of(source).secrets;
        check(
            match source {
                Source::Stripe | Source::Reconciler => "stripe webhooks",
                Source::Kentico => "kentico webhooks",
            },
            if webhooks_configured(source, &env) {
                Ok("signing secret configured".to_string())
            } else {
                Err(format!(
                    "set {variable}: without it these webhooks are refused (503 in serve)"
                ))
            },
        );
    }
    let serve_env = backend_args.serve_env(Arc::new(InMemoryMetrics::new()));
    match paybridge::app::serve::operator_backend(&serve_env).await {
        Ok(backend) => {
            let depths = backend.depths().await;
            let expected = 2 * Source::ALL.len();
            check(
                "queues",
                if depths.len() == expected {
                    Ok(depths
                        .iter()
                        .map(|d| {
                            format!(
                                "{}: {} visible, {} in flight",
                                d.queue, d.visible, d.in_flight
                            )
                        })
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
            check("state", backend.check_state().await);
            if backend.name() == "aws" {
                let prefix = (alarm_prefix.map(str::to_string))
                    .or_else(|| env(VAR_TABLE).and_then(|t| alarms::prefix_of_table(&t)));
                check(
                    "alarms",
                    match prefix {
                        Some(prefix) => {
                            alarms::check(&aws_config::load_from_env().await, &prefix).await
                        }
                        None => Err(format!(
                            "pass --alarm-prefix: {VAR_TABLE} is not paybridge-<stage>-state"
                        )),
                    },
                );
            }
        }
        Err(error) => check("queues", Err(error.to_string())),
    }

    let (connectors, clients) = match paybridge::app::serve::doctor_clients(&env).await {
        Ok(found) => {
            check("configuration", Ok("every setting parses".into()));
            found
        }
        Err(error) => {
            check("configuration", Err(error.to_string()));
            return checks;
        }
    };
    if let Some(stripe) = &connectors.stripe {
        check(
            "stripe mode",
            match stripe.mode {
                Some(mode) => Ok(format!(
                    "{mode} mode: a key of the other mode stops the workers, events of the other mode are acknowledged and ignored"
                )),
                None => Err(format!(
                    "unknown: set {VAR_STRIPE_MODE}=test or live (the key is read by ARN), so the Stripe webhook can ignore events of the other mode"
                )),
            },
        );
    }
    let Some(clients) = clients else {
        check(
            "connectors",
            Err(format!(
                "not configured: {}",
                connectors.missing().join("; ")
            )),
        );
        return checks;
    };
    match clients {
        Err(error) => check("connectors", Err(error.to_string())),
        Ok(clients) => {
            check(
                "stripe api",
                clients.stripe.retrieve_balance().await.map(|_| "the key is valid (read the balance)".into()).map_err(|e| {
                    format!("{e} — check STRIPE_SECRET_KEY (a restricted key needs Balance: read, PaymentIntents and Checkout Sessions: write)")
                }),
            );
            check(
                "stripe endpoints",
                crate::setup::check::stripe_endpoints(&clients.stripe).await,
            );
            let (access, reached) = match clients.shop.platform() {
                KenticoPlatform::K13 => ("kentico rest", "reachable and authorized"),
                KenticoPlatform::Xbyk => (
                    "kentico package",
                    "the Xperience by Kentico package answers and accepts paybridge's signature",
                ),
            };
            check(
                access,
                clients
                    .shop
                    .check_access()
                    .await
                    .map(|_| reached.into())
                    .map_err(|e| e.to_string()),
            );
            let mapping = &connectors.flow.status_mapping;
            let names: Vec<&str> = (PaymentState::ALL
                .map(|state| mapping.name(state))
                .into_iter())
            .chain(AfterPayment::ALL.map(|state| mapping.after_name(state)))
            .collect();
            let unknown: Vec<String> = (clients.shop.unresolved_statuses(&names).await)
                .into_iter()
                .map(|(name, error)| format!("{name}: {error}"))
                .collect();
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
