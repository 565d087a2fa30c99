//! The structure docs/ARCHITECTURE.md promises, checked on the source itself: the folders of the
//! library depend on each other without a loop, the domain never reaches for the wiring,
//! environment variables are named only in configuration, secrets are read only by the
//! composition root, and nothing points outside the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// Every file under `dir` (recursively) whose name ends with one of `extensions`, skipping
/// build output, dependencies and version control.
fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if ![
                "target",
                "node_modules",
                ".git",
                ".aws-sam",
                ".paybridge",
                "bin",
                "obj",
            ]
            .contains(&name.as_str())
            {
                found.extend(files(&path, extensions));
            }
        } else if extensions.iter().any(|ext| name.ends_with(ext)) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Whether a source file holds only test code: unit-test files and contract suites.
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs"
        || name == "contract.rs"
        || name == "proptests.rs"
        || path.components().any(|c| c.as_os_str() == "tests")
}

/// The production part of a source file: without its `#[cfg(test)]` items.
fn production_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable source");
    let mut kept = String::new();
    let mut skipping = false;
    let mut depth = 0i32;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !skipping && line.trim() == "#[cfg(test)]" {
            // `#[cfg(test)] mod tests;` or a `#[cfg(test)]` block: drop the item that follows.
            let Some(next) = lines.next() else { break };
            if next.trim_end().ends_with('{') {
                skipping = true;
                depth = 1;
            }
            continue;
        }
        if skipping {
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
            if depth <= 0 {
                skipping = false;
            }
            continue;
        }
        // Comments may name anything: only code counts.
        if !line.trim_start().starts_with("//") {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// The top-level module of the library a source file belongs to (`links` for
/// `shared/src/links/sqlite.rs`, `store` for `shared/src/store.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under shared/src");
    let first = relative
        .components()
        .next()
        .expect("a file")
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Which top-level modules each top-level module's production code names through `crate::`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = repository().join("shared/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files(&src, &[".rs"]) {
        let module = module_of(&src, &file);
        if module == "lib" || is_test_file(&file) {
            continue;
        }
        let code = production_code(&file);
        let uses = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                uses.insert(name);
            }
        }
    }
    graph
}

/// A loop in `graph`, as the path that closes it, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_library_folders_depend_on_each_other_without_a_loop() {
    let graph = module_graph();
    assert!(
        graph.len() > 10,
        "the scan found too few modules: {graph:?}"
    );
    if let Some(cycle) = find_loop(&graph) {
        panic!(
            "the folders of shared/src depend on each other in a loop: {}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_loop_finder_finds_a_loop() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(
        find_loop(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn only_the_composition_root_depends_on_it_and_config_depends_on_no_flow() {
    let graph = module_graph();
    for (module, uses) in &graph {
        if uses.contains("app") {
            panic!("{module} depends on the composition root (app); only entry points may");
        }
    }
    for domain in ["flows", "mapping"] {
        let uses = &graph[domain];
        for wiring in ["app", "embedded", "dead_letters"] {
            assert!(
                !uses.contains(wiring),
                "{domain} depends on {wiring}: the domain must not know the wiring"
            );
        }
    }
    for forbidden in ["flows", "app"] {
        assert!(
            !graph["config"].contains(forbidden),
            "config depends on {forbidden}"
        );
    }
}

/// Every variable the configuration table of docs/CONTRACTS.md lists.
fn documented_variables() -> BTreeSet<String> {
    let contracts =
        std::fs::read_to_string(repository().join("docs/CONTRACTS.md")).expect("docs/CONTRACTS.md");
    contracts
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| {
            name.len() > 3
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn environment_variables_are_named_only_in_configuration_and_all_are_documented() {
    let variables = documented_variables();
    assert!(
        variables.contains("STRIPE_SECRET_KEY") && variables.contains("IDEMPOTENCY_TABLE_NAME"),
        "the configuration table of docs/CONTRACTS.md was not found: {variables:?}"
    );
    let root = repository();
    let mut misplaced = Vec::new();
    for dir in ["shared/src", "functions", "cli/src"] {
        for file in files(&root.join(dir), &[".rs"]) {
            if is_test_file(&file) {
                continue;
            }
            let relative = file.strip_prefix(&root).expect("in the repository");
            let in_config = relative.starts_with("shared/src/config");
            let code = production_code(&file);
            if !in_config && code.contains("std::env::var") {
                misplaced.push(format!("{} reads the environment", relative.display()));
            }
            for variable in &variables {
                if !in_config && code.contains(&format!("\"{variable}\"")) {
                    misplaced.push(format!("{} names {variable}", relative.display()));
                }
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "only shared/src/config may read or name environment variables:\n  {}",
        misplaced.join("\n  ")
    );

    let mut undocumented = BTreeSet::new();
    for file in files(&root.join("shared/src/config"), &[".rs"]) {
        let code = production_code(&file);
        for literal in code.split('"').skip(1).step_by(2) {
            let looks_like_a_variable = literal.len() > 3
                && literal.contains('_')
                && literal
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if looks_like_a_variable && !variables.contains(literal) {
                undocumented.insert(literal.to_string());
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "variables read by config/ but missing from docs/CONTRACTS.md#configuration: {undocumented:?}"
    );
}

#[test]
fn secrets_are_read_only_by_the_composition_root() {
    let root = repository();
    for file in files(&root.join("shared/src"), &[".rs"])
        .into_iter()
        .chain(files(&root.join("cli/src"), &[".rs"]))
        .chain(files(&root.join("functions"), &[".rs"]))
    {
        let relative = file.strip_prefix(&root).expect("in the repository");
        if is_test_file(&file) || relative.starts_with("shared/src/app/secrets.rs") {
            continue;
        }
        let code = production_code(&file);
        for reader in ["get_secret_value", "SecretsManagerReader", "secret_text("] {
            assert!(
                !code.contains(reader),
                "{} reads secrets ({reader}); only shared/src/app/secrets.rs may",
                relative.display()
            );
        }
    }
}

#[test]
fn nothing_in_the_repository_points_outside_it() {
    let root = repository();
    let mut outside = Vec::new();
    for file in files(
        &root,
        &[
            ".rs", ".md", ".toml", ".yaml", ".yml", ".sh", ".py", ".cs", ".json", ".csproj",
        ],
    ) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for needle in ["DESIGN.md", "../shared/", "STYLE.md"] {
            if text.contains(needle) && !file.ends_with("architecture.rs") {
                outside.push(format!(
                    "{} mentions {needle}",
                    file.strip_prefix(&root).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "the repository must hold every contract it cites:\n  {}",
        outside.join("\n  ")
    );
}
