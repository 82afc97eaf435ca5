//! Task bundles: a folder (or a `.tar.gz` of one) holding `task.toml`,
//! `README.md`, `public/` and `hidden/`.
//!
//! [`load_dir`] reads and validates a bundle completely and answers with every
//! problem found (file, field, why) rather than stopping at the first, so an
//! organizer fixes a bundle in one round. [`unpack_tarball`] turns an upload
//! into a folder first, refusing anything that could escape it (absolute
//! paths, `..`, links, devices) or blow up (entry count, total size). The
//! fields of `task.toml` are documented in `tasks/README.md`.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, Problem};
use crate::messages::Msg;
use crate::msg;
use crate::scoring::MetricKind;

/// The hidden test inputs, one row per test id.
pub const HIDDEN_INPUTS: &str = "hidden/test_inputs.csv";
/// The hidden test labels: never served, read only by the scorer.
pub const HIDDEN_LABELS: &str = "hidden/test_labels.csv";
/// The public copy of the test inputs that prediction tasks must publish.
pub const PUBLIC_INPUTS: &str = "public/test_inputs.csv";

/// At most this many problems are listed per CSV file.
const MAX_ROW_PROBLEMS: usize = 10;
/// At most this many files in a bundle.
const MAX_FILES: usize = 10_000;

/// What kinds of submission a task accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// A CSV of predictions for the test ids.
    Predictions,
    /// A WebAssembly model run by the sandbox on the hidden inputs.
    Model,
}

/// How a task's public board shows scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicBoard {
    /// Every public score, as scored.
    #[default]
    Plain,
    /// The Ladder (`ladder.rs`): a score is shown only when it beats the
    /// team's shown best by more than the significance step.
    Ladder,
}

/// The validated contents of `task.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskSpec {
    /// URL name: lower-case letters, digits and `-`, 2–64 characters.
    pub slug: String,
    /// Title shown everywhere.
    pub title: String,
    /// One sentence shown in listings.
    pub summary: String,
    /// Domain tag (tabular, vision, nlp, audio, time_series, other).
    pub domain: String,
    /// Whether final ranks feed the global rating.
    pub rated: bool,
    /// `plain` (every public score shown) or `ladder` (a new score shown
    /// only when significantly better: the Ladder).
    #[serde(default)]
    pub public_board: PublicBoard,
    /// How submissions are scored.
    pub metric: MetricSpec,
    /// The shape of the data.
    pub data: DataSpec,
    /// Submission rules.
    pub submissions: SubmissionRules,
    /// When the task opens and closes.
    pub schedule: Schedule,
    /// How hidden rows split into public and private boards.
    pub split: SplitSpec,
    /// The compute budget of one model run.
    pub budget: Budget,
    /// Title and summary in other languages than English (`[i18n.ko]`), by
    /// language code; the statement's translations are `README.<code>.md`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub i18n: BTreeMap<String, Translation>,
}

/// A task's title and summary in another language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Translation {
    /// The title.
    pub title: String,
    /// The one-sentence summary.
    pub summary: String,
}

/// The languages a task may be translated into (English is the original).
pub const TRANSLATED: &[&str] = &["ko"];

/// `[metric]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricSpec {
    /// The metric.
    pub name: MetricKind,
    /// Whether larger is better (defaults from the metric).
    pub higher_is_better: bool,
    /// `k` for `map_at_k`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<u32>,
    /// Decimals scores are shown with on the pages (0–10; 5 when not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
}

/// Decimals a score is shown with when the task does not say.
pub const DEFAULT_SCORE_DECIMALS: u32 = 5;

impl MetricSpec {
    /// Decimals of a score on the pages.
    pub fn shown_decimals(&self) -> usize {
        self.decimals.unwrap_or(DEFAULT_SCORE_DECIMALS) as usize
    }
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataSpec {
    /// The id column of every CSV.
    pub id_column: String,
    /// The label column(s) of the solution.
    pub target_columns: Vec<String>,
    /// The class labels, for classification metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// The input feature columns, in order.
    pub feature_columns: Vec<String>,
    /// The tensor shape of one input row (its product is the feature count).
    pub input_shape: Vec<u32>,
    /// Number of hidden test rows.
    pub test_rows: u64,
}

/// `[submissions]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionRules {
    /// Accepted kinds.
    pub kinds: Vec<SubmissionKind>,
    /// Submissions per team per UTC day.
    pub daily_cap: u32,
    /// How many submissions a team may select as final.
    pub final_selections: u32,
    /// Largest team.
    pub team_size_cap: u32,
}

/// `[schedule]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    /// Submissions accepted from.
    pub opens: DateTime<Utc>,
    /// Submissions ranked until.
    pub closes: DateTime<Utc>,
    /// Last moment teams may merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merger_deadline: Option<DateTime<Utc>>,
}

pub use crate::scoring::split::SplitSpec;

/// `[budget]`: one model run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    /// Deterministic compute budget (wasm fuel plus host-op FLOPs).
    pub fuel: u64,
    /// Linear-memory cap in MiB.
    pub memory_mib: u32,
    /// Wall-clock safety net in milliseconds.
    pub wall_ms: u64,
    /// Where models must run: `any` worker, or only workers with a CUDA
    /// device (`cuda`).
    #[serde(default)]
    pub device: DeviceNeed,
}

impl Budget {
    /// Whether only workers with a CUDA device may run the task's models.
    pub fn needs_gpu(&self) -> bool {
        self.device == DeviceNeed::Cuda
    }
}

/// `[budget] device`: which workers may run the task's models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeviceNeed {
    /// Any worker (CPU or GPU).
    #[default]
    Any,
    /// Only a worker that registered a CUDA device.
    Cuda,
}

/// Where a bundle file may be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone may download it.
    Public,
    /// Never served.
    Hidden,
}

impl Visibility {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Hidden => "hidden",
        }
    }
}

/// One data file of a bundle.
#[derive(Debug, Clone)]
pub struct BundleFile {
    /// Public: path relative to `public/`; hidden: `hidden/...`.
    pub path: String,
    /// Public or hidden.
    pub visibility: Visibility,
    /// Where the content is: the file in the bundle's folder, which must
    /// outlive the [`Bundle`] until it is stored. A bundle is never held in
    /// memory: its files may add up to four times the upload limit.
    pub source: PathBuf,
    /// The content's size in bytes.
    pub size: u64,
    /// The content's SHA-256 (hex): the blob it is stored as.
    pub hash: String,
}

/// A fully validated bundle, ready to store (its files still in its folder).
#[derive(Debug, Clone)]
pub struct Bundle {
    /// `task.toml`.
    pub spec: TaskSpec,
    /// `README.md`.
    pub statement: String,
    /// `README.<code>.md` for each translated language that has one.
    pub statements: BTreeMap<String, String>,
    /// Every file under `public/` and `hidden/`.
    pub files: Vec<BundleFile>,
}

/// Reads and validates the bundle in `dir`; on failure, every problem found.
pub fn load_dir(dir: &Path) -> Result<Bundle, Vec<Problem>> {
    let mut problems = Vec::new();
    let toml_text = read_text(dir, "task.toml", &mut problems);
    let statement = read_text(dir, "README.md", &mut problems);
    if statement.as_deref().is_some_and(|s| s.trim().is_empty()) {
        problems.push(Problem::new("README.md", "", msg!("statement_empty")));
    }
    let statements = translated_statements(dir, &mut problems);
    let mut files = Vec::new();
    for (sub, visibility) in [("public", Visibility::Public), ("hidden", Visibility::Hidden)] {
        let root = dir.join(sub);
        if !root.is_dir() {
            problems.push(Problem::new(format!("{sub}/"), "", msg!("folder_missing")));
            continue;
        }
        collect_files(&root, sub, visibility, &mut files, &mut problems);
    }
    if files.len() > MAX_FILES {
        problems.push(Problem::new("", "", msg!("too_many_files", count = files.len(), max = MAX_FILES)));
    }
    let spec = toml_text.as_deref().and_then(|text| parse_spec(text, &mut problems));
    let spec = spec.map(|spec| check_data(spec, &files, &mut problems));
    if let (Some(spec), true, Some(labels)) = (&spec, problems.is_empty(), file_at(&files, HIDDEN_LABELS)) {
        // The scorer holds the labels in memory anyway, as it will per score.
        match std::fs::read(&labels.source) {
            Ok(bytes) => {
                if let Err(e) = crate::scoring::scorer::TaskSolution::build(spec.format(), &spec.split, &bytes) {
                    problems.push(Problem::new(HIDDEN_LABELS, "split", e));
                }
            }
            Err(e) => problems.push(Problem::new(HIDDEN_LABELS, "", msg!("unreadable", error = e))),
        }
    }
    match (spec, statement) {
        (Some(spec), Some(statement)) if problems.is_empty() => Ok(Bundle { spec, statement, statements, files }),
        _ => Err(problems),
    }
}

/// `README.<code>.md` of each translated language, where present; any
/// other `README.*.md` is a problem (a language the site does not show).
fn translated_statements(dir: &Path, problems: &mut Vec<Problem>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let names = std::fs::read_dir(dir).into_iter().flatten().flatten().filter_map(|e| e.file_name().into_string().ok());
    for name in names {
        let Some(code) = name.strip_prefix("README.").and_then(|n| n.strip_suffix(".md")) else { continue };
        if !TRANSLATED.contains(&code) {
            problems.push(Problem::new(
                &name,
                "",
                msg!("language_unknown", code = code, known = TRANSLATED.join(", ")),
            ));
            continue;
        }
        if let Some(text) = read_text(dir, &name, problems) {
            if text.trim().is_empty() {
                problems.push(Problem::new(&name, "", msg!("statement_empty")));
            } else {
                out.insert(code.to_owned(), text);
            }
        }
    }
    out
}

fn read_text(dir: &Path, name: &str, problems: &mut Vec<Problem>) -> Option<String> {
    match std::fs::read(dir.join(name)) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Some(s),
            Err(_) => {
                problems.push(Problem::new(name, "", msg!("not_utf8_text")));
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            problems.push(Problem::new(name, "", msg!("file_missing")));
            None
        }
        Err(e) => {
            problems.push(Problem::new(name, "", msg!("unreadable", error = e)));
            None
        }
    }
}

fn collect_files(
    dir: &Path,
    rel: &str,
    visibility: Visibility,
    files: &mut Vec<BundleFile>,
    problems: &mut Vec<Problem>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::new(format!("{rel}/"), "", msg!("unreadable", error = e)));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel_path = format!("{rel}/{name}");
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_symlink() {
            problems.push(Problem::new(rel_path, "", msg!("no_links")));
        } else if kind.is_dir() {
            collect_files(&entry.path(), &rel_path, visibility, files, problems);
        } else if kind.is_file() {
            let source = entry.path();
            match crate::blobs::sha256_file(&source) {
                Ok((hash, size)) => {
                    let path = match visibility {
                        Visibility::Public => rel_path.trim_start_matches("public/").to_owned(),
                        Visibility::Hidden => rel_path,
                    };
                    files.push(BundleFile { path, visibility, source, size, hash });
                }
                Err(e) => problems.push(Problem::new(rel_path, "", msg!("unreadable", error = e))),
            }
        } else {
            problems.push(Problem::new(rel_path, "", msg!("regular_files_only")));
        }
    }
}

/// The known keys of each table of `task.toml`.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "slug",
            "title",
            "summary",
            "domain",
            "rated",
            "public_board",
            "metric",
            "data",
            "submissions",
            "schedule",
            "split",
            "budget",
            "i18n",
        ],
    ),
    ("metric", &["name", "higher_is_better", "k", "decimals"]),
    ("data", &["id_column", "target_columns", "classes", "feature_columns", "input_shape"]),
    ("submissions", &["kinds", "daily_cap", "final_selections", "team_size_cap"]),
    ("schedule", &["opens", "closes", "merger_deadline"]),
    ("split", &["public_fraction", "seed"]),
    ("budget", &["fuel", "memory_mib", "wall_ms", "device"]),
];

/// Domains a task may be tagged with.
pub const DOMAINS: &[&str] = &["tabular", "vision", "nlp", "audio", "time_series", "other"];

/// Reads fields out of one table of `task.toml`, recording problems.
struct Fields<'a> {
    table: Option<&'a toml::Table>,
    prefix: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl<'a> Fields<'a> {
    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}.{name}", self.prefix) }
    }

    fn problem(&mut self, name: &str, message: impl Into<Msg>) {
        let field = self.key(name);
        self.problems.push(Problem::new("task.toml", field, message));
    }

    fn get(&mut self, name: &str, required: bool) -> Option<&'a toml::Value> {
        let value = self.table.and_then(|t| t.get(name));
        if value.is_none() && required {
            self.problem(name, msg!("field_required"));
        }
        value
    }

    fn string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.get(name, required)? {
            toml::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            toml::Value::String(_) => {
                self.problem(name, msg!("must_not_be_empty"));
                None
            }
            other => {
                self.problem(name, msg!("must_be_string", found = other.type_str()));
                None
            }
        }
    }

    fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.get(name, false)? {
            toml::Value::Boolean(b) => Some(*b),
            other => {
                self.problem(name, msg!("must_be_bool", found = other.type_str()));
                None
            }
        }
    }

    fn integer(&mut self, name: &str, min: i64, max: i64, required: bool) -> Option<i64> {
        match self.get(name, required)? {
            toml::Value::Integer(i) if (min..=max).contains(i) => Some(*i),
            toml::Value::Integer(i) => {
                self.problem(name, msg!("out_of_range", value = i, min = min, max = max));
                None
            }
            other => {
                self.problem(name, msg!("must_be_integer", found = other.type_str()));
                None
            }
        }
    }

    fn float(&mut self, name: &str) -> Option<f64> {
        match self.get(name, false)? {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            other => {
                self.problem(name, msg!("must_be_number", found = other.type_str()));
                None
            }
        }
    }

    fn strings(&mut self, name: &str, required: bool) -> Option<Vec<String>> {
        match self.get(name, required)? {
            toml::Value::Array(items) => {
                let out: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(str::to_owned)).collect();
                match out {
                    Some(v) if v.is_empty() => {
                        self.problem(name, msg!("must_not_be_empty"));
                        None
                    }
                    Some(v) => {
                        let mut seen = HashSet::new();
                        if let Some(dup) = v.iter().find(|s| !seen.insert(s.as_str())) {
                            self.problem(name, msg!("listed_twice", item = format!("{dup:?}")));
                            return None;
                        }
                        Some(v)
                    }
                    None => {
                        self.problem(name, msg!("must_be_strings"));
                        None
                    }
                }
            }
            other => {
                self.problem(name, msg!("must_be_strings_found", found = other.type_str()));
                None
            }
        }
    }

    fn datetime(&mut self, name: &str, required: bool) -> Option<DateTime<Utc>> {
        let text = match self.get(name, required)? {
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::String(s) => s.clone(),
            other => {
                self.problem(name, msg!("must_be_datetime", found = other.type_str()));
                return None;
            }
        };
        match DateTime::parse_from_rfc3339(&text) {
            Ok(d) => Some(d.with_timezone(&Utc)),
            Err(_) => {
                self.problem(name, msg!("not_rfc3339", text = format!("{text:?}")));
                None
            }
        }
    }
}

fn table_of<'a>(root: &'a toml::Table, name: &str, problems: &mut Vec<Problem>) -> Option<&'a toml::Table> {
    match root.get(name) {
        Some(toml::Value::Table(t)) => Some(t),
        Some(other) => {
            problems.push(Problem::new(
                "task.toml",
                name,
                msg!("must_be_table", name = name, found = other.type_str()),
            ));
            None
        }
        None => None,
    }
}

/// Parses `task.toml`, recording every problem; `None` only when the TOML
/// itself does not parse. The data-dependent fields (`feature_columns`,
/// `input_shape`, `test_rows`) are filled in by [`check_data`].
fn parse_spec(text: &str, problems: &mut Vec<Problem>) -> Option<TaskSpec> {
    let root: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            problems.push(Problem::new("task.toml", "", format!("{at}{}", e.message())));
            return None;
        }
    };
    for (table, keys) in KNOWN_KEYS {
        let t = if table.is_empty() { Some(&root) } else { root.get(*table).and_then(toml::Value::as_table) };
        for key in t.into_iter().flat_map(|t| t.keys()) {
            if !keys.contains(&key.as_str()) {
                let field = if table.is_empty() { key.clone() } else { format!("{table}.{key}") };
                problems.push(Problem::new("task.toml", field, msg!("unknown_field", known = keys.join(", "))));
            }
        }
    }
    let mut top = Fields { table: Some(&root), prefix: "", problems };
    let slug = top.string("slug", true);
    if let Some(s) = slug.as_ref().filter(|s| !valid_slug(s)) {
        top.problem("slug", msg!("slug_invalid", slug = format!("{s:?}")));
    }
    let title = top.string("title", true);
    let summary = top.string("summary", true);
    let domain = top.string("domain", false).unwrap_or_else(|| "other".into());
    if !DOMAINS.contains(&domain.as_str()) {
        top.problem("domain", msg!("domain_invalid", domain = format!("{domain:?}"), known = DOMAINS.join(", ")));
    }
    let rated = top.boolean("rated").unwrap_or(true);
    let public_board = match top.string("public_board", false).as_deref() {
        None | Some("plain") => PublicBoard::Plain,
        Some("ladder") => PublicBoard::Ladder,
        Some(other) => {
            top.problem("public_board", msg!("public_board_invalid", value = format!("{other:?}")));
            PublicBoard::Plain
        }
    };

    let metric_t = table_of(&root, "metric", problems);
    let mut f = Fields { table: metric_t, prefix: "metric", problems };
    if metric_t.is_none() {
        f.problem("", msg!("table_missing", name = "metric"));
    }
    let metric_name = f.string("name", metric_t.is_some());
    let metric = metric_name.as_deref().and_then(|n| {
        let m = MetricKind::from_name(n);
        if m.is_none() {
            let names: Vec<_> = MetricKind::ALL.iter().map(|m| m.name()).collect();
            f.problem("name", msg!("unknown_metric", name = format!("{n:?}"), known = names.join(", ")));
        }
        m
    });
    let higher = f.boolean("higher_is_better");
    let k = f.integer("k", 1, 1000, metric.is_some_and(MetricKind::needs_k)).map(|k| k as u32);
    let decimals = f.integer("decimals", 0, 10, false).map(|d| d as u32);

    let data_t = table_of(&root, "data", problems);
    let mut f = Fields { table: data_t, prefix: "data", problems };
    let id_column = f.string("id_column", false).unwrap_or_else(|| "id".into());
    let target_columns = f.strings("target_columns", true);
    let classes = f.strings("classes", metric.is_some_and(MetricKind::needs_classes));
    if classes.as_ref().is_some_and(|c| c.len() < 2) {
        f.problem("classes", msg!("two_classes"));
    }
    let feature_columns = f.strings("feature_columns", false);
    let input_shape = match f.get("input_shape", false) {
        Some(toml::Value::Array(items)) => {
            let dims: Option<Vec<u32>> =
                items.iter().map(|v| v.as_integer().filter(|d| (1..=1 << 20).contains(d)).map(|d| d as u32)).collect();
            if dims.as_ref().is_none_or(Vec::is_empty) {
                f.problem("input_shape", msg!("shape_invalid"));
            }
            dims
        }
        Some(other) => {
            f.problem("input_shape", msg!("shape_not_list", found = other.type_str()));
            None
        }
        None => None,
    };
    if target_columns.as_ref().is_some_and(|t| t.len() > 1) && classes.is_some() {
        f.problem("target_columns", msg!("single_target"));
    }

    let sub_t = table_of(&root, "submissions", problems);
    let mut f = Fields { table: sub_t, prefix: "submissions", problems };
    let kinds = f.strings("kinds", false).map(|names| {
        names
            .iter()
            .filter_map(|n| match n.as_str() {
                "predictions" => Some(SubmissionKind::Predictions),
                "model" => Some(SubmissionKind::Model),
                other => {
                    f.problem("kinds", msg!("unknown_kind", kind = format!("{other:?}")));
                    None
                }
            })
            .collect::<Vec<_>>()
    });
    let kinds = kinds.unwrap_or_else(|| vec![SubmissionKind::Predictions]);
    let daily_cap = f.integer("daily_cap", 1, 1000, false).unwrap_or(5) as u32;
    let final_selections = f.integer("final_selections", 1, 100, false).unwrap_or(2) as u32;
    let team_size_cap = f.integer("team_size_cap", 1, 100, false).unwrap_or(5) as u32;

    let sched_t = table_of(&root, "schedule", problems);
    let mut f = Fields { table: sched_t, prefix: "schedule", problems };
    if sched_t.is_none() {
        f.problem("", msg!("table_missing", name = "schedule"));
    }
    let opens = f.datetime("opens", sched_t.is_some());
    let closes = f.datetime("closes", sched_t.is_some());
    let merger_deadline = f.datetime("merger_deadline", false);
    if let (Some(o), Some(c)) = (opens, closes) {
        if c <= o {
            f.problem("closes", msg!("closes_after_opens"));
        }
        if merger_deadline.is_some_and(|m| m > c || m < o) {
            f.problem("merger_deadline", msg!("merger_in_schedule"));
        }
    }

    let split_t = table_of(&root, "split", problems);
    let mut f = Fields { table: split_t, prefix: "split", problems };
    let public_fraction = f.float("public_fraction").unwrap_or(0.3);
    if !(public_fraction > 0.0 && public_fraction < 1.0) {
        f.problem("public_fraction", msg!("fraction_invalid", value = public_fraction));
    }
    // Without a seed, a random 64-bit one, drawn now and kept in the stored
    // spec: a small or default seed could be guessed, and with the
    // documented algorithm the split mapped.
    let seed = f.integer("seed", 0, i64::MAX, false).map_or_else(rand::random::<u64>, |s| s as u64);

    let i18n = translations(&root, problems);

    let budget_t = table_of(&root, "budget", problems);
    let mut f = Fields { table: budget_t, prefix: "budget", problems };
    let fuel = f.integer("fuel", 1_000, 1_000_000_000_000, false).unwrap_or(1_000_000_000) as u64;
    let memory_mib = f.integer("memory_mib", 1, 4096, false).unwrap_or(64) as u32;
    let wall_ms = f.integer("wall_ms", 10, 3_600_000, false).unwrap_or(10_000) as u64;
    let device = match f.string("device", false).as_deref() {
        None | Some("any") => DeviceNeed::Any,
        Some("cuda") => DeviceNeed::Cuda,
        Some(other) => {
            f.problem("device", msg!("device_invalid", value = format!("{other:?}")));
            DeviceNeed::Any
        }
    };

    // Fields with problems get placeholders so that the data files are still
    // checked and every problem of the bundle is reported in one round; the
    // spec is never used while `problems` is non-empty.
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let metric = metric.unwrap_or(MetricKind::Accuracy);
    Some(TaskSpec {
        slug: slug.unwrap_or_default(),
        title: title.unwrap_or_default(),
        summary: summary.unwrap_or_default(),
        domain,
        rated,
        public_board,
        metric: MetricSpec { name: metric, higher_is_better: higher.unwrap_or(metric.higher_is_better()), k, decimals },
        data: DataSpec {
            id_column,
            target_columns: target_columns.unwrap_or_default(),
            classes,
            feature_columns: feature_columns.unwrap_or_default(),
            input_shape: input_shape.unwrap_or_default(),
            test_rows: 0,
        },
        submissions: SubmissionRules { kinds, daily_cap, final_selections, team_size_cap },
        schedule: Schedule { opens: opens.unwrap_or(epoch), closes: closes.unwrap_or(epoch), merger_deadline },
        split: SplitSpec { public_fraction, seed },
        budget: Budget { fuel, memory_mib, wall_ms, device },
        i18n,
    })
}

/// `[i18n.<code>]` tables: a title and a summary for each translated
/// language, both required, nothing else.
fn translations(root: &toml::Table, problems: &mut Vec<Problem>) -> BTreeMap<String, Translation> {
    let mut out = BTreeMap::new();
    let Some(i18n) = table_of(root, "i18n", problems) else { return out };
    for (code, value) in i18n {
        let field = format!("i18n.{code}");
        if !TRANSLATED.contains(&code.as_str()) {
            let known = TRANSLATED.join(", ");
            problems.push(Problem::new("task.toml", field, msg!("language_unknown", code = code, known = known)));
            continue;
        }
        let Some(table) = value.as_table() else {
            let found = value.type_str();
            problems.push(Problem::new(
                "task.toml",
                field,
                msg!("must_be_table", name = format!("i18n.{code}"), found = found),
            ));
            continue;
        };
        for key in table.keys().filter(|k| !["title", "summary"].contains(&k.as_str())) {
            problems.push(Problem::new(
                "task.toml",
                format!("{field}.{key}"),
                msg!("unknown_field", known = "title, summary"),
            ));
        }
        // The prefix names the table in each problem (`i18n.ko.title`).
        let mut f = Fields { table: Some(table), prefix: &field, problems };
        if let (Some(title), Some(summary)) = (f.string("title", true), f.string("summary", true)) {
            out.insert(code.clone(), Translation { title, summary });
        }
    }
    out
}

/// Whether `s` is a valid task slug.
pub fn valid_slug(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A CSV of the bundle, read through once from its file: its header and
/// how many rows it has. Its rows are then read again one at a time into
/// one reused record ([`Csv::each_row`]), so checking a file costs neither
/// its bytes in memory nor a copy of its cells (a 10,000 × 1,024 image
/// file would take ~110 MB as records).
struct Csv<'a> {
    header: Vec<String>,
    source: &'a Path,
    rows: usize,
}

fn parse_csv<'a>(name: &str, source: &'a Path, problems: &mut Vec<Problem>) -> Option<Csv<'a>> {
    let file = match std::fs::File::open(source) {
        Ok(f) => f,
        Err(e) => {
            problems.push(Problem::new(name, "", msg!("unreadable", error = e)));
            return None;
        }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(std::io::BufReader::new(file));
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_owned()).collect(),
        Err(e) => {
            problems.push(Problem::new(name, "header", msg!("csv_unreadable", error = e)));
            return None;
        }
    };
    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => break,
            Err(e) => {
                problems.push(Problem::new(name, format!("row {}", rows + 2), msg!("not_readable", error = e)));
                return None;
            }
        }
    }
    Some(Csv { header, source, rows })
}

impl Csv<'_> {
    /// Calls `f` with each row's index and record (the file read without
    /// error once already; it is the bundle's own unpacked copy).
    fn each_row(&self, mut f: impl FnMut(usize, &csv::StringRecord)) {
        let Ok(file) = std::fs::File::open(self.source) else { return };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(std::io::BufReader::new(file));
        let mut record = csv::StringRecord::new();
        let mut row = 0;
        while let Ok(true) = reader.read_record(&mut record) {
            f(row, &record);
            row += 1;
        }
    }
}

/// The bundle file at `path` (`public/...` or `hidden/...`).
fn file_at<'a>(files: &'a [BundleFile], path: &str) -> Option<&'a BundleFile> {
    let (visibility, key) = match path.strip_prefix("public/") {
        Some(rest) => (Visibility::Public, rest),
        None => (Visibility::Hidden, path),
    };
    files.iter().find(|f| f.visibility == visibility && f.path == key)
}

/// Checks the CSVs against the spec and fills in the data-dependent fields.
fn check_data(mut spec: TaskSpec, files: &[BundleFile], problems: &mut Vec<Problem>) -> TaskSpec {
    let id_col = spec.data.id_column.clone();
    let inputs = match file_at(files, HIDDEN_INPUTS) {
        Some(f) => parse_csv(HIDDEN_INPUTS, &f.source, problems),
        None => {
            problems.push(Problem::new(HIDDEN_INPUTS, "", msg!("inputs_missing")));
            None
        }
    };
    let labels = match file_at(files, HIDDEN_LABELS) {
        Some(f) => parse_csv(HIDDEN_LABELS, &f.source, problems),
        None => {
            problems.push(Problem::new(HIDDEN_LABELS, "", msg!("labels_missing")));
            None
        }
    };
    let mut input_ids: Option<Vec<String>> = None;
    if let Some(csv) = &inputs {
        let mut row_problems = RowProblems::new(HIDDEN_INPUTS);
        let id_idx = csv.header.iter().position(|h| *h == id_col);
        if id_idx.is_none() {
            problems.push(Problem::new(HIDDEN_INPUTS, "header", msg!("no_id_column", column = format!("{id_col:?}"))));
        }
        for t in &spec.data.target_columns {
            if csv.header.contains(t) {
                problems.push(Problem::new(HIDDEN_INPUTS, t.clone(), msg!("inputs_have_target")));
            }
        }
        if spec.data.feature_columns.is_empty() {
            spec.data.feature_columns = csv.header.iter().filter(|h| **h != id_col).cloned().collect();
        }
        let mut feat_idx = Vec::new();
        for col in &spec.data.feature_columns {
            match csv.header.iter().position(|h| h == col) {
                Some(i) => feat_idx.push(i),
                None => problems.push(Problem::new(HIDDEN_INPUTS, col.clone(), msg!("feature_missing"))),
            }
        }
        if spec.data.feature_columns.is_empty() {
            problems.push(Problem::new(HIDDEN_INPUTS, "header", msg!("no_features")));
        }
        let n_features = spec.data.feature_columns.len() as u64;
        if spec.data.input_shape.is_empty() {
            spec.data.input_shape = vec![n_features as u32];
        } else {
            let product: u64 = spec.data.input_shape.iter().map(|&d| u64::from(d)).product();
            if product != n_features {
                let shape = format!("{:?}", spec.data.input_shape);
                let m = msg!("shape_mismatch", shape = shape, product = product, features = n_features);
                problems.push(Problem::new("task.toml", "data.input_shape", m));
            }
        }
        if let Some(id_idx) = id_idx {
            let ids = check_ids(csv, id_idx, &mut row_problems);
            csv.each_row(|row, rec| {
                for &i in &feat_idx {
                    let cell = rec.get(i).unwrap_or("").trim();
                    if !cell.parse::<f64>().is_ok_and(f64::is_finite) {
                        row_problems.push(row, &csv.header[i], msg!("cell_not_finite", cell = format!("{cell:?}")));
                    }
                }
            });
            input_ids = Some(ids);
        }
        if csv.rows == 0 {
            problems.push(Problem::new(HIDDEN_INPUTS, "", msg!("rows_none")));
        }
        spec.data.test_rows = csv.rows as u64;
        row_problems.finish(problems);
    }
    if let Some(csv) = &labels {
        let mut row_problems = RowProblems::new(HIDDEN_LABELS);
        let id_idx = csv.header.iter().position(|h| *h == id_col);
        if id_idx.is_none() {
            problems.push(Problem::new(HIDDEN_LABELS, "header", msg!("no_id_column", column = format!("{id_col:?}"))));
        }
        let mut target_idx = Vec::new();
        for t in &spec.data.target_columns {
            match csv.header.iter().position(|h| h == t) {
                Some(i) => target_idx.push(i),
                None => problems.push(Problem::new(HIDDEN_LABELS, t.clone(), msg!("target_missing"))),
            }
        }
        if let Some(id_idx) = id_idx {
            let ids = check_ids(csv, id_idx, &mut row_problems);
            csv.each_row(|row, rec| {
                for &i in &target_idx {
                    let cell = rec.get(i).unwrap_or("").trim();
                    let col = &csv.header[i];
                    if let Some(classes) = &spec.data.classes {
                        if !classes.iter().any(|c| c == cell) {
                            row_problems.push(row, col, msg!("label_not_class"));
                        }
                    } else if spec.metric.name.numeric_target() && !cell.parse::<f64>().is_ok_and(f64::is_finite) {
                        row_problems.push(row, col, msg!("label_not_finite"));
                    } else if cell.is_empty() {
                        row_problems.push(row, col, msg!("label_empty"));
                    }
                }
            });
            if let Some(input_ids) = &input_ids {
                compare_ids(HIDDEN_LABELS, HIDDEN_INPUTS, &ids, input_ids, problems);
            }
        }
        row_problems.finish(problems);
    }
    let predictions = spec.submissions.kinds.contains(&SubmissionKind::Predictions);
    match (file_at(files, PUBLIC_INPUTS), predictions) {
        (Some(public), _) => {
            if let Some(csv) = parse_csv(PUBLIC_INPUTS, &public.source, problems) {
                for t in &spec.data.target_columns {
                    if csv.header.contains(t) {
                        problems.push(Problem::new(PUBLIC_INPUTS, t.clone(), msg!("public_inputs_have_target")));
                    }
                }
                if let (Some(id_idx), Some(hidden_ids)) = (csv.header.iter().position(|h| *h == id_col), &input_ids) {
                    let mut rp = RowProblems::new(PUBLIC_INPUTS);
                    let ids = check_ids(&csv, id_idx, &mut rp);
                    rp.finish(problems);
                    compare_ids(PUBLIC_INPUTS, HIDDEN_INPUTS, &ids, hidden_ids, problems);
                }
            }
        }
        (None, true) => problems.push(Problem::new(PUBLIC_INPUTS, "", msg!("public_inputs_missing"))),
        (None, false) => {}
    }
    if let Some(labels) = file_at(files, HIDDEN_LABELS) {
        for f in files.iter().filter(|f| f.visibility == Visibility::Public) {
            if f.hash == labels.hash {
                problems.push(Problem::new(format!("public/{}", f.path), "", msg!("labels_leak")));
            }
        }
    }
    spec
}

fn check_ids(csv: &Csv<'_>, id_idx: usize, rp: &mut RowProblems) -> Vec<String> {
    let mut seen = HashSet::with_capacity(csv.rows);
    let mut ids = Vec::with_capacity(csv.rows);
    csv.each_row(|row, rec| {
        let id = rec.get(id_idx).unwrap_or("").trim().to_owned();
        if id.is_empty() {
            rp.push(row, &csv.header[id_idx], msg!("empty_id"));
        } else if !seen.insert(id.clone()) {
            rp.push(row, &csv.header[id_idx], msg!("duplicate_id", id = format!("{id:?}")));
        }
        ids.push(id);
    });
    ids
}

fn compare_ids(file: &str, other: &str, ids: &[String], reference: &[String], problems: &mut Vec<Problem>) {
    let a: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let b: HashSet<&str> = reference.iter().map(String::as_str).collect();
    let mut extra: Vec<_> = a.difference(&b).copied().collect();
    let mut missing: Vec<_> = b.difference(&a).copied().collect();
    extra.sort_unstable();
    missing.sort_unstable();
    if !missing.is_empty() {
        let ex = missing.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        problems.push(Problem::new(
            file,
            "id",
            msg!("ids_missing_vs", count = missing.len(), other = other, examples = ex),
        ));
    }
    if !extra.is_empty() {
        let ex = extra.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        problems.push(Problem::new(
            file,
            "id",
            msg!("ids_extra_vs", count = extra.len(), other = other, examples = ex),
        ));
    }
}

/// Collects per-row problems of one file, keeping the first few.
struct RowProblems {
    file: &'static str,
    kept: Vec<Problem>,
    more: usize,
}

impl RowProblems {
    fn new(file: &'static str) -> Self {
        Self { file, kept: Vec::new(), more: 0 }
    }

    /// `row` is 0-based over data rows; reported 1-based counting the header.
    fn push(&mut self, row: usize, column: &str, message: Msg) {
        if self.kept.len() < MAX_ROW_PROBLEMS {
            self.kept.push(Problem::new(self.file, format!("row {}, column {column}", row + 2), message));
        } else {
            self.more += 1;
        }
    }

    fn finish(self, problems: &mut Vec<Problem>) {
        problems.extend(self.kept);
        if self.more > 0 {
            problems.push(Problem::new(self.file, "", msg!("more_row_problems", count = self.more)));
        }
    }
}

/// Upper bounds for unpacking an uploaded bundle.
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    /// Total uncompressed bytes.
    pub max_bytes: u64,
    /// Number of entries.
    pub max_entries: usize,
}

/// Unpacks a `.tar.gz` (or plain `.tar`) into `dest` and returns the bundle
/// root inside it: `dest` itself, or its only folder when the archive wraps
/// everything in one.
pub fn unpack_tarball(input: impl Read, dest: &Path, limits: UnpackLimits) -> Result<PathBuf, Vec<Problem>> {
    let mut input = std::io::BufReader::new(input);
    let head = std::io::BufRead::fill_buf(&mut input)
        .map_err(|e| vec![Problem::new("bundle", "", msg!("not_tar", error = e))])?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read + '_> = if gzip { Box::new(flate2::read::GzDecoder::new(input)) } else { Box::new(input) };
    let mut archive = tar::Archive::new(reader.take(limits.max_bytes + 1));
    let mut problems = Vec::new();
    let entries = archive.entries().map_err(|e| vec![Problem::new("bundle", "", msg!("not_tar", error = e))])?;
    let (mut count, mut total) = (0usize, 0u64);
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem::new("bundle", "", msg!("not_targz", error = e)));
                return Err(problems);
            }
        };
        count += 1;
        if count > limits.max_entries {
            problems.push(Problem::new("bundle", "", msg!("too_many_entries", max = limits.max_entries)));
            return Err(problems);
        }
        let raw = entry.path().map(|p| p.into_owned()).unwrap_or_default();
        let shown = raw.display().to_string();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        let safe = !raw.as_os_str().is_empty()
            && raw.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !safe {
            problems.push(Problem::new(shown, "", msg!("unsafe_path")));
            continue;
        }
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            problems.push(Problem::new(shown, "", msg!("files_and_folders_only")));
            continue;
        }
        total += entry.size();
        if total > limits.max_bytes {
            problems.push(Problem::new("bundle", "", msg!("unpacks_too_big", max = limits.max_bytes)));
            return Err(problems);
        }
        let target = dest.join(&raw);
        if let Some(Err(e)) = target.parent().map(std::fs::create_dir_all) {
            problems.push(Problem::new(shown, "", msg!("cannot_unpack", error = e)));
            continue;
        }
        let mut out = match std::fs::File::create(&target) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::new(shown, "", msg!("cannot_unpack", error = e)));
                continue;
            }
        };
        if let Err(e) = std::io::copy(&mut entry, &mut out) {
            problems.push(Problem::new(shown, "", msg!("corrupt", error = e)));
            return Err(problems);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if count == 0 {
        return Err(vec![Problem::new("bundle", "", msg!("archive_empty"))]);
    }
    if dest.join("task.toml").is_file() {
        return Ok(dest.to_owned());
    }
    let dirs: Vec<PathBuf> = std::fs::read_dir(dest)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    match dirs.as_slice() {
        [only] if only.join("task.toml").is_file() => Ok(only.clone()),
        _ => Err(vec![Problem::new("task.toml", "", msg!("toml_not_found"))]),
    }
}

/// Packs a bundle folder into an in-memory `.tar.gz` (for tests and the CLI).
pub fn pack_dir(dir: &Path) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()?.finish()
}

/// Public files of a spec, sorted, for listings (path → size).
pub fn public_listing(files: &[BundleFile]) -> BTreeMap<String, u64> {
    files.iter().filter(|f| f.visibility == Visibility::Public).map(|f| (f.path.clone(), f.size)).collect()
}

impl TaskSpec {
    /// The submission layout of the task.
    pub fn format(&self) -> crate::scoring::solution::Format {
        crate::scoring::solution::Format {
            metric: self.metric.name,
            k: self.metric.k,
            id_column: self.data.id_column.clone(),
            target: self.data.target_columns.first().cloned().unwrap_or_default(),
            classes: self.data.classes.clone(),
        }
    }
}

/// The parsed spec of a stored task.
pub fn spec_of(row: &crate::db::tasks::TaskRow) -> Result<TaskSpec, AppError> {
    use anyhow::Context;
    serde_json::from_str(&row.spec)
        .with_context(|| format!("task {} has an unreadable spec", row.slug))
        .map_err(AppError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(slug: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks").join(slug)
    }

    #[test]
    fn the_demo_bundles_are_valid() {
        for slug in ["digits", "breast-cancer", "diabetes"] {
            let b = load_dir(&demo(slug)).unwrap_or_else(|p| panic!("{slug}: {p:?}"));
            assert_eq!(b.spec.slug, slug);
            assert!(b.files.iter().any(|f| f.path == HIDDEN_LABELS && f.visibility == Visibility::Hidden));
            assert!(b.files.iter().any(|f| f.path == "train.csv" && f.visibility == Visibility::Public));
        }
        let digits = load_dir(&demo("digits")).unwrap();
        // Each demo ships its Korean title, summary and statement.
        assert_eq!(digits.spec.i18n["ko"].title, "손글씨 숫자");
        assert!(digits.statements["ko"].starts_with("# 손글씨 숫자"));
        assert_eq!(digits.spec.data.feature_columns.len(), 64);
        assert_eq!(digits.spec.data.input_shape, vec![1, 8, 8]);
        assert_eq!(digits.spec.data.test_rows, 539);
    }

    #[test]
    fn every_problem_in_task_toml_is_reported_at_once() {
        let text = r#"
            slug = "Bad Slug"
            title = "t"
            colour = "red"
            [metric]
            name = "f1"
            [schedule]
            opens = 2027-01-01T00:00:00Z
            closes = 2026-01-01T00:00:00Z
            [split]
            public_fraction = 1.5
        "#;
        let mut problems = Vec::new();
        parse_spec(text, &mut problems);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in [
            "colour",
            "slug",
            "summary",
            "metric.name",
            "data.target_columns",
            "schedule.closes",
            "split.public_fraction",
        ] {
            assert!(fields.contains(&f), "{f} not reported in {problems:?}");
        }
        // Each problem reads in English and in Korean.
        let fraction = problems.iter().find(|p| p.field == "split.public_fraction").unwrap();
        assert_eq!(fraction.to_string(), "task.toml [split.public_fraction]: 1.5 must be strictly between 0 and 1");
        let ko = fraction.render(crate::messages::Lang::Ko);
        assert_eq!(ko, "task.toml [split.public_fraction]: 1.5은(는) 0과 1 사이(양 끝 제외)여야 합니다");
        assert!(problems.iter().all(|p| p.message.key().is_some()), "every task.toml problem has Korean: {problems:?}");
    }

    #[test]
    fn a_malformed_translation_is_a_problem_like_any_other() {
        let base = "slug = \"tt\"\ntitle = \"T\"\nsummary = \"S\"\n[metric]\nname = \"accuracy\"\n\
                    [data]\ntarget_columns = [\"y\"]\nclasses = [\"a\", \"b\"]\n\
                    [schedule]\nopens = 2026-01-01T00:00:00Z\ncloses = 2027-01-01T00:00:00Z\n";
        let fields = |extra: &str| {
            let mut problems = Vec::new();
            let spec = parse_spec(&format!("{base}{extra}"), &mut problems).unwrap();
            (spec, problems.iter().map(|p| (p.field.clone(), p.message.to_string())).collect::<Vec<_>>())
        };
        let (spec, problems) = fields("[i18n.ko]\ntitle = \"제목\"\nsummary = \"요약\"\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(spec.i18n["ko"], Translation { title: "제목".into(), summary: "요약".into() });
        let (_, problems) = fields("[i18n.ko]\ntitle = \"제목\"\ncolour = 1\n[i18n.fr]\ntitle = \"Titre\"\n");
        let named: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(named, ["i18n.fr", "i18n.ko.colour", "i18n.ko.summary"], "{problems:?}");
        assert!(problems[0].1.contains("no translation into \"fr\""), "{problems:?}");
        let mut problems = Vec::new();
        parse_spec(&format!("i18n = \"ko\"\n{base}"), &mut problems);
        assert_eq!(problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(), ["i18n"], "{problems:?}");

        // The device a task's models need: any, cuda, nothing else.
        let (spec, problems) = fields("[budget]\ndevice = \"cuda\"\n");
        assert!(problems.is_empty() && spec.budget.device == DeviceNeed::Cuda, "{problems:?}");
        let (_, problems) = fields("[budget]\ndevice = \"tpu\"\n");
        assert_eq!(problems[0].0, "budget.device", "{problems:?}");

        // README.<code>.md: only Korean, and not empty.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README.ko.md"), "  \n").unwrap();
        std::fs::write(dir.path().join("README.fr.md"), "# Titre").unwrap();
        let mut problems = Vec::new();
        assert!(translated_statements(dir.path(), &mut problems).is_empty());
        let mut files: Vec<String> = problems.iter().map(|p| p.file.clone()).collect();
        files.sort();
        assert_eq!(files, ["README.fr.md", "README.ko.md"], "{problems:?}");
    }

    #[test]
    fn a_toml_syntax_error_names_the_line() {
        let mut problems = Vec::new();
        assert!(parse_spec("slug = \"a\"\ntitle = \n", &mut problems).is_none());
        assert!(problems[0].message.to_string().starts_with("line 2"), "{problems:?}");
    }

    #[test]
    fn slugs() {
        assert!(valid_slug("digits"));
        assert!(valid_slug("breast-cancer-2"));
        assert!(!valid_slug("-x"));
        assert!(!valid_slug("A"));
        assert!(!valid_slug("a/b"));
    }

    #[test]
    fn a_packed_demo_bundle_unpacks_to_the_same_bundle() {
        let bytes = pack_dir(&demo("diabetes")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let limits = UnpackLimits { max_bytes: 1 << 30, max_entries: 1000 };
        let root = unpack_tarball(&bytes[..], tmp.path(), limits).unwrap();
        let mut b = load_dir(&root).unwrap();
        let again = load_dir(&demo("diabetes")).unwrap();
        assert_ne!(b.spec.split.seed, again.spec.split.seed, "no seed in the bundle: one is drawn per import");
        b.spec.split.seed = again.spec.split.seed;
        assert_eq!(b.spec, again.spec);
    }

    fn tar_with(path: &str, kind: tar::EntryType, data: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        // Write the raw name so that unsafe paths survive `set_path`'s checks.
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(data.len() as u64);
        header.set_entry_type(kind);
        if kind.is_symlink() {
            header.set_link_name("/etc/passwd").unwrap();
        }
        header.set_cksum();
        builder.append(&header, data).unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn unsafe_archive_entries_are_refused() {
        let limits = UnpackLimits { max_bytes: 1 << 20, max_entries: 100 };
        for (path, kind) in [
            ("../escape.txt", tar::EntryType::Regular),
            ("/etc/owned", tar::EntryType::Regular),
            ("a/../../x", tar::EntryType::Regular),
            ("link", tar::EntryType::Symlink),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let err = unpack_tarball(&tar_with(path, kind, b"x")[..], tmp.path(), limits).unwrap_err();
            assert!(!err.is_empty(), "{path}");
            assert!(!tmp.path().parent().unwrap().join("escape.txt").exists());
        }
        let tmp = tempfile::tempdir().unwrap();
        let big = vec![b'x'; 2 << 20];
        let err = unpack_tarball(&tar_with("big", tar::EntryType::Regular, &big)[..], tmp.path(), limits).unwrap_err();
        assert!(err[0].message.to_string().contains("more than"), "{err:?}");
        let err = unpack_tarball(&b"not a tarball at all"[..], tmp.path(), limits).unwrap_err();
        assert!(!err.is_empty());
    }
}
