//! The variables behind `paybridge`'s command-line options (each option can be given either
//! way; the option wins). The CLI names them through these constants.

/// `serve --port`.
pub const VAR_PORT: &str = "PORT";
/// `serve --host`.
pub const VAR_HOST: &str = "PAYBRIDGE_HOST";
/// `--data-dir` of every command: the embedded store's directory.
pub const VAR_DATA_DIR: &str = "PAYBRIDGE_DATA_DIR";
/// `serve --visibility-timeout`.
pub const VAR_VISIBILITY_TIMEOUT: &str = "PAYBRIDGE_VISIBILITY_TIMEOUT_SECONDS";
/// `serve --metrics-token`: the bearer token `/metrics` asks for when `serve` is bound to a
/// non-loopback address (without it, `/metrics` is only served on loopback).
pub const VAR_METRICS_TOKEN: &str = "PAYBRIDGE_METRICS_TOKEN";
/// `console --token` (and the console `serve` mounts at `/console`): the token an operator
/// logs in with when the console is bound to a non-loopback address (without it, such a
/// console answers every page with 403).
pub const VAR_CONSOLE_TOKEN: &str = "PAYBRIDGE_CONSOLE_TOKEN";
/// `serve --log-format`: `json` or `text` (default: JSON unless stdout is a terminal).
pub const VAR_LOG_FORMAT: &str = "PAYBRIDGE_LOG_FORMAT";
/// `events sign --secret`.
pub const VAR_SIGNING_SECRET: &str = "PAYBRIDGE_SIGNING_SECRET";
