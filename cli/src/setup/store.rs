//! Where `setup stripe` puts the endpoint's signing secret: the place the deployment reads
//! `STRIPE_WEBHOOK_SECRETS` from. The secret is printed only with `--store print`.

use std::path::PathBuf;

use clap::ValueEnum;
use paybridge::app::secrets::WebhookSecretStore;
use paybridge::config::ingress::{IngressVariables, add_webhook_secret, parse_webhook_secrets};
use paybridge::secret::SecretString;
use paybridge::webhook::Source;

use super::env_file;
use crate::backend::env;

/// `--store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    /// `STRIPE_WEBHOOK_SECRETS` in a `.env` file (`--env-file`), as `serve` reads it.
    Env,
    /// The Secrets Manager secret the stripe-webhook function reads (`--secret-id`).
    Secretsmanager,
    /// Only print it, for you to store.
    Print,
}

/// A place to store the secret in, checked before anything is created at Stripe.
pub enum Store {
    /// A `.env` file.
    Env(PathBuf),
    /// A Secrets Manager secret, already read.
    SecretsManager {
        /// Its ARN or name, as given.
        id: String,
        /// Its current value.
        secret: WebhookSecretStore,
    },
    /// Standard output.
    Print,
}

fn variable() -> &'static str {
    IngressVariables::of(Source::Stripe).secrets
}

impl Store {
    /// Opens the store: reads the `.env` file or the secret now, so a store that cannot be
    /// used stops the command before Stripe creates an endpoint whose secret would be lost.
    pub async fn open(
        kind: StoreArg,
        env_file: PathBuf,
        secret_id: Option<String>,
    ) -> Result<Self, (u8, String)> {
        match kind {
            StoreArg::Env => {
                env_file::read(&env_file)
                    .map_err(|e| (1, format!("cannot read {}: {e}", env_file.display())))?;
                let parent = (env_file.parent())
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                if !parent.is_dir() {
                    return Err((1, format!("{} is no directory", parent.display())));
                }
                Ok(Self::Env(env_file))
            }
            StoreArg::Secretsmanager => {
                let arn_variable = IngressVariables::of(Source::Stripe).secret_arn;
                let Some(id) = secret_id.or_else(|| env(arn_variable)) else {
                    return Err((
                        2,
                        format!(
                            "--store secretsmanager needs --secret-id (the ARN or name of the \
                             stack's paybridge/<stage>/stripe-webhook-secret) or {arn_variable}"
                        ),
                    ));
                };
                let secret = WebhookSecretStore::open(&id, Source::Stripe)
                    .await
                    .map_err(|e| (1, e.to_string()))?;
                Ok(Self::SecretsManager { id, secret })
            }
            StoreArg::Print => Ok(Self::Print),
        }
    }

    /// Where the secret of an endpoint created earlier is expected to be.
    pub fn describe(&self) -> String {
        match self {
            Self::Env(path) => format!("{} in {}", variable(), path.display()),
            Self::SecretsManager { id, .. } => format!("the Secrets Manager secret {id}"),
            Self::Print => "wherever you stored it when the endpoint was created".to_string(),
        }
    }

    /// Whether the store holds a usable secret already (`None`: cannot tell).
    pub fn holds_a_secret(&self) -> Option<bool> {
        match self {
            Self::Env(path) => {
                let text = env_file::read(path).ok().flatten().unwrap_or_default();
                let value = env_file::value_of(&text, variable()).unwrap_or_default();
                Some(parse_webhook_secrets(Source::Stripe, variable(), &value).is_ok())
            }
            Self::SecretsManager { secret, .. } => Some(secret.holds_a_secret()),
            Self::Print => None,
        }
    }

    /// Stores `secret` beside the ones already there; says where (never the secret, except
    /// with `--store print`, whose whole point it is).
    pub async fn save(&self, secret: &SecretString) -> Result<String, String> {
        match self {
            Self::Env(path) => {
                let text = (env_file::read(path))
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                    .unwrap_or_default();
                let old = env_file::value_of(&text, variable());
                let list = add_webhook_secret(Source::Stripe, old.as_deref(), secret);
                let updated = env_file::with_value(&text, variable(), list.value.expose());
                env_file::write(path, &updated)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                let mut said = format!(
                    "signing secret stored in {} ({})",
                    self.describe(),
                    kept(list.kept, list.dropped)
                );
                // A variable already set in the environment wins over the file.
                if env(variable()).is_some_and(|set| Some(set) != old) {
                    said.push_str(&format!(
                        "\nnote: {} is also set in this environment, which wins over {}: \
                         update it there too",
                        variable(),
                        path.display()
                    ));
                }
                Ok(said)
            }
            Self::SecretsManager { secret: store, .. } => {
                let list = store.add(secret).await.map_err(|e| e.to_string())?;
                Ok(format!(
                    "signing secret stored in {} ({}); the stripe-webhook function reads it \
                     at its next cold start (update its configuration to recycle it now)",
                    self.describe(),
                    kept(list.kept, list.dropped)
                ))
            }
            Self::Print => Ok(format!(
                "signing secret (store it in {}): {}",
                variable(),
                secret.expose()
            )),
        }
    }
}

fn kept(kept: usize, dropped: usize) -> String {
    let mut said = match kept {
        0 => "the only secret".to_string(),
        n => format!("beside {n} older one(s), still accepted until you remove them"),
    };
    if dropped > 0 {
        said.push_str(&format!(
            "; {dropped} entry(ies) that were no whsec_ secret dropped"
        ));
    }
    said
}
