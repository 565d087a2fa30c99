//! A `.env` file as `serve` and the operator commands read it (dotenvy: `NAME=value` lines,
//! optionally `export`ed or quoted; the first definition wins): one variable read and set,
//! every other line kept.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The name and value of a `NAME=value` line, if it is one.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let (name, value) = line.split_once('=')?;
    let name = name.trim_end();
    let valid = !name.is_empty()
        && (name.chars()).all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    valid.then_some((name, value))
}

/// A value as dotenvy reads it: quotes removed, an unquoted value's ` #` comment dropped.
fn unquoted(value: &str) -> String {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = (value.strip_prefix(quote)).and_then(|v| v.strip_suffix(quote)) {
            return inner.to_string();
        }
    }
    let comment = value.find(" #").unwrap_or(value.len());
    value[..comment].trim_end().to_string()
}

/// The value of `name` in `text`: its first definition, as dotenvy reads it.
pub fn value_of(text: &str, name: &str) -> Option<String> {
    (text.lines())
        .filter_map(assignment)
        .find(|(n, _)| *n == name)
        .map(|(_, v)| unquoted(v))
}

/// `text` with `name` set to `value`: its first definition replaced in place, or a line
/// appended; every other line as it was.
pub fn with_value(text: &str, name: &str, value: &str) -> String {
    let mut replaced = false;
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        if !replaced && assignment(line).is_some_and(|(n, _)| n == name) {
            lines.push(format!("{name}={value}"));
            replaced = true;
        } else {
            lines.push(line.to_string());
        }
    }
    if !replaced {
        lines.push(format!("{name}={value}"));
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The file's text, or `None` when it does not exist yet.
pub fn read(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Replaces the file with `text` at once (a temporary file beside it, renamed over it): it
/// holds a signing secret, so it is readable by its user only (`0600`), whatever the old file's
/// permissions were.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    // Through a symlink, the file it points at is the one to replace.
    let path = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_path_buf(),
    };
    let mode = 0o600;
    let name = path
        .file_name()
        .map_or_else(|| ".env".into(), |n| n.to_string_lossy().into_owned());
    let temporary = path.with_file_name(format!(".{name}.paybridge-{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(mode))?;
        std::fs::rename(&temporary, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_definition_as_dotenvy_does() {
        let text = "# secrets\nexport A=\"x y\"\nB=plain # note\nA=later\nC='q'\n";
        assert_eq!(value_of(text, "A").as_deref(), Some("x y"));
        assert_eq!(value_of(text, "B").as_deref(), Some("plain"));
        assert_eq!(value_of(text, "C").as_deref(), Some("q"));
        assert_eq!(value_of(text, "D"), None);
    }

    #[test]
    fn sets_one_variable_and_keeps_every_other_line() {
        let text = "# secrets\nSTRIPE_SECRET_KEY=sk_test_1\nexport W=\"whsec_a\"\nW=old\n";
        assert_eq!(
            with_value(text, "W", "whsec_a,whsec_b"),
            "# secrets\nSTRIPE_SECRET_KEY=sk_test_1\nW=whsec_a,whsec_b\nW=old\n"
        );
        assert_eq!(with_value("A=1", "W", "v"), "A=1\nW=v\n");
        assert_eq!(with_value("", "W", "v"), "W=v\n");
    }

    #[test]
    fn the_file_holding_the_secret_is_its_users_only_even_if_it_was_readable_before() {
        let dir = std::env::temp_dir().join(format!("paybridge-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        let _ = std::fs::remove_file(&path);
        write(&path, "W=v\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, "W=w\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "W=w\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
