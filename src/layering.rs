//! The layer rule, checked on the source itself: imports point down.
//!
//! `db` and the leaf types (`error`, `messages`, `status`, `blobs`) ← the
//! domain (every other top-level module) ← the adapters (`api`, `web`,
//! `eval`, `http`, `state`, `telemetry`) ← `server` ← `cli`. Sibling
//! adapters do not import each other (`api` and `web` share only `http`).
//! The only import cycles allowed are inside one folder module (a page
//! module and its neighbours in `web/`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A file's module path (`teams`, `web/tasks`) → its text without comments
/// and unit tests.
pub(crate) fn sources() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut name = rel.to_string_lossy().replace('\\', "/");
            if let Some(parent) = name.strip_suffix("/mod") {
                name = parent.to_owned();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
            let code = code.join("\n");
            let code = code.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
            out.insert(name, code);
        }
    }
    out
}

/// The longest module of `files` that `path` (`a::b::c`) names.
fn resolve(files: &BTreeMap<String, String>, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("/")).find(|c| files.contains_key(c))
}

/// Every module each module imports (`crate::…` paths, `use crate::{…}`
/// groups and `super::…`).
fn edges(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in files {
        let mut paths = Vec::new();
        for part in code.split("crate::").skip(1) {
            if let Some(group) = part.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or_default();
                paths.extend(group.split(',').map(|p| p.trim().to_owned()));
            } else {
                paths.push(part.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect());
            }
        }
        let parent = module.rsplit_once('/').map(|(p, _)| p.replace('/', "::"));
        for part in code.split("super::").skip(1) {
            let tail: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            paths.push(match &parent {
                Some(p) => format!("{p}::{tail}"),
                None => tail,
            });
        }
        for path in paths {
            let path = path.trim_end_matches(':').split(" as ").next().unwrap_or_default().trim().to_owned();
            if let Some(target) = resolve(files, &path).filter(|t| t != module) {
                out.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    out
}

fn layer(module: &str) -> u8 {
    match module.split('/').next().unwrap_or_default() {
        "db" | "error" | "messages" | "status" | "blobs" => 0,
        "api" | "web" | "eval" | "http" | "state" | "telemetry" => 2,
        "server" => 3,
        "cli" => 4,
        "lib" | "main" | "layering" => 5,
        _ => 1,
    }
}

fn top(module: &str) -> &str {
    module.split('/').next().unwrap_or_default()
}

#[test]
fn imports_point_down_and_siblings_stay_apart() {
    let files = sources();
    assert!(files.contains_key("teams") && files.contains_key("web/tasks"), "found {:?}", files.keys());
    let mut wrong = Vec::new();
    for (from, targets) in edges(&files) {
        for to in targets {
            let sibling = matches!((top(&from), top(&to)), ("api", "web") | ("web", "api") | ("eval", "api" | "web"));
            if layer(&to) > layer(&from) || sibling {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that point up or across: {wrong:#?}");
}

#[test]
fn import_cycles_stay_inside_one_folder_module() {
    let files = sources();
    let graph = edges(&files);
    // A module is in a cycle with every module that reaches it and that it
    // reaches; those must share their folder.
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.to_owned()];
        while let Some(m) = stack.pop() {
            for t in graph.get(&m).into_iter().flatten() {
                if seen.insert(t.clone()) {
                    stack.push(t.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = files.keys().map(|m| (m, reach(m))).collect();
    let mut wrong = Vec::new();
    for (a, from_a) in &reached {
        for b in from_a {
            if reached.get(b).is_some_and(|from_b| from_b.contains(*a)) && top(a) != top(b) {
                wrong.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(wrong.is_empty(), "import cycles across modules: {wrong:#?}");
}
