//! Solutions (the hidden labels, aligned by id) and submissions (a CSV of
//! predictions, validated and aligned to the same rows).
//!
//! [`Format`] says what a submission for a task looks like: `id,<target>`
//! (a class label, a number, a score, a probability or space-separated
//! items), or `id,<class_1>,…,<class_k>` (one probability or score column per
//! class, for multiclass `log_loss` and `roc_auc`). [`Solution::parse`] loads
//! labels once; [`Solution::parse_submission`] checks a submission in one
//! streaming pass (no per-row allocation for numeric and class columns) and
//! reports every problem at once, capped, naming rows and ids — but never a
//! correct value. [`Solution::score`] scores a subset of rows.

use std::hash::BuildHasher;
use std::path::Path;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::error::Problem;
use crate::messages::Msg;
use crate::msg;
use crate::scoring::MetricKind;
use crate::scoring::metrics::{self, MetricError};
use crate::scoring::records::{
    NumberedRows, Part, Record, Records, Values, canonical_int, read_in_parallel, split_file,
};
use crate::scoring::resample::{Auc, Confusion, ConfusionMetric, Spearman, TieInput};
use crate::ties::Means;

/// At most this many problems are listed for one submission.
pub const MAX_PROBLEMS: usize = 20;

/// The layout of submissions for a task.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    /// The metric.
    pub metric: MetricKind,
    /// K for `map_at_k`.
    pub k: Option<u32>,
    /// The id column.
    pub id_column: String,
    /// The target column of the solution (and of one-column submissions).
    pub target: String,
    /// The task's classes, in order; for binary tasks the second is positive.
    pub classes: Option<Vec<String>>,
}

impl Format {
    /// Whether submissions carry one column per class.
    pub fn per_class_columns(&self) -> bool {
        matches!(self.metric, MetricKind::LogLoss | MetricKind::RocAuc) && self.class_count() > 2
    }

    /// How many classes the task has (0 for regression).
    pub fn class_count(&self) -> usize {
        self.classes.as_ref().map_or(0, Vec::len)
    }

    /// The columns a submission must have, in the canonical order.
    pub fn columns(&self) -> Vec<String> {
        let mut cols = vec![self.id_column.clone()];
        match (&self.classes, self.per_class_columns()) {
            (Some(classes), true) => cols.extend(classes.iter().cloned()),
            _ => cols.push(self.target.clone()),
        }
        cols
    }

    /// What one prediction cell holds, for messages.
    pub fn describe(&self) -> String {
        match self.metric {
            MetricKind::Accuracy | MetricKind::BalancedAccuracy | MetricKind::MacroF1 | MetricKind::MeanIou => {
                "a class label".into()
            }
            MetricKind::RocAuc if !self.per_class_columns() => "a finite score (larger = more likely positive)".into(),
            MetricKind::RocAuc => "one finite score per class".into(),
            MetricKind::LogLoss if !self.per_class_columns() => "the probability of the positive class, 0 to 1".into(),
            MetricKind::LogLoss => "one probability per class, 0 to 1".into(),
            MetricKind::MapAtK => format!("up to {} space-separated items, best first", self.k.unwrap_or(1)),
            _ => "a finite number".into(),
        }
    }
}

/// Ids in one buffer with an index: nothing but the first id when the ids
/// are canonical integers counted up in order (the commonest file), a
/// direct table when they are smallish canonical integers (no hashing,
/// sequential memory), a hash table otherwise. One allocation for all ids
/// either way.
#[derive(Debug, Clone)]
struct IdIndex {
    /// While every id so far is a canonical integer one more than the one
    /// before (the commonest file): the first id and how many, and nothing
    /// in `text`, `ends` or `ints`, which are filled in only if that stops.
    counted: Option<Counted>,
    text: String,
    ends: Vec<u32>,
    /// Until the lookup is built, each id as a number while every id so
    /// far is a canonical integer of 32 bits: read on every core as the
    /// ids are pushed, so that building the table reads no text.
    ints: Option<Vec<u32>>,
    /// The largest of `ints`.
    max_int: u32,
    lookup: Lookup,
}

impl Default for IdIndex {
    fn default() -> Self {
        Self::with_capacity(0, 0)
    }
}

#[derive(Debug, Clone, Default)]
enum Lookup {
    /// Not built yet.
    #[default]
    None,
    /// Row `r` is the id `first + r` (ids counted up from `first` in
    /// order, the commonest file): no table at all.
    Sequence(u64),
    /// `table[id] = row + 1`, 0 when absent.
    Dense(Vec<u32>),
    /// Rows by the hash of their id.
    Hash(HashTable<u32>, DefaultHashBuilder),
}

/// Ids `first`, `first + 1`, … : `len` of them.
#[derive(Debug, Clone, Copy, Default)]
struct Counted {
    first: u64,
    len: usize,
}

impl Counted {
    /// Takes `more` on if its ids come next (or this holds none yet);
    /// whether it did.
    #[inline]
    fn join(&mut self, more: Counted) -> bool {
        if self.len == 0 {
            *self = more;
        } else if more.first.checked_sub(self.first) == Some(self.len as u64) {
            self.len += more.len;
        } else {
            return false;
        }
        true
    }
}

/// An id's text: in the index, or written out from its number.
pub enum IdText<'a> {
    Text(&'a str),
    /// Digits right-aligned in the buffer, from `start`.
    Number([u8; 20], usize),
}

impl IdText<'_> {
    fn number(n: u64) -> Self {
        let (mut digits, mut start, mut n) = ([0u8; 20], 20, n);
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return IdText::Number(digits, start);
            }
        }
    }
}

impl std::ops::Deref for IdText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            IdText::Text(s) => s,
            // ASCII digits: always UTF-8.
            IdText::Number(digits, start) => std::str::from_utf8(&digits[*start..]).unwrap_or_default(),
        }
    }
}

impl std::fmt::Debug for IdText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl IdIndex {
    /// An empty index with room for about `rows` ids of `bytes` total length.
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        Self {
            counted: Some(Counted::default()),
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(rows),
            ints: Some(Vec::with_capacity(rows)),
            max_int: 0,
            lookup: Lookup::None,
        }
    }

    fn len(&self) -> usize {
        self.counted.map_or(self.ends.len(), |c| c.len)
    }

    fn get(&self, row: u32) -> IdText<'_> {
        match self.counted {
            Some(c) => IdText::number(c.first + u64::from(row)),
            None => IdText::Text(self.written(row)),
        }
    }

    /// The id of `row` once written out (not counted).
    fn written(&self, row: u32) -> &str {
        let start = if row == 0 { 0 } else { self.ends[row as usize - 1] as usize };
        &self.text[start..self.ends[row as usize] as usize]
    }

    /// Writes out the counted ids, which stop being counted.
    fn write_out(&mut self) {
        let Some(c) = self.counted.take() else { return };
        for id in c.first..c.first + c.len as u64 {
            self.push(&IdText::number(id));
        }
    }

    /// Appends every id of `other` (before [`IdIndex::build`]).
    fn append(&mut self, other: &IdIndex) {
        if other.len() == 0 {
            return;
        }
        if let (Some(c), Some(more)) = (&mut self.counted, other.counted)
            && c.join(more)
        {
            return;
        }
        self.write_out();
        if other.counted.is_some() {
            (0..other.len() as u32).for_each(|row| self.push(&other.get(row)));
            return;
        }
        let base = self.text.len() as u32;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|e| e + base));
        match (&mut self.ints, &other.ints) {
            (Some(ints), Some(more)) => ints.extend_from_slice(more),
            _ => self.ints = None,
        }
        self.max_int = self.max_int.max(other.max_int);
    }

    /// Appends an id (call [`IdIndex::build`] once all are in).
    fn push(&mut self, id: &str) {
        if let Some(c) = &mut self.counted {
            if let Some(first) = canonical_int(id)
                && c.join(Counted { first, len: 1 })
            {
                return;
            }
            self.write_out();
        }
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
        if let Some(ints) = &mut self.ints {
            match canonical_int(id).and_then(|i| u32::try_from(i).ok()) {
                Some(i) => {
                    ints.push(i);
                    self.max_int = self.max_int.max(i);
                }
                None => self.ints = None,
            }
        }
    }

    /// Builds the lookup; on a duplicate id, the later row of the pair.
    fn build(&mut self) -> Result<(), u32> {
        match self.counted {
            Some(c) if c.len > 0 => {
                self.lookup = Lookup::Sequence(c.first);
                return Ok(());
            }
            _ => self.write_out(),
        }
        // Ids that count up never leave `counted`, so what is written out
        // is a table's or a hash's.
        let n = self.len();
        if let Some(ints) = self.ints.take().filter(|_| u64::from(self.max_int) <= 4 * n as u64 + 1024) {
            let mut table = vec![0u32; self.max_int as usize + 1];
            for (row, &id) in ints.iter().enumerate() {
                if std::mem::replace(&mut table[id as usize], row as u32 + 1) != 0 {
                    return Err(row as u32);
                }
            }
            self.lookup = Lookup::Dense(table);
            return Ok(());
        }
        let hasher = DefaultHashBuilder::default();
        let mut table = HashTable::with_capacity(n);
        for row in 0..n as u32 {
            let id = self.written(row);
            let h = hasher.hash_one(id);
            match table.entry(h, |&r| self.written(r) == id, |&r| hasher.hash_one(self.written(r))) {
                hashbrown::hash_table::Entry::Occupied(_) => return Err(row),
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(row);
                }
            }
        }
        self.lookup = Lookup::Hash(table, hasher);
        Ok(())
    }

    fn find(&self, id: &str) -> Option<u32> {
        match &self.lookup {
            Lookup::None => None,
            Lookup::Sequence(_) | Lookup::Dense(_) => self.find_number(canonical_int(id)?),
            Lookup::Hash(table, hasher) => table.find(hasher.hash_one(id), |&r| self.written(r) == id).copied(),
        }
    }

    /// [`IdIndex::find`] for the id `n` writes canonically, without its text
    /// where the lookup is by number.
    #[inline]
    fn find_number(&self, n: u64) -> Option<u32> {
        match &self.lookup {
            Lookup::None => None,
            Lookup::Sequence(first) => {
                let row = n.checked_sub(*first)?;
                (row < self.len() as u64).then_some(row as u32)
            }
            Lookup::Dense(table) => {
                let i = usize::try_from(n).ok()?;
                table.get(i).copied().filter(|&r| r != 0).map(|r| r - 1)
            }
            Lookup::Hash(..) => self.find(&IdText::number(n)),
        }
    }

    /// Appends the id `n` writes canonically, as [`IdIndex::push`] does
    /// its text.
    #[inline]
    fn push_number(&mut self, n: u64) {
        if let Some(c) = &mut self.counted
            && c.join(Counted { first: n, len: 1 })
        {
            return;
        }
        self.push(&IdText::number(n));
    }
}

/// The true values, by row.
#[derive(Debug, Clone)]
enum Truth {
    Classes(Vec<u32>),
    Values(Vec<f64>),
    Items(Vec<Vec<Box<str>>>),
}

impl Truth {
    /// No rows yet, room for `rows`, of the kind `format`'s labels are.
    fn empty(format: &Format, rows: usize) -> Self {
        match (&format.classes, format.metric) {
            (_, MetricKind::MapAtK) => Truth::Items(Vec::with_capacity(rows)),
            (Some(_), m) if m.needs_classes() => Truth::Classes(Vec::with_capacity(rows)),
            _ => Truth::Values(Vec::with_capacity(rows)),
        }
    }

    /// Appends `other`'s rows (of the same kind).
    fn append(&mut self, other: Truth) {
        match (self, other) {
            (Truth::Classes(a), Truth::Classes(b)) => a.extend(b),
            (Truth::Values(a), Truth::Values(b)) => a.extend(b),
            (Truth::Items(a), Truth::Items(b)) => a.extend(b),
            _ => unreachable!("parts of one solution have one kind"),
        }
    }
}

/// A submission's predictions, aligned to the solution's rows.
#[derive(Debug, Clone)]
pub enum Predictions {
    /// A class index per row.
    Classes(Vec<u32>),
    /// One number per row (regression value, binary score or probability).
    Values(Vec<f64>),
    /// `n × k` scores or probabilities, row-major.
    PerClass(Vec<f64>),
    /// Ranked items per row.
    Items(Vec<Vec<Box<str>>>),
}

/// The hidden labels of a task, ready to score against.
#[derive(Debug, Clone)]
pub struct Solution {
    /// The submission layout.
    pub format: Format,
    ids: IdIndex,
    truth: Truth,
}

/// Why a solution file could not be loaded (a platform problem: never shown
/// to competitors, and never containing a label).
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid solution: {0}")]
pub struct SolutionError(pub String);

/// Class names to their index: a table for the usual small integer labels
/// ("0".."9"), a search otherwise.
struct ClassIndex<'c> {
    names: &'c [String],
    /// `digits[n]` is the index of the class written as the integer `n`.
    digits: Vec<Option<u32>>,
}

impl<'c> ClassIndex<'c> {
    fn new(names: &'c [String]) -> Self {
        let mut digits = vec![None; 256];
        for (i, name) in names.iter().enumerate() {
            if let Some(n) = canonical_int(name).filter(|&n| n < 256) {
                digits[n as usize] = Some(i as u32);
            }
        }
        Self { names, digits }
    }

    /// [`ClassIndex::find`] of the text in `rec`'s column `col`; a digit
    /// alone is found by itself, without its text.
    #[inline]
    fn find_field(&self, rec: &Record<'_>, col: usize) -> Option<u32> {
        match rec.get(col) {
            [byte] => self.find_byte(*byte),
            _ => self.find(rec.text(col)?),
        }
    }

    /// [`ClassIndex::find_field`] of a field that is the one byte `byte`.
    #[inline]
    fn find_byte(&self, byte: u8) -> Option<u32> {
        if byte.is_ascii_digit() {
            return self.digits[usize::from(byte - b'0')];
        }
        self.find(std::str::from_utf8(&[byte]).ok()?.trim())
    }

    fn find(&self, cell: &str) -> Option<u32> {
        if let Some(n) = canonical_int(cell).filter(|&n| n < 256) {
            return self.digits[n as usize];
        }
        self.names.iter().position(|c| c == cell).map(|i| i as u32)
    }
}

fn parse_finite(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn split_items(cell: &str) -> Vec<Box<str>> {
    cell.split_whitespace().map(Box::from).collect()
}

impl Solution {
    /// Loads a solution CSV (`id,<target>`).
    pub fn parse(format: Format, bytes: &[u8]) -> Result<Self, SolutionError> {
        let mut records = Records::new(bytes);
        let columns = Columns::of(&format, records.next_record())?;
        // A big plain file is read on every core, a part each; any error
        // there, and it is read again in one piece for the exact row to report.
        let parallel = records.split_rest().and_then(|parts| read_parts(&format, columns, parts));
        let (ids, truth) = match parallel {
            Some(done) => done,
            None => {
                let lines = memchr::memchr_iter(b'\n', bytes).count();
                let mut ids = IdIndex::with_capacity(lines, bytes.len() / 2);
                let mut truth = Truth::empty(&format, lines);
                let classes = ClassIndex::new(format.classes.as_deref().unwrap_or_default());
                let mut line = 1;
                while let Some(rec) = records.next_record() {
                    let rec = rec.map_err(|e| SolutionError(format!("row {}: {e}", line + 1)))?;
                    line += 1;
                    read_row(&rec, line, columns, &classes, &mut ids, &mut truth)?;
                }
                (ids, truth)
            }
        };
        Self::from_rows(format, ids, truth)
    }

    /// Loads a solution CSV from a file: a large plain file is read on
    /// every core a chunk at a time, never whole; any other file is read
    /// whole and parsed as [`Solution::parse`] does.
    pub fn parse_file(format: Format, path: &Path) -> Result<Self, SolutionError> {
        let unreadable = |e: std::io::Error| SolutionError(format!("reading {}: {e}", path.display()));
        if let Some((header, parts)) = split_file(path).map_err(unreadable)? {
            let columns = Columns::of(&format, Records::new(&header).next_record())?;
            if let Some((ids, truth)) = read_parts(&format, columns, parts) {
                return Self::from_rows(format, ids, truth);
            }
        }
        Self::parse(format, &std::fs::read(path).map_err(unreadable)?)
    }

    /// Loads a solution file whose classes are not given: its distinct
    /// labels become the classes, sorted (numerically when every one is a
    /// number), and `format.classes` is set to them. A large plain file is
    /// read once, on every core, each core keeping its own short list of
    /// labels; any other file is read whole, its labels found, then parsed.
    pub fn parse_file_finding_classes(mut format: Format, path: &Path) -> Result<Self, SolutionError> {
        let unreadable = |e: std::io::Error| SolutionError(format!("reading {}: {e}", path.display()));
        if let Some((header, parts)) = split_file(path).map_err(unreadable)? {
            let columns = Columns::of(&format, Records::new(&header).next_record())?;
            if let Some((ids, classes, y)) = read_parts_finding_classes(columns, parts) {
                format.classes = Some(classes);
                return Self::from_rows(format, ids, Truth::Classes(y));
            }
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        format.classes = Some(distinct_labels(&bytes, &format)?);
        Self::parse(format, &bytes)
    }

    /// A solution of the rows read; the ids must be distinct.
    fn from_rows(format: Format, mut ids: IdIndex, truth: Truth) -> Result<Self, SolutionError> {
        if ids.len() == 0 {
            return Err(SolutionError("no rows".into()));
        }
        if let Err(row) = ids.build() {
            return Err(SolutionError(format!("row {}: duplicate id {:?}", row + 2, ids.get(row))));
        }
        Ok(Self { format, ids, truth })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows (never true for a loaded solution).
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// The id of row `row`.
    pub fn id(&self, row: u32) -> IdText<'_> {
        self.ids.get(row)
    }

    /// Whether `other` has exactly the same ids (in any order).
    pub fn same_ids(&self, other: &Solution) -> bool {
        self.len() == other.len() && (0..self.len() as u32).all(|r| other.ids.find(&self.id(r)).is_some())
    }

    /// Rows whose seeded hash puts them on the public board.
    pub fn public_mask(&self, seed: u64, fraction: f64) -> Vec<bool> {
        (0..self.len() as u32).map(|r| super::split::is_public(seed, fraction, &self.id(r))).collect()
    }

    /// Checks a submission and aligns it to this solution's rows; on
    /// failure, every problem found (capped at [`MAX_PROBLEMS`]).
    pub fn parse_submission(&self, bytes: &[u8]) -> Result<Predictions, Vec<Problem>> {
        let mut records = Records::new(bytes);
        let layout = self.submission_layout(records.next_record())?;
        if let Some(parts) = records.split_rest()
            && let Some(preds) = self.clean_in_parallel(parts, &layout)
        {
            return Ok(preds);
        }
        self.read_submission(records, &layout)
    }

    /// [`Solution::parse_submission`] of a file: a large plain file is read
    /// on every core a chunk at a time, never whole; a file with any
    /// problem (or a small or unusual one) is read whole and checked one row
    /// at a time, so its problems read exactly the same.
    pub fn parse_submission_file(&self, path: &Path) -> std::io::Result<Result<Predictions, Vec<Problem>>> {
        let tried = match split_file(path)? {
            Some((header, parts)) => {
                if let Ok(layout) = self.submission_layout(Records::new(&header).next_record())
                    && let Some(preds) = self.clean_in_parallel(parts, &layout)
                {
                    return Ok(Ok(preds));
                }
                true
            }
            None => false,
        };
        let bytes = std::fs::read(path)?;
        if !tried {
            return Ok(self.parse_submission(&bytes));
        }
        // Already read in parts once: straight to the check row by row.
        let mut records = Records::new(&bytes);
        Ok(self.submission_layout(records.next_record()).and_then(|layout| self.read_submission(records, &layout)))
    }

    /// Where a submission's columns are, from its header record; or what is
    /// wrong with the header.
    fn submission_layout(&self, header: Option<Result<Record<'_>, String>>) -> Result<Layout, Vec<Problem>> {
        let header: Vec<String> = match header {
            Some(Ok(h)) => match h.column_names() {
                Some(h) => h,
                None => {
                    let error = "the header is not UTF-8";
                    return Err(vec![Problem::new("submission", "header", msg!("csv_unreadable", error = error))]);
                }
            },
            Some(Err(e)) => return Err(vec![Problem::new("submission", "header", msg!("csv_unreadable", error = e))]),
            None => Vec::new(),
        };
        let expected = self.format.columns();
        let missing: Vec<&String> = expected.iter().filter(|c| !header.contains(c)).collect();
        let extra: Vec<&String> = header.iter().filter(|c| !expected.contains(c)).collect();
        let mut seen_cols = std::collections::HashSet::new();
        let dup_cols: Vec<&String> = header.iter().filter(|c| !seen_cols.insert(c.as_str())).collect();
        if !missing.is_empty() || !extra.is_empty() || !dup_cols.is_empty() || header.is_empty() {
            let mut parts = vec![msg!("header_must_be", columns = expected.join(","))];
            if !missing.is_empty() {
                parts.push(msg!("header_missing", columns = quote_list(&missing)));
            }
            if !extra.is_empty() {
                parts.push(msg!("header_unexpected", columns = quote_list(&extra)));
            }
            if !dup_cols.is_empty() {
                parts.push(msg!("header_repeated", columns = quote_list(&dup_cols)));
            }
            return Err(vec![Problem::new("submission", "header", Msg::List(parts))]);
        }
        let id_idx = header.iter().position(|h| *h == self.format.id_column).unwrap_or(0);
        let value_idx: Vec<usize> =
            expected[1..].iter().map(|c| header.iter().position(|h| h == c).unwrap_or(0)).collect();
        Ok(Layout { header, id: id_idx, values: value_idx })
    }

    /// What a submission's predictions are, for this solution.
    fn prediction_kind(&self) -> PredictionKind {
        match (&self.truth, self.format.per_class_columns()) {
            (_, true) => PredictionKind::PerClass,
            (Truth::Classes(_), false) if !matches!(self.format.metric, MetricKind::RocAuc | MetricKind::LogLoss) => {
                PredictionKind::Classes
            }
            (Truth::Items(_), _) => PredictionKind::Items,
            _ => PredictionKind::Values,
        }
    }

    /// Reads a submission's rows after its header one at a time, noting
    /// every problem.
    fn read_submission(&self, mut records: Records<'_>, layout: &Layout) -> Result<Predictions, Vec<Problem>> {
        let Layout { header, id: id_idx, values: value_idx } = layout;
        let id_idx = *id_idx;
        let mut problems = Problems::default();
        let n = self.len();
        let k = value_idx.len();
        let mut seen = vec![false; n];
        let mut preds = match self.prediction_kind() {
            PredictionKind::PerClass => Predictions::PerClass(vec![0.0; n * k]),
            PredictionKind::Classes => Predictions::Classes(vec![0; n]),
            PredictionKind::Items => Predictions::Items(vec![Vec::new(); n]),
            PredictionKind::Values => Predictions::Values(vec![0.0; n]),
        };
        let probability = self.format.metric == MetricKind::LogLoss;
        let class_names = self.format.classes.as_deref().unwrap_or_default();
        let classes = ClassIndex::new(class_names);
        let (mut unknown, mut unknown_examples) = (0usize, Vec::new());
        let mut line = 1usize;
        let mut next_guess = 0u32;
        while let Some(rec) = records.next_record() {
            let rec = match rec {
                Ok(rec) => rec,
                Err(e) => {
                    problems.push(format!("row {}", line + 1), msg!("row_unreadable", error = e));
                    break;
                }
            };
            line += 1;
            let row_name = || format!("row {line}");
            if rec.len() != header.len() {
                problems.push(row_name(), msg!("field_count", got = rec.len(), want = header.len()));
                continue;
            }
            let Some(id) = rec.text(id_idx) else {
                problems.push(row_name(), msg!("id_not_utf8"));
                continue;
            };
            // Rows usually come in the solution's order: try the next row
            // first, which reads memory sequentially instead of hashing.
            let Some(row) = self.row_of(id, next_guess) else {
                unknown += 1;
                if unknown_examples.len() < 5 {
                    unknown_examples.push(format!("{id:?} (row {line})"));
                }
                continue;
            };
            next_guess = row + 1;
            let row = row as usize;
            if std::mem::replace(&mut seen[row], true) {
                problems.push(row_name(), msg!("duplicate_id", id = format!("{id:?}")));
                continue;
            }
            for (j, &col) in value_idx.iter().enumerate() {
                if let Predictions::Values(v) | Predictions::PerClass(v) = &mut preds
                    && let Some(x) = rec.finite(col)
                    && (!probability || (0.0..=1.0).contains(&x))
                {
                    v[row * k + j] = x;
                    continue;
                }
                let Some(cell) = rec.text(col) else {
                    problems.push(row_name(), msg!("cell_not_utf8", column = &header[col]));
                    continue;
                };
                // `why` stays a message, so it renders in the reader's language.
                let bad = |why: Msg| {
                    let (column, cell) = (Msg::from(header[col].as_str()), Msg::Text(format!("{cell:?}")));
                    Msg::Key("bad_cell", vec![("column", column), ("cell", cell), ("why", why)])
                };
                match &mut preds {
                    Predictions::Classes(v) => match classes.find(cell) {
                        Some(c) => v[row] = c,
                        None => problems.push(row_name(), bad(msg!("not_a_class", classes = short_list(class_names)))),
                    },
                    Predictions::Values(v) | Predictions::PerClass(v) => match parse_finite(cell) {
                        Some(x) if probability && !(0.0..=1.0).contains(&x) => {
                            problems.push(row_name(), bad(msg!("not_a_probability")))
                        }
                        Some(x) => v[row * k + j] = x,
                        None => problems.push(row_name(), bad(msg!("not_finite"))),
                    },
                    Predictions::Items(v) => v[row] = split_items(cell),
                }
            }
        }
        if line == 1 {
            problems.push("rows".into(), msg!("no_rows"));
        }
        if unknown > 0 {
            problems.push("id".into(), msg!("unknown_ids", count = unknown, examples = unknown_examples.join(", ")));
        }
        let missing = seen.iter().filter(|s| !**s).count();
        if missing > 0 && line > 1 {
            let examples: Vec<String> = seen
                .iter()
                .enumerate()
                .filter(|(_, s)| !**s)
                .take(5)
                .map(|(r, _)| format!("{:?}", self.id(r as u32)))
                .collect();
            problems.push("id".into(), msg!("missing_ids", count = missing, examples = examples.join(", ")));
        }
        problems.into_result(preds)
    }

    /// The row of `id`, trying `guess` first: rows usually come in the
    /// solution's order, and the next row reads memory sequentially instead
    /// of hashing.
    fn row_of(&self, id: &str, guess: u32) -> Option<u32> {
        if matches!(self.ids.lookup, Lookup::Sequence(_)) || (guess as usize) >= self.len() || *self.id(guess) != *id {
            return self.ids.find(id);
        }
        Some(guess)
    }

    /// [`Solution::row_of`] the id in `rec`'s column `col`.
    #[inline]
    fn row_of_field(&self, rec: &Record<'_>, col: usize, guess: u32) -> Option<u32> {
        match rec.number(col) {
            Some(n) => self.row_of_number(n, guess),
            None => self.row_of(rec.text(col)?, guess),
        }
    }

    /// [`Solution::row_of`] the id that `n` writes canonically.
    #[inline]
    fn row_of_number(&self, n: u64, guess: u32) -> Option<u32> {
        match self.ids.lookup {
            Lookup::Hash(..) => self.row_of(&IdText::number(n), guess),
            _ => self.ids.find_number(n),
        }
    }

    /// The common case on every core: a large plain file of numbers or
    /// class labels whose every row is well formed, each id known and seen
    /// once. Each thread reads a part; the rows are then placed in order.
    /// Any problem at all gives `None`, and the caller reads the file one
    /// row at a time to report every problem exactly as it always does.
    fn clean_in_parallel(&self, parts: Vec<Part<'_>>, layout: &Layout) -> Option<Predictions> {
        let probability = self.format.metric == MetricKind::LogLoss;
        match self.prediction_kind() {
            PredictionKind::Values | PredictionKind::PerClass => {
                let number = |x: f64| (!probability || (0.0..=1.0).contains(&x)).then_some(x);
                let values = self.place_in_parallel(
                    parts,
                    layout,
                    Values::Numbers,
                    number,
                    |_| None,
                    |rec, col| rec.finite(col).and_then(number),
                )?;
                Some(if self.format.per_class_columns() {
                    Predictions::PerClass(values)
                } else {
                    Predictions::Values(values)
                })
            }
            PredictionKind::Classes => {
                let classes = ClassIndex::new(self.format.classes.as_deref().unwrap_or_default());
                let class = |rec: &Record<'_>, col| classes.find_field(rec, col);
                let byte = |byte| classes.find_byte(byte);
                self.place_in_parallel(parts, layout, Values::Text, |_| None, byte, class).map(Predictions::Classes)
            }
            PredictionKind::Items => None,
        }
    }

    /// Reads `parts` on every core, each cell of the value columns through
    /// `parse` (the record and the column; `cells` says what they hold),
    /// and gives the cells in the solution's row order (`k` per row);
    /// `None` on any problem. A file of two columns, id first, is read with
    /// no record built for a line `<id>,<number>` (cells of numbers) or
    /// `<id>,<one byte>` (cells of text) ([`Part::each_numbered`]), the cell
    /// through `number` or `byte`.
    ///
    /// Each part's first row is looked up before any is read. When they
    /// come in the solution's order (a file in its order, the commonest),
    /// each core writes its part's cells straight into its share of the
    /// predictions, while the rows run on one after another: no part is
    /// joined or copied. Rows past that (out of order, or past the share)
    /// are kept apart and placed after, each checked to be seen once.
    fn place_in_parallel<T: Copy + Default + Send>(
        &self,
        parts: Vec<Part<'_>>,
        layout: &Layout,
        cells: Values,
        number: impl Fn(f64) -> Option<T> + Sync,
        byte: impl Fn(u8) -> Option<T> + Sync,
        parse: impl Fn(&Record<'_>, usize) -> Option<T> + Sync,
    ) -> Option<Vec<T>> {
        let (n, k) = (self.len(), layout.values.len());
        let firsts: Vec<usize> = parts
            .iter()
            .map(|p| p.first_record(|rec| self.row_of_field(&rec, layout.id, 0)).map_or(n, |r| r as usize))
            .collect();
        let in_order = firsts.windows(2).all(|w| w[0] < w[1]) && firsts.last().is_some_and(|&f| f < n);
        let mut values = vec![T::default(); n * k];
        // Each part's first row and its share: up to the next part's first.
        let mut shares: Vec<(usize, &mut [T])> = Vec::with_capacity(parts.len());
        if in_order {
            let mut rest = values.get_mut(firsts[0] * k..)?;
            for (i, &first) in firsts.iter().enumerate() {
                let end = firsts.get(i + 1).copied().unwrap_or(n);
                let (share, after) = std::mem::take(&mut rest).split_at_mut((end - first) * k);
                shares.push((first, share));
                rest = after;
            }
        } else {
            shares.extend(firsts.iter().map(|_| (0, <&mut [T]>::default())));
        }
        let id_then_value = layout.header.len() == 2 && layout.values == [1];
        let read = |(part, (first, share)): (Part<'_>, (usize, &mut [T]))| -> Option<Share<T>> {
            let apart = Placed { first: 0, count: 0, scattered: Vec::new(), values: Vec::new() };
            let mut filling = Filling {
                solution: self,
                layout,
                number: &number,
                byte: &byte,
                parse: &parse,
                first,
                share,
                written: 0,
                apart,
                next_guess: 0,
            };
            if id_then_value {
                part.each_numbered(cells, &mut filling)?;
            } else {
                part.each_record(cells, |rec| filling.record(rec))?;
            }
            Some(Share { first, written: filling.written, apart: filling.apart })
        };
        let parts = read_in_parallel(parts.into_iter().zip(shares).collect(), read)?;
        let in_place: usize = parts.iter().map(|p| p.written).sum();
        let apart: usize = parts.iter().map(|p| p.apart.count).sum();
        if in_place + apart != n {
            return None;
        }
        if apart == 0 {
            return Some(values);
        }
        let mut seen = vec![false; n];
        for p in &parts {
            seen[p.first..p.first + p.written].fill(true);
        }
        for p in parts.iter().map(|p| &p.apart) {
            for i in 0..p.count {
                let row = p.row(i) as usize;
                if std::mem::replace(&mut seen[row], true) {
                    return None;
                }
                values[row * k..(row + 1) * k].copy_from_slice(&p.values[i * k..(i + 1) * k]);
            }
        }
        Some(values)
    }

    /// Predictions equal to the truth (a perfect submission): checks that the
    /// metric is defined on a set of rows, and serves tests.
    pub fn perfect_predictions(&self) -> Predictions {
        let k = self.format.class_count();
        match &self.truth {
            Truth::Classes(y) if self.format.per_class_columns() => {
                let mut p = vec![0.0; y.len() * k];
                for (i, &c) in y.iter().enumerate() {
                    p[i * k + c as usize] = 1.0;
                }
                Predictions::PerClass(p)
            }
            Truth::Classes(y) if matches!(self.format.metric, MetricKind::RocAuc | MetricKind::LogLoss) => {
                Predictions::Values(y.iter().map(|&c| f64::from(c)).collect())
            }
            Truth::Classes(y) => Predictions::Classes(y.clone()),
            Truth::Values(y) => Predictions::Values(y.clone()),
            Truth::Items(y) => Predictions::Items(y.clone()),
        }
    }

    /// Each row's value of a metric that is a mean over rows — its score
    /// over any rows is the mean of theirs (RMSE: the root of the mean) —
    /// or `None` for a metric that is not (ROC AUC, F1, R², …) or
    /// predictions that do not score. RMSE's value is the squared error.
    pub fn per_row(&self, preds: &Predictions, rows: &[u32]) -> Option<Vec<f64>> {
        let m = self.format.metric;
        match (m, &self.truth, preds) {
            (MetricKind::Accuracy, Truth::Classes(y), Predictions::Classes(p)) => {
                Some(rows.iter().map(|&r| if y[r as usize] == p[r as usize] { 1.0 } else { 0.0 }).collect())
            }
            (MetricKind::Mae | MetricKind::Rmse, Truth::Values(y), Predictions::Values(p)) => rows
                .iter()
                .map(|&r| {
                    let e = y[r as usize] - p[r as usize];
                    e.is_finite().then_some(if m == MetricKind::Rmse { e * e } else { e.abs() })
                })
                .collect(),
            (MetricKind::LogLoss | MetricKind::MapAtK, _, _) => {
                rows.iter().map(|&r| self.score(preds, Some(&[r])).ok()).collect()
            }
            _ => None,
        }
    }

    /// The teams' ranking predictions, best first, on `rows`, ready for
    /// the bootstrap of statistical ties (see `ties`); `None` when a team's
    /// predictions do not fit this solution.
    pub fn tie_input(&self, preds: &[Predictions], rows: &[u32]) -> Option<TieInput> {
        let k = self.format.class_count();
        let m = self.format.metric;
        let classes = |p: &Predictions| match p {
            Predictions::Classes(p) => Some(rows.iter().map(|&r| p[r as usize]).collect::<Vec<u32>>()),
            _ => None,
        };
        let values = |p: &Predictions| match p {
            Predictions::Values(p) => Some(rows.iter().map(|&r| p[r as usize]).collect::<Vec<f64>>()),
            _ => None,
        };
        Some(match (m, &self.truth) {
            (
                MetricKind::Accuracy | MetricKind::LogLoss | MetricKind::Mae | MetricKind::MapAtK | MetricKind::Rmse,
                _,
            ) => {
                TieInput::Means(Means {
                    values: preds.iter().map(|p| self.per_row(p, rows)).collect::<Option<_>>()?,
                    shared: Vec::new(),
                    // RMSE's values are squared errors.
                    finish: if m == MetricKind::Rmse { |m, _| m.sqrt() } else { |m, _| m },
                })
            }
            (MetricKind::R2, Truth::Values(y)) => {
                // R² = 1 − mean(e²)/var(y): the team's mean of −e² over the
                // truth's variance, mean(d²) − mean(d)², d = y − ȳ.
                let y: Vec<f64> = rows.iter().map(|&r| y[r as usize]).collect();
                let centre = y.iter().sum::<f64>() / y.len().max(1) as f64;
                let d: Vec<f64> = y.iter().map(|v| v - centre).collect();
                let errors = |p: Vec<f64>| y.iter().zip(p).map(|(y, p)| -(y - p) * (y - p)).collect::<Vec<f64>>();
                TieInput::Means(Means {
                    values: preds.iter().map(|p| values(p).map(errors)).collect::<Option<_>>()?,
                    shared: vec![d.iter().map(|d| d * d).collect(), d],
                    finish: |m, s| {
                        let var = s[0] - s[1] * s[1];
                        if var > 0.0 { 1.0 + m / var } else { f64::NAN }
                    },
                })
            }
            (MetricKind::BalancedAccuracy | MetricKind::MacroF1 | MetricKind::MeanIou, Truth::Classes(y)) => {
                let kind = match m {
                    MetricKind::BalancedAccuracy => ConfusionMetric::BalancedAccuracy,
                    MetricKind::MacroF1 => ConfusionMetric::MacroF1,
                    _ => ConfusionMetric::MeanIou,
                };
                let y = rows.iter().map(|&r| y[r as usize]).collect();
                TieInput::Confusion(Confusion::new(kind, k, y, &preds.iter().map(classes).collect::<Option<Vec<_>>>()?))
            }
            (MetricKind::RocAuc, Truth::Classes(y)) if self.format.per_class_columns() => {
                let y: Vec<u32> = rows.iter().map(|&r| y[r as usize]).collect();
                let scores = |p: &Predictions| match p {
                    Predictions::PerClass(p) => {
                        Some(rows.iter().flat_map(|&r| &p[r as usize * k..(r as usize + 1) * k]).copied().collect())
                    }
                    _ => None,
                };
                TieInput::Auc(Auc::one_vs_rest(&y, k, preds.iter().map(scores).collect::<Option<_>>()?))
            }
            (MetricKind::RocAuc, Truth::Classes(y)) => {
                let positive = rows.iter().map(|&r| y[r as usize] == 1).collect();
                TieInput::Auc(Auc::binary(positive, preds.iter().map(values).collect::<Option<_>>()?))
            }
            (MetricKind::Spearman, Truth::Values(y)) => {
                let y: Vec<f64> = rows.iter().map(|&r| y[r as usize]).collect();
                TieInput::Spearman(Spearman::new(&y, preds.iter().map(values).collect::<Option<_>>()?))
            }
            _ => return None,
        })
    }

    /// Scores `preds` over every row, the predictions handed over: ROC AUC
    /// sorts a score column in its own memory instead of a copy (the
    /// command line's `gaic score`, which reads them for this score alone).
    pub fn score_all(&self, preds: Predictions) -> Result<f64, MetricError> {
        match (&self.truth, preds) {
            (Truth::Classes(y), Predictions::Values(p)) => self.score_one_column(y, p.into()),
            (_, preds) => self.score(&preds, None),
        }
    }

    /// Scores one column `p` (the score or probability of classes[1]) for
    /// the class labels `y`, the rows already chosen; owned scores are
    /// sorted in their own memory.
    fn score_one_column(&self, y: &[u32], p: std::borrow::Cow<'_, [f64]>) -> Result<f64, MetricError> {
        let m = self.format.metric;
        match m {
            MetricKind::RocAuc => metrics::roc_auc_of_class(y, 1, p),
            MetricKind::LogLoss => {
                let positive: Vec<bool> = y.iter().map(|&c| c == 1).collect();
                metrics::log_loss_binary(&positive, &p)
            }
            _ => Err(MetricError(format!("{} cannot score one score column", m.name()))),
        }
    }

    /// Scores `preds` over `rows` (all rows when `None`).
    pub fn score(&self, preds: &Predictions, rows: Option<&[u32]>) -> Result<f64, MetricError> {
        let only = rows;
        let k = self.format.class_count();
        let m = self.format.metric;
        match (&self.truth, preds) {
            (Truth::Classes(y), Predictions::Classes(p)) => {
                let (y, p) = (gather(y, only), gather(p, only));
                let (y, p) = (y.as_ref(), p.as_ref());
                match m {
                    MetricKind::Accuracy => metrics::accuracy(y, p),
                    MetricKind::BalancedAccuracy => metrics::balanced_accuracy(y, p, k),
                    MetricKind::MacroF1 => metrics::macro_f1(y, p, k),
                    MetricKind::MeanIou => metrics::mean_iou(y, p, k),
                    _ => Err(MetricError(format!("{} cannot score class labels", m.name()))),
                }
            }
            (Truth::Classes(y), Predictions::Values(p)) => {
                // Binary: one column, the score or probability of classes[1].
                self.score_one_column(&gather(y, only), gather(p, only))
            }
            (Truth::Classes(y), Predictions::PerClass(p)) => {
                let y = gather(y, only);
                let p: std::borrow::Cow<'_, [f64]> = match only {
                    None => p.into(),
                    Some(rows) => {
                        rows.iter().flat_map(|&r| p[r as usize * k..(r as usize + 1) * k].iter().copied()).collect()
                    }
                };
                let (y, p) = (y.as_ref(), p.as_ref());
                match m {
                    MetricKind::RocAuc => metrics::roc_auc_ovr(y, p, k),
                    MetricKind::LogLoss => metrics::log_loss(y, p, k),
                    _ => Err(MetricError(format!("{} cannot score per-class columns", m.name()))),
                }
            }
            (Truth::Values(y), Predictions::Values(p)) => {
                let (y, p) = (gather(y, only), gather(p, only));
                let (y, p) = (y.as_ref(), p.as_ref());
                match m {
                    MetricKind::Rmse => metrics::rmse(y, p),
                    MetricKind::Mae => metrics::mae(y, p),
                    MetricKind::R2 => metrics::r2(y, p),
                    MetricKind::Spearman => metrics::spearman(y, p),
                    _ => Err(MetricError(format!("{} cannot score numeric labels", m.name()))),
                }
            }
            (Truth::Items(y), Predictions::Items(p)) => {
                let all: Vec<u32>;
                let rows = match only {
                    Some(rows) => rows,
                    None => {
                        all = (0..self.len() as u32).collect();
                        &all
                    }
                };
                let y: Vec<&[Box<str>]> = rows.iter().map(|&r| y[r as usize].as_slice()).collect();
                let p: Vec<&[Box<str>]> = rows.iter().map(|&r| p[r as usize].as_slice()).collect();
                let y: Vec<Vec<&Box<str>>> = y.iter().map(|v| v.iter().collect()).collect();
                let p: Vec<Vec<&Box<str>>> = p.iter().map(|v| v.iter().collect()).collect();
                metrics::map_at_k(&y, &p, self.format.k.unwrap_or(1) as usize)
            }
            _ => Err(MetricError("the predictions do not match the solution's kind".into())),
        }
    }
}

/// Where a submission's columns are.
struct Layout {
    /// The column names, as in the file.
    header: Vec<String>,
    /// The id column.
    id: usize,
    /// The value columns, in the order of [`Format::columns`].
    values: Vec<usize>,
}

/// What a submission's cells become.
enum PredictionKind {
    Classes,
    Values,
    PerClass,
    Items,
}

/// One core's reading of a part ([`Solution::place_in_parallel`]): rows
/// that come in order are written in place into `share`, from solution
/// row `first` on; from the first that does not, every row is kept `apart`.
struct Filling<'f, T, N, B, P> {
    solution: &'f Solution,
    layout: &'f Layout,
    /// A cell that is a finite number, read with its line.
    number: &'f N,
    /// A cell of text that is one byte.
    byte: &'f B,
    /// A cell of a record, by column.
    parse: &'f P,
    first: usize,
    share: &'f mut [T],
    written: usize,
    apart: Placed<T>,
    /// The row after the last one read: the likeliest next.
    next_guess: u32,
}

impl<T, N, B, P> Filling<'_, T, N, B, P> {
    /// Takes solution row `row` on, of `k` cells: the place of its cells in
    /// the share while the rows come in order (the caller writes them
    /// there), else `None`, the row noted apart (the caller pushes them).
    #[inline]
    fn take_row(&mut self, row: u32, k: usize) -> Option<&mut [T]> {
        self.next_guess = row + 1;
        let written = self.written;
        if self.apart.count == 0
            && row as usize == self.first + written
            && let Some(cells) = self.share.get_mut(written * k..(written + 1) * k)
        {
            self.written += 1;
            return Some(cells);
        }
        self.apart.push_row(row);
        None
    }

    /// Places the one cell of the row whose id `id` writes.
    #[inline]
    fn place(&mut self, id: u64, value: Option<T>) -> Option<()> {
        let row = self.solution.row_of_number(id, self.next_guess)?;
        let value = value?;
        match self.take_row(row, 1) {
            Some([cell]) => *cell = value,
            _ => self.apart.values.push(value),
        }
        Some(())
    }
}

impl<T, N, B, P> NumberedRows for Filling<'_, T, N, B, P>
where
    N: Fn(f64) -> Option<T>,
    B: Fn(u8) -> Option<T>,
    P: Fn(&Record<'_>, usize) -> Option<T>,
{
    #[inline]
    fn number(&mut self, id: u64, x: f64) -> Option<()> {
        self.place(id, (self.number)(x))
    }

    #[inline]
    fn byte(&mut self, id: u64, byte: u8) -> Option<()> {
        self.place(id, (self.byte)(byte))
    }

    #[inline]
    fn record(&mut self, rec: Record<'_>) -> Option<()> {
        let Layout { header, id, values } = self.layout;
        if rec.len() != header.len() {
            return None;
        }
        let row = self.solution.row_of_field(&rec, *id, self.next_guess)?;
        let parse = self.parse;
        match self.take_row(row, values.len()) {
            Some(cells) => {
                for (cell, &col) in cells.iter_mut().zip(values) {
                    *cell = parse(&rec, col)?;
                }
            }
            None => {
                for &col in values {
                    self.apart.values.push(parse(&rec, col)?);
                }
            }
        }
        Some(())
    }
}

/// A part read on one core: `written` rows from `first` on written in
/// place into its share, then the rest kept `apart`.
struct Share<T> {
    first: usize,
    written: usize,
    apart: Placed<T>,
}

/// A part's rows read on one core: which solution rows (from `first` on,
/// one after another, until a row out of order starts `scattered`), and
/// their cells in file order.
struct Placed<T> {
    first: u32,
    count: usize,
    /// Every row of the part, once one came out of order; empty before.
    scattered: Vec<u32>,
    values: Vec<T>,
}

impl<T> Placed<T> {
    fn push_row(&mut self, row: u32) {
        if self.count == 0 {
            self.first = row;
        } else if self.scattered.is_empty() && row as usize != self.first as usize + self.count {
            self.scattered.extend(self.first..self.first + self.count as u32);
        }
        if !self.scattered.is_empty() {
            self.scattered.push(row);
        }
        self.count += 1;
    }

    /// The solution row of the part's `i`-th record.
    fn row(&self, i: usize) -> u32 {
        if self.scattered.is_empty() { self.first + i as u32 } else { self.scattered[i] }
    }
}

/// Where a solution's columns are.
#[derive(Clone, Copy)]
struct Columns {
    fields: usize,
    id: usize,
    target: usize,
}

impl Columns {
    /// The columns `format` names, found in a solution's header record.
    fn of(format: &Format, header: Option<Result<Record<'_>, String>>) -> Result<Self, SolutionError> {
        let header: Vec<String> = match header {
            Some(Ok(h)) => (0..h.len())
                .map(|i| h.text(i).map(|t| t.trim_start_matches('\u{feff}').to_owned()))
                .collect::<Option<_>>()
                .ok_or_else(|| SolutionError("header: not UTF-8".into()))?,
            Some(Err(e)) => return Err(SolutionError(format!("header: {e}"))),
            None => Vec::new(),
        };
        let col = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| SolutionError(format!("no column {name:?}")))
        };
        Ok(Self { fields: header.len(), id: col(&format.id_column)?, target: col(&format.target)? })
    }

    /// Whether the file is two columns, the id and then the target.
    fn id_then_target(self) -> bool {
        self.fields == 2 && self.id == 0 && self.target == 1
    }
}

/// One core's reading of a part of a solution whose classes are found as
/// it is read: each row's id, and its label as the number of the label
/// in the order met.
struct LabelsRead {
    columns: Columns,
    ids: IdIndex,
    y: Vec<u32>,
    met: LabelsMet,
}

impl NumberedRows for LabelsRead {
    /// Not met: a part of labels is read as text.
    fn number(&mut self, _: u64, _: f64) -> Option<()> {
        None
    }

    #[inline]
    fn byte(&mut self, id: u64, byte: u8) -> Option<()> {
        self.ids.push_number(id);
        self.y.push(self.met.index_byte(byte)?);
        Some(())
    }

    #[inline]
    fn record(&mut self, rec: Record<'_>) -> Option<()> {
        if rec.len() != self.columns.fields {
            return None;
        }
        push_id(&mut self.ids, &rec, self.columns.id)?;
        self.y.push(self.met.index_field(&rec, self.columns.target)?);
        Some(())
    }
}

/// Reads the rows of `parts`, each on a core of its own, and joins them in
/// order; `None` on any problem (the caller reads the file again in one
/// piece to name the row). `room` says how many rows and id bytes to
/// reserve for a part.
fn read_parts(format: &Format, columns: Columns, parts: Vec<Part<'_>>) -> Option<(IdIndex, Truth)> {
    let classes = ClassIndex::new(format.classes.as_deref().unwrap_or_default());
    let values = if matches!(Truth::empty(format, 0), Truth::Values(_)) { Values::Numbers } else { Values::Text };
    let read = |part: Part<'_>| {
        let (rows, id_bytes) = room_for(&part);
        let (mut ids, mut truth) = (IdIndex::with_capacity(rows, id_bytes), Truth::empty(format, rows));
        part.each_record(values, |rec| read_row(&rec, 0, columns, &classes, &mut ids, &mut truth).ok())?;
        Some((ids, truth))
    };
    let mut joined = read_in_parallel(parts, read)?.into_iter();
    let (mut ids, mut truth) = joined.next()?;
    let (more_ids, more_truth): (Vec<IdIndex>, Vec<Truth>) = joined.unzip();
    join_beside(&mut ids, &more_ids, || more_truth.into_iter().for_each(|part| truth.append(part)));
    Some((ids, truth))
}

/// Room for a part's rows and id bytes, enough for the shortest rows
/// (an id, a comma, a value, a newline); capacity never touched costs no
/// memory.
fn room_for(part: &Part<'_>) -> (usize, usize) {
    (part.len() / 4 + 1, part.len() / 2)
}

/// Joins the later parts' ids onto the first part's here while `labels`
/// joins their labels on a second core. The first part's columns take the
/// others' rows: the rows are copied once less, and fresh memory touched
/// once less.
fn join_beside(ids: &mut IdIndex, more_ids: &[IdIndex], labels: impl FnOnce() + Send) {
    // Ids counted up join at no cost: no second core is worth starting.
    if ids.counted.is_some() && more_ids.iter().all(|more| more.counted.is_some()) {
        more_ids.iter().for_each(|part| ids.append(part));
        labels();
        return;
    }
    std::thread::scope(|scope| {
        scope.spawn(labels);
        more_ids.iter().for_each(|part| ids.append(part));
    });
}

/// Appends the id in `rec`'s column `col` to `ids`; `None` if it is not
/// UTF-8.
#[inline]
fn push_id(ids: &mut IdIndex, rec: &Record<'_>, col: usize) -> Option<()> {
    match rec.number(col) {
        Some(n) => ids.push_number(n),
        None => ids.push(rec.text(col)?),
    }
    Some(())
}

/// Reads a solution's row (line `line` of the file) into `ids` and `truth`.
fn read_row(
    rec: &Record<'_>,
    line: usize,
    columns: Columns,
    classes: &ClassIndex<'_>,
    ids: &mut IdIndex,
    truth: &mut Truth,
) -> Result<(), SolutionError> {
    if rec.len() != columns.fields {
        let (got, want) = (rec.len(), columns.fields);
        return Err(SolutionError(format!("row {line}: {got} fields, the header has {want}")));
    }
    let not_utf8 = || SolutionError(format!("row {line}: not UTF-8"));
    push_id(ids, rec, columns.id).ok_or_else(not_utf8)?;
    // The label's text is only looked at when its bytes alone do not tell.
    let cell = || rec.text(columns.target).ok_or_else(not_utf8);
    let bad = || SolutionError(format!("row {line}: unusable label"));
    match truth {
        Truth::Classes(v) => match classes.find_field(rec, columns.target) {
            Some(class) => v.push(class),
            None => {
                cell()?;
                return Err(bad());
            }
        },
        Truth::Values(v) => match rec.finite(columns.target) {
            Some(value) => v.push(value),
            None => v.push(parse_finite(cell()?).ok_or_else(bad)?),
        },
        Truth::Items(v) => v.push(split_items(cell()?)),
    }
    Ok(())
}

/// Labels in the order a task's classes take: sorted as text, or as
/// numbers when every one is a number.
fn class_order(mut labels: Vec<String>) -> Vec<String> {
    labels.sort();
    if labels.iter().all(|l| l.parse::<f64>().is_ok()) {
        labels.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0)));
    }
    labels
}

/// The distinct labels of a solution's target column, in class order.
fn distinct_labels(bytes: &[u8], format: &Format) -> Result<Vec<String>, SolutionError> {
    let mut records = Records::new(bytes);
    let columns = Columns::of(format, records.next_record())?;
    let mut found = hashbrown::HashSet::new();
    let mut line = 1;
    while let Some(rec) = records.next_record() {
        let rec = rec.map_err(|e| SolutionError(format!("row {}: {e}", line + 1)))?;
        line += 1;
        let label = rec.text(columns.target).ok_or_else(|| SolutionError(format!("row {line}: not UTF-8")))?;
        if !found.contains(label) {
            found.insert(label.to_owned());
        }
    }
    Ok(class_order(found.into_iter().collect()))
}

/// A part's labels as they are first met: a short list searched in
/// order (most tasks have a handful of classes), then a map. A one-byte
/// label (a digit, a letter) is found by its byte; others of up to seven
/// bytes (most are a word) are compared as one number.
#[derive(Default)]
struct LabelsMet {
    names: Vec<String>,
    /// Each name's [`short_key`].
    keys: Vec<u64>,
    /// The index of each one-byte name met, by its byte (`NOT_MET` if none).
    bytes: Option<Box<[u32; 256]>>,
    more: hashbrown::HashMap<String, u32>,
}

const NOT_MET: u32 = u32::MAX;

/// A label of up to seven bytes as a number that equals another's exactly
/// when the labels are equal (its bytes above its length); `LONG` for
/// longer ones.
fn short_key(label: &str) -> u64 {
    match label.len() {
        len @ 0..=7 => label.bytes().rev().fold(len as u64, |key, b| key << 8 | u64::from(b)),
        _ => LONG,
    }
}

const LONG: u64 = u64::MAX;

impl LabelsMet {
    /// [`LabelsMet::index`] of the text in `rec`'s column `col` (`None` if
    /// it is not UTF-8); a visible ASCII byte alone is found by itself,
    /// without its text.
    #[inline]
    fn index_field(&mut self, rec: &Record<'_>, col: usize) -> Option<u32> {
        match rec.get(col) {
            [byte] => self.index_byte(*byte),
            _ => Some(self.index(rec.text(col)?)),
        }
    }

    /// [`LabelsMet::index_field`] of a field that is the one byte `byte`.
    #[inline]
    fn index_byte(&mut self, byte: u8) -> Option<u32> {
        if byte.is_ascii_graphic()
            && let Some(i) = self.met_byte(byte)
        {
            return Some(i);
        }
        Some(self.index(std::str::from_utf8(&[byte]).ok()?.trim()))
    }

    /// The index of the one-byte label `byte`, if met.
    #[inline]
    fn met_byte(&self, byte: u8) -> Option<u32> {
        self.bytes.as_ref().map(|bytes| bytes[usize::from(byte)]).filter(|&i| i != NOT_MET)
    }

    fn index(&mut self, label: &str) -> u32 {
        if let [byte] = label.as_bytes()
            && let Some(i) = self.met_byte(*byte)
        {
            return i;
        }
        let i = self.index_slowly(label);
        if let [byte] = label.as_bytes() {
            self.bytes.get_or_insert_with(|| Box::new([NOT_MET; 256]))[usize::from(*byte)] = i;
        }
        i
    }

    fn index_slowly(&mut self, label: &str) -> u32 {
        let key = short_key(label);
        let found = if key == LONG {
            self.names.iter().position(|n| n == label)
        } else {
            self.keys.iter().position(|&k| k == key)
        };
        if let Some(i) = found {
            return i as u32;
        }
        if self.names.len() < 16 {
            self.names.push(label.to_owned());
            self.keys.push(key);
            return self.names.len() as u32 - 1;
        }
        let next = self.names.len() as u32 + self.more.len() as u32;
        *self.more.entry_ref(label).or_insert(next)
    }

    /// Every label, by its index.
    fn into_names(self) -> Vec<String> {
        let mut names = self.names;
        let mut more: Vec<(String, u32)> = self.more.into_iter().collect();
        more.sort_by_key(|(_, i)| *i);
        names.extend(more.into_iter().map(|(n, _)| n));
        names
    }
}

/// A part's rows' label numbers, and its labels by number.
type PartClasses = (Vec<u32>, Vec<String>);

/// Reads the rows of `parts` on every core, labels kept as each part met
/// them; then the classes (every label, in class order) and each row's
/// class, the parts joined in order. `None` on any problem.
fn read_parts_finding_classes(columns: Columns, parts: Vec<Part<'_>>) -> Option<(IdIndex, Vec<String>, Vec<u32>)> {
    let read = |part: Part<'_>| {
        let (rows, id_bytes) = room_for(&part);
        let mut labels = LabelsRead {
            columns,
            ids: IdIndex::with_capacity(rows, id_bytes),
            y: Vec::with_capacity(rows),
            met: LabelsMet::default(),
        };
        if columns.id_then_target() {
            part.each_numbered(Values::Text, &mut labels)?;
        } else {
            part.each_record(Values::Text, |rec| labels.record(rec))?;
        }
        Some((labels.ids, labels.y, labels.met.into_names()))
    };
    let parts = read_in_parallel(parts, read)?;
    let all: hashbrown::HashSet<&String> = parts.iter().flat_map(|(_, _, names)| names).collect();
    let classes = class_order(all.into_iter().cloned().collect());
    let index: hashbrown::HashMap<&str, u32> =
        classes.iter().enumerate().map(|(i, c)| (c.as_str(), i as u32)).collect();
    let to_class = |names: &[String]| -> Vec<u32> { names.iter().map(|n| index[n.as_str()]).collect() };
    let mut parts = parts.into_iter();
    let (mut ids, mut y, names) = parts.next()?;
    let (more_ids, more_y): (Vec<IdIndex>, Vec<PartClasses>) = parts.map(|(ids, y, names)| (ids, (y, names))).unzip();
    // Each part's label numbers become class numbers as they are joined;
    // a part that met the labels in class order (the commonest) is copied
    // as it is.
    let in_order = |map: &[u32]| map.iter().enumerate().all(|(i, &c)| c as usize == i);
    join_beside(&mut ids, &more_ids, || {
        let first = to_class(&names);
        if !in_order(&first) {
            y.iter_mut().for_each(|c| *c = first[*c as usize]);
        }
        for (part_y, names) in more_y {
            let map = to_class(&names);
            if in_order(&map) {
                y.extend_from_slice(&part_y);
            } else {
                y.extend(part_y.iter().map(|&c| map[c as usize]));
            }
        }
    });
    drop(index);
    Some((ids, classes, y))
}

/// The values of `rows`, or (every row) the column as it is, with no copy.
fn gather<'v, T: Copy>(v: &'v [T], rows: Option<&[u32]>) -> std::borrow::Cow<'v, [T]> {
    match rows {
        None => std::borrow::Cow::Borrowed(v),
        Some(rows) => rows.iter().map(|&r| v[r as usize]).collect(),
    }
}

fn quote_list(items: &[&String]) -> String {
    items.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
}

fn short_list(items: &[String]) -> String {
    if items.len() <= 12 {
        items.join(", ")
    } else {
        format!("{}, … ({} classes)", items[..10].join(", "), items.len())
    }
}

/// Collects a submission's problems, keeping the first [`MAX_PROBLEMS`].
#[derive(Default)]
struct Problems {
    kept: Vec<Problem>,
    more: usize,
}

impl Problems {
    fn push(&mut self, field: String, message: Msg) {
        if self.kept.len() < MAX_PROBLEMS {
            self.kept.push(Problem::new("submission", field, message));
        } else {
            self.more += 1;
        }
    }

    fn into_result(mut self, preds: Predictions) -> Result<Predictions, Vec<Problem>> {
        if self.kept.is_empty() {
            return Ok(preds);
        }
        if self.more > 0 {
            self.kept.push(Problem::new("submission", "", msg!("more_problems", count = self.more)));
        }
        Err(self.kept)
    }
}

/// Outputs per row a model must produce for this task.
pub fn out_cols(format: &Format) -> Result<usize, String> {
    let k = format.classes.as_ref().map_or(0, Vec::len);
    match format.metric {
        MetricKind::Accuracy | MetricKind::BalancedAccuracy | MetricKind::MacroF1 | MetricKind::MeanIou => Ok(k),
        MetricKind::RocAuc | MetricKind::LogLoss if k <= 2 => Ok(1),
        MetricKind::RocAuc | MetricKind::LogLoss => Ok(k),
        MetricKind::Rmse | MetricKind::Mae | MetricKind::R2 | MetricKind::Spearman => Ok(1),
        MetricKind::MapAtK => Err("map_at_k tasks rank items; they do not accept models".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_like() -> Solution {
        let format = Format {
            metric: MetricKind::Accuracy,
            k: None,
            id_column: "id".into(),
            target: "label".into(),
            classes: Some((0..10).map(|c| c.to_string()).collect()),
        };
        Solution::parse(format, b"id,label\n1,3\n2,5\n3,3\n4,9\n").unwrap()
    }

    /// A regression task of `n` rows and a submission of them in reverse
    /// order, over 1 MiB so that it is read on every core.
    fn big_regression(n: usize) -> (Solution, String, Vec<f64>) {
        let format =
            Format { metric: MetricKind::Rmse, k: None, id_column: "id".into(), target: "y".into(), classes: None };
        let mut sol = String::from("id,y\n");
        let mut sub = String::from("id,y\r\n");
        let want: Vec<f64> = (0..n).map(|i| i as f64 * 0.25 + 0.125).collect();
        for i in 0..n {
            sol += &format!("r{i},{i}\n");
        }
        for i in (0..n).rev() {
            sub += &format!("r{i},{:?}\r\n", want[i]);
        }
        (Solution::parse(format, sol.as_bytes()).unwrap(), sub, want)
    }

    /// A task of 600 rows under `metric`, and two submissions: one close to
    /// the truth, one far from it.
    fn good_and_bad(metric: MetricKind) -> (Solution, [Predictions; 2]) {
        let classes = metric.needs_classes().then(|| {
            let k = if matches!(metric, MetricKind::RocAuc | MetricKind::LogLoss) { 2 } else { 3 };
            (0..k).map(|c| c.to_string()).collect::<Vec<_>>()
        });
        let k = classes.as_ref().map_or(0, Vec::len);
        let format = Format { metric, k: Some(2), id_column: "id".into(), target: "y".into(), classes };
        let truth = |r: usize| -> String {
            match metric {
                MetricKind::MapAtK => format!("a{} b{}", r % 7, r % 5),
                _ if k > 0 => (r * 7 % 11 % k).to_string(),
                _ => ((r * 37 % 101) as f64 / 10.0).to_string(),
            }
        };
        // Wrong on every `every`-th row.
        let guess = |r: usize, every: usize| -> String {
            let off = r.is_multiple_of(every);
            match metric {
                MetricKind::MapAtK if off => "zz".into(),
                MetricKind::MapAtK => format!("a{}", r % 7),
                MetricKind::RocAuc | MetricKind::LogLoss => {
                    let y = truth(r) == "1";
                    if y != off { "0.8".into() } else { "0.3".into() }
                }
                _ if k > 0 && off => ((r * 7 % 11 + 1) % k).to_string(),
                _ if k > 0 => truth(r),
                _ => {
                    let y: f64 = truth(r).parse().unwrap();
                    (if off { y + 5.0 + (r % 3) as f64 } else { y + 0.1 * (r % 4) as f64 }).to_string()
                }
            }
        };
        let csv = |rows: &mut dyn Iterator<Item = String>| format!("id,y\n{}", rows.collect::<String>());
        let sol = csv(&mut (0..600).map(|r| format!("{r},{}\n", truth(r))));
        let sol = Solution::parse(format, sol.as_bytes()).unwrap();
        let sub =
            |every| sol.parse_submission(csv(&mut (0..600).map(|r| format!("{r},{}\n", guess(r, every)))).as_bytes());
        let (good, bad) = (sub(20).unwrap(), sub(2).unwrap());
        (sol, [good, bad])
    }

    #[test]
    fn labels_met_tell_apart_short_and_long_labels_by_every_byte() {
        let labels = ["a", "a\0", "", "ab", "abcdefg", "abcdefh", "abcdefgh", "abcdefgi", "b", "é", "e"];
        let mut met = LabelsMet::default();
        let first: Vec<u32> = labels.iter().map(|l| met.index(l)).collect();
        assert_eq!(first, (0..labels.len() as u32).collect::<Vec<_>>());
        // Met again, in another order: the same numbers.
        for (i, l) in labels.iter().enumerate().rev() {
            assert_eq!(met.index(l), i as u32, "{l:?}");
        }
        // Past the short list, labels go to the map and keep their numbers.
        let many: Vec<String> = (0..40).map(|i| format!("class-{i}")).collect();
        let numbers: Vec<u32> = many.iter().map(|l| met.index(l)).collect();
        assert_eq!(many.iter().map(|l| met.index(l)).collect::<Vec<_>>(), numbers);
        // A one-byte label first met there, then found by its byte.
        let z = met.index("z");
        assert_eq!((z, met.index("z"), met.index("a"), met.index("b")), (labels.len() as u32 + 40, z, 0, 8));
        let names = met.into_names();
        assert_eq!(&names[..labels.len()], labels.map(String::from));
        assert_eq!(names.len(), labels.len() + 41);
        assert_eq!(names[z as usize], "z");
    }

    #[test]
    fn every_metric_gives_intervals_around_its_scores_and_separates_far_teams() {
        for metric in MetricKind::ALL {
            let (sol, preds) = good_and_bad(metric);
            let rows: Vec<u32> = (0..sol.len() as u32).collect();
            let input = sol.tie_input(&preds, &rows).unwrap_or_else(|| panic!("{metric:?} has ties"));
            let higher = metric.higher_is_better();
            let stats = input.bootstrap(higher, 400, 3);
            for (p, s) in preds.iter().zip(&stats) {
                let score = sol.score(p, None).unwrap();
                assert!(s.lo <= score + 1e-9 && score <= s.hi + 1e-9, "{metric:?}: {score} outside {s:?}");
            }
            assert_eq!(stats[1].tied_with, None, "{metric:?}: {stats:?}");
            // The same predictions twice are one group.
            let twice = [preds[0].clone(), preds[0].clone()];
            let same = sol.tie_input(&twice, &rows).unwrap().bootstrap(higher, 400, 3);
            assert_eq!(same[1].tied_with, Some(1), "{metric:?}");
        }
    }

    /// Every metric scores predictions alike whether they are borrowed,
    /// gathered for a set of rows (ROC AUC sorts the gathered copy in
    /// place) or handed over whole (`score_all`).
    #[test]
    fn predictions_handed_over_or_gathered_score_as_borrowed_ones() {
        for metric in MetricKind::ALL {
            let (sol, preds) = good_and_bad(metric);
            let every: Vec<u32> = (0..sol.len() as u32).collect();
            for p in preds {
                let borrowed = sol.score(&p, None);
                assert!(borrowed.is_ok(), "{metric:?}: {borrowed:?}");
                assert_eq!(sol.score(&p, Some(&every)), borrowed, "{metric:?}, gathered");
                assert_eq!(sol.score_all(p), borrowed, "{metric:?}, handed over");
            }
        }
    }

    #[test]
    fn a_big_clean_file_read_on_every_core_places_every_row() {
        let (sol, sub, want) = big_regression(120_000);
        assert!(sub.len() > 1 << 20);
        let Ok(Predictions::Values(got)) = sol.parse_submission(sub.as_bytes()) else { panic!("valid") };
        assert_eq!(got, want);
    }

    #[test]
    fn a_big_solution_read_in_parts_keeps_its_order_and_its_errors() {
        let (sol, _, _) = big_regression(120_000);
        assert_eq!((sol.len(), &*sol.id(0), &*sol.id(119_999)), (120_000, "r0", "r119999"));
        assert_eq!(sol.ids.find("r77777"), Some(77_777));
        let format =
            Format { metric: MetricKind::Rmse, k: None, id_column: "id".into(), target: "y".into(), classes: None };
        let mut text: String =
            std::iter::once("id,y\n".to_owned()).chain((0..120_000).map(|i| format!("r{i},{i}\n"))).collect();
        text += "r5,1\nr6,oops\n";
        let err = Solution::parse(format.clone(), text.as_bytes()).unwrap_err();
        assert_eq!(err.0, "row 120003: unusable label");
        text.truncate(text.len() - "r6,oops\n".len());
        let err = Solution::parse(format, text.as_bytes()).unwrap_err();
        assert_eq!(err.0, "row 120002: duplicate id \"r5\"");
    }

    /// Parsed from a file on disk, `text` gives what it gives in memory.
    fn same_from_disk(sol: &Solution, text: &str) -> Result<Predictions, Vec<Problem>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub.csv");
        std::fs::write(&path, text).unwrap();
        let from_disk = sol.parse_submission_file(&path).unwrap();
        let in_memory = sol.parse_submission(text.as_bytes());
        assert_eq!(format!("{from_disk:?}"), format!("{in_memory:?}"));
        // A valid file was read in parts, chunk by chunk (not whole, again).
        if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
            let (header, parts) = split_file(&path).unwrap().expect("big enough to split");
            let layout = sol.submission_layout(Records::new(&header).next_record());
            let in_parts = layout.ok().and_then(|layout| sol.clean_in_parallel(parts, &layout));
            assert_eq!(in_parts.is_some(), from_disk.is_ok() && !text.contains('"'));
        }
        from_disk
    }

    #[test]
    fn a_big_file_on_disk_reads_in_chunks_as_it_does_in_memory() {
        // Out of order (each part's rows scattered), in order (the parts'
        // cells joined), and with problems (read again whole).
        let (sol, reversed, want) = big_regression(120_000);
        let Ok(Predictions::Values(got)) = same_from_disk(&sol, &reversed) else { panic!("valid") };
        assert_eq!(got, want);
        let in_order: String = std::iter::once("id,y\n".to_owned())
            .chain(want.iter().enumerate().map(|(i, v)| format!("r{i},{v:?}\n")))
            .collect();
        let Ok(Predictions::Values(got)) = same_from_disk(&sol, &in_order) else { panic!("valid") };
        assert_eq!(got, want);
        let missing_last = &in_order[..in_order.trim_end().rfind('\n').unwrap() + 1];
        assert!(same_from_disk(&sol, missing_last).is_err());
        let repeated = format!("{in_order}r5,1\n");
        assert!(same_from_disk(&sol, &repeated).is_err());
        // In order but for some rows: the parts' rows written in place up
        // to the first out of order, the rest placed after, each once.
        let lines: Vec<String> = want.iter().enumerate().map(|(i, v)| format!("r{i},{v:?}\n")).collect();
        let file = |order: &[usize]| -> String {
            std::iter::once("id,y\n").chain(order.iter().map(|&i| lines[i].as_str())).collect()
        };
        let mut swapped: Vec<usize> = (0..120_000).collect();
        swapped.swap(30_000, 30_001);
        swapped.swap(100_000, 110_000);
        let mut first_rows_last: Vec<usize> = (0..120_000).collect();
        first_rows_last.rotate_left(5);
        let mut one_row_last: Vec<usize> = (0..120_000).filter(|&i| i != 40_000).collect();
        one_row_last.push(40_000);
        for order in [swapped, first_rows_last, one_row_last] {
            let Ok(Predictions::Values(got)) = same_from_disk(&sol, &file(&order)) else { panic!("valid") };
            assert_eq!(got, want);
        }
        // A row twice and another missing: as many rows as the solution's.
        let mut twice: Vec<usize> = (0..120_000).collect();
        twice[60_000] = 59_000;
        assert!(same_from_disk(&sol, &file(&twice)).is_err());
        let quoted = in_order.replacen("r7,", "\"r7\",", 1);
        assert!(same_from_disk(&sol, &quoted).is_ok(), "a quoted id is read whole, by the csv crate");

        // Class labels, the solution itself from disk too.
        let format = Format {
            metric: MetricKind::MacroF1,
            k: None,
            id_column: "id".into(),
            target: "label".into(),
            classes: Some(vec!["cat".into(), "dog".into(), "7".into()]),
        };
        let names = ["cat", "dog", "7"];
        let labels: String = std::iter::once("id,label\n".to_owned())
            .chain((0..150_000).map(|i| format!("{i},{}\n", names[i % 3])))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("labels.csv"), &labels).unwrap();
        let sol = Solution::parse_file(format.clone(), &dir.path().join("labels.csv")).unwrap();
        assert_eq!(
            format!("{:?}", sol.truth),
            format!("{:?}", Solution::parse(format, labels.as_bytes()).unwrap().truth)
        );
        let Ok(Predictions::Classes(got)) = same_from_disk(&sol, &labels) else { panic!("valid") };
        assert_eq!(sol.score(&Predictions::Classes(got), None).unwrap(), 1.0);
        assert!(same_from_disk(&sol, &labels.replacen(",dog\n", ",wolf\n", 1)).is_err());
    }

    #[test]
    fn lines_of_two_numbers_read_without_records_place_as_records_do() {
        // Ids counted up (no table), small ids in any order (a table), and
        // ids among text ones (hashed): each solution with numbered ids.
        let n = 120_000;
        let counted: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let table: Vec<String> = (0..n).map(|i| ((i * 7_919) % n).to_string()).collect();
        let hashed: Vec<String> =
            (0..n).map(|i| if i % 1_000 == 3 { format!("x{i}") } else { i.to_string() }).collect();
        for (ids, metric) in [(&counted, MetricKind::Rmse), (&table, MetricKind::Rmse), (&hashed, MetricKind::LogLoss)]
        {
            let classes = (metric == MetricKind::LogLoss).then(|| vec!["0".to_owned(), "1".to_owned()]);
            let format = Format { metric, k: None, id_column: "id".into(), target: "y".into(), classes };
            let solution: String = std::iter::once("id,y\n".to_owned())
                .chain(ids.iter().enumerate().map(|(i, id)| format!("{id},{}\n", i % 2)))
                .collect();
            let sol = Solution::parse(format, solution.as_bytes()).unwrap();
            let value = |i: usize| (i % 997) as f64 / 1_000.0 + 1e-9;
            let file = |rows: &mut dyn Iterator<Item = usize>| -> String {
                std::iter::once("id,y\n".to_owned())
                    .chain(rows.map(|i| format!("{},{:?}\n", ids[i], value(i))))
                    .collect()
            };
            let want: Vec<f64> = (0..n).map(value).collect();
            // In order, reversed (every row apart), and with one row moved.
            let mut moved: Vec<usize> = (0..n).filter(|&i| i != 50_000).collect();
            moved.insert(90_000, 50_000);
            for text in [file(&mut (0..n)), file(&mut (0..n).rev()), file(&mut moved.into_iter())] {
                let Ok(Predictions::Values(got)) = same_from_disk(&sol, &text) else { panic!("valid") };
                assert_eq!(got, want);
            }
            // A value that is not a finite number, a probability above 1, a
            // value with an exponent (read as a record), an unknown id.
            let good = file(&mut (0..n));
            let exponent =
                good.replacen(&format!("\n{},{:?}\n", ids[7], value(7)), &format!("\n{},{:e}\n", ids[7], value(7)), 1);
            assert_ne!(exponent, good);
            let Ok(Predictions::Values(got)) = same_from_disk(&sol, &exponent) else { panic!("valid") };
            assert_eq!(got, want);
            for bad in [
                good.replacen(&format!("\n{},", ids[9]), &format!("\n{},nan", ids[9]), 1),
                good.replacen(&format!("\n{},", ids[9]), &format!("\n{},-inf,", ids[9]), 1),
                good.replacen(&format!("\n{},", ids[9]), &format!("\n{},5", ids[9]), 1),
                good.replacen(&format!("\n{},", ids[9]), "\n999999999,", 1),
            ] {
                assert_eq!(same_from_disk(&sol, &bad).is_err(), metric == MetricKind::LogLoss || !bad.contains(",5"));
            }
        }
        // Class labels of one byte (a digit, a letter), and one spaced.
        let (m, names) = (300_000, ["a", "b", "7"]);
        let format = Format {
            metric: MetricKind::Accuracy,
            k: None,
            id_column: "id".into(),
            target: "y".into(),
            classes: Some(names.map(String::from).to_vec()),
        };
        let file = |rows: &mut dyn Iterator<Item = usize>| -> String {
            std::iter::once("id,y\n".to_owned()).chain(rows.map(|i| format!("{i},{}\n", names[i % 3]))).collect()
        };
        let sol = Solution::parse(format, file(&mut (0..m)).as_bytes()).unwrap();
        for text in [file(&mut (0..m)), file(&mut (0..m).rev()), file(&mut (0..m)).replacen("\n4,b\n", "\n4, b\n", 1)] {
            let Ok(Predictions::Classes(got)) = same_from_disk(&sol, &text) else { panic!("valid") };
            assert_eq!(sol.score(&Predictions::Classes(got), None).unwrap(), 1.0);
        }
        assert!(same_from_disk(&sol, &file(&mut (0..m)).replacen("\n4,b\n", "\n4,z\n", 1)).is_err());
    }

    #[test]
    fn classes_found_as_a_big_file_is_read_are_those_found_reading_it_whole() {
        let format = |classes| Format {
            metric: MetricKind::Accuracy,
            k: None,
            id_column: "id".into(),
            target: "y".into(),
            classes,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.csv");
        // Text labels (20 of them: more than a part's short list), then
        // numbers (ordered as numbers), each file big and then small.
        let text: Vec<String> = (0..20).map(|i| format!("c{}", (i * 7) % 20)).collect();
        let numbers: Vec<String> = ["10", "9", "2.5", "-1"].map(String::from).to_vec();
        // One-byte labels, found by their byte, and the same labels spaced.
        let bytes: Vec<String> = ["a", "b", " a", "?", "1", "b ", "\t?"].map(String::from).to_vec();
        for (labels, rows) in
            [(&text, 150_000), (&numbers, 150_000), (&bytes, 150_000), (&text, 50), (&numbers, 50), (&bytes, 50)]
        {
            let csv: String = std::iter::once("id,y\n".to_owned())
                .chain((0..rows).map(|i| format!("{i},{}\n", labels[(i * 13 + i / 7) % labels.len()])))
                .collect();
            std::fs::write(&path, &csv).unwrap();
            let found = Solution::parse_file_finding_classes(format(None), &path).unwrap();
            let whole = distinct_labels(csv.as_bytes(), &format(None)).unwrap();
            assert_eq!(found.format.classes.as_ref(), Some(&whole));
            let parsed = Solution::parse(format(Some(whole)), csv.as_bytes()).unwrap();
            assert_eq!(format!("{:?}", found.truth), format!("{:?}", parsed.truth));
            assert_eq!(found.len(), rows);
            if let Some((header, parts)) = split_file(&path).unwrap() {
                let columns = Columns::of(&format(None), Records::new(&header).next_record()).unwrap();
                assert!(read_parts_finding_classes(columns, parts).is_some(), "a big file is read once, in parts");
            }
        }
        assert_eq!(distinct_labels(b"id,y\n1,10\n2,9\n3,-1\n", &format(None)).unwrap(), ["-1", "9", "10"]);
        // A bad row in a big file is named as reading it whole names it.
        let mut csv: String =
            std::iter::once("id,y\n".to_owned()).chain((0..150_000).map(|i| format!("{i},a\n"))).collect();
        csv += "1,a,extra\n";
        std::fs::write(&path, &csv).unwrap();
        let err = Solution::parse_file_finding_classes(format(None), &path).unwrap_err();
        assert_eq!(err.0, "row 150002: 3 fields, the header has 2");
    }

    #[test]
    fn a_big_file_with_a_problem_anywhere_reports_it_as_a_small_one_would() {
        let (sol, sub, _) = big_regression(120_000);
        let lines: Vec<&str> = sub.split("\r\n").collect();
        let rows = lines.len() - 1; // the last is empty
        // One bad cell near the end, a repeated id in the middle, an unknown id.
        let mut edited: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        edited[rows - 2] = edited[rows - 2].replace(',', ",x");
        edited[rows / 2] = edited[rows / 2 + 1].clone();
        edited[3] = "nobody,1".into();
        let problems = sol.parse_submission(edited.join("\r\n").as_bytes()).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|p| p.contains(&format!("row {}", rows / 2 + 2)) && p.contains("duplicate id")),
            "{text:?}"
        );
        assert!(text.iter().any(|p| p.contains(&format!("row {}", rows - 1)) && p.contains("\"x")), "{text:?}");
        assert!(text.iter().any(|p| p.contains("nobody")), "{text:?}");
    }

    #[test]
    fn a_good_submission_in_any_row_order_scores() {
        let s = digits_like();
        let p = s.parse_submission(b"id,label\n4,9\n3,3\n2,1\n1,3\n").unwrap();
        assert_eq!(s.score(&p, None).unwrap(), 0.75);
        assert_eq!(s.score(&p, Some(&[1])).unwrap(), 0.0);
    }

    #[test]
    fn every_problem_is_reported_with_rows_and_without_correct_values() {
        let s = digits_like();
        let errs = s.parse_submission(b"id,label\n1,3\n1,4\n2,twelve\n77,3\n").unwrap_err();
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        assert!(all.contains("row 3") && all.contains("duplicate id \"1\""), "{all}");
        assert!(all.contains("row 4") && all.contains("\"twelve\" is not one of the classes"), "{all}");
        assert!(all.contains("1 ids are not in the test set, e.g. \"77\" (row 5)"), "{all}");
        assert!(all.contains("missing 2 ids, e.g. \"3\", \"4\""), "{all}");
        // The true labels of rows 2-4 (5, 3, 9) are never named.
        assert!(!all.contains("\"5\"") && !all.contains("\"9\""), "{all}");
    }

    #[test]
    fn a_wrong_header_names_what_is_missing_and_unexpected() {
        let s = digits_like();
        let errs = s.parse_submission(b"id,prediction\n1,3\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.to_string().contains("the header must be `id,label`"), "{}", errs[0]);
        assert!(
            errs[0].message.to_string().contains("missing \"label\"")
                && errs[0].message.to_string().contains("unexpected \"prediction\"")
        );
        let errs = s.parse_submission(b"").unwrap_err();
        assert!(errs[0].message.to_string().contains("header"), "{errs:?}");
        let errs = s.parse_submission(b"id,label\n").unwrap_err();
        assert!(errs[0].message.to_string().contains("no rows"), "{errs:?}");
        let errs = s.parse_submission(b"id,label\n1,3,4\n").unwrap_err();
        assert!(errs[0].message.to_string().contains("has 3 fields"), "{errs:?}");
    }

    #[test]
    fn problems_are_capped() {
        let s = digits_like();
        let mut csv = String::from("id,label\n");
        for i in 100..200 {
            csv += &format!("{i},1\n1,x\n");
        }
        let errs = s.parse_submission(csv.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), MAX_PROBLEMS + 1);
        assert!(errs.last().unwrap().message.to_string().contains("more problems"));
    }

    #[test]
    fn multiclass_probabilities_use_one_column_per_class_in_any_order() {
        let format = Format {
            metric: MetricKind::LogLoss,
            k: None,
            id_column: "id".into(),
            target: "y".into(),
            classes: Some(vec!["a".into(), "b".into(), "c".into()]),
        };
        assert_eq!(format.columns(), ["id", "a", "b", "c"]);
        let s = Solution::parse(format, b"id,y\n1,a\n2,c\n").unwrap();
        let p = s.parse_submission(b"id,c,b,a\n1,0.1,0.1,0.8\n2,0.5,0.25,0.25\n").unwrap();
        let expected = -((0.8f64).ln() + (0.5f64).ln()) / 2.0;
        assert!((s.score(&p, None).unwrap() - expected).abs() < 1e-12);
        let errs = s.parse_submission(b"id,a,b,c\n1,1.5,0,0\n2,0,0,NaN\n").unwrap_err();
        assert!(errs[0].message.to_string().contains("not a probability"), "{errs:?}");
        assert!(errs[1].message.to_string().contains("not a finite number"), "{errs:?}");
    }

    #[test]
    fn binary_auc_takes_one_score_column_for_the_second_class() {
        let format = Format {
            metric: MetricKind::RocAuc,
            k: None,
            id_column: "id".into(),
            target: "malignant".into(),
            classes: Some(vec!["0".into(), "1".into()]),
        };
        let s = Solution::parse(format, b"id,malignant\n1,1\n2,0\n3,1\n4,1\n").unwrap();
        let p = s.parse_submission(b"id,malignant\n1,0.32\n2,0.52\n3,0.26\n4,0.86\n").unwrap();
        assert!((s.score(&p, None).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // Scores need not be probabilities for AUC.
        assert!(s.parse_submission(b"id,malignant\n1,-3\n2,7\n3,0\n4,100\n").is_ok());
        // One class only in the chosen rows: a clear error, not NaN.
        assert!(s.score(&p, Some(&[0, 2])).unwrap_err().0.contains("only one class"));
    }

    #[test]
    fn the_id_index_hashes_strings_and_tables_small_integers() {
        let mut idx = IdIndex::default();
        for i in 0..10_000 {
            idx.push(&format!("id-{i}"));
        }
        idx.build().unwrap();
        assert!(matches!(idx.lookup, Lookup::Hash(..)));
        assert_eq!(idx.find("id-9999"), Some(9999));
        assert_eq!(&*idx.get(42), "id-42");
        assert_eq!(idx.find("nope"), None);

        let mut counted = IdIndex::default();
        for id in 5..1_005 {
            counted.push(&id.to_string());
        }
        counted.build().unwrap();
        assert!(matches!(counted.lookup, Lookup::Sequence(5)));
        assert_eq!((counted.find("5"), counted.find("1004"), &*counted.get(999)), (Some(0), Some(999), "1004"));
        for absent in ["4", "1005", "0", "05", "x", "99999999999999999"] {
            assert_eq!(counted.find(absent), None, "{absent}");
        }
        assert!(counted.text.is_empty() && counted.ends.is_empty(), "ids counted up are not written out");

        // Parts counted on their own: joined end to end they stay counted;
        // with a gap, or one part not counted, the ids are written out.
        let part = |ids: &mut dyn Iterator<Item = String>| {
            let mut idx = IdIndex::default();
            ids.for_each(|id| idx.push(&id));
            idx
        };
        let mut joined = part(&mut (10..20).map(|i| i.to_string()));
        joined.append(&part(&mut (20..25).map(|i| i.to_string())));
        joined.append(&IdIndex::default());
        joined.build().unwrap();
        assert!(matches!(joined.lookup, Lookup::Sequence(10)) && joined.text.is_empty());
        assert_eq!((joined.len(), joined.find("24"), &*joined.get(14)), (15, Some(14), "24"));
        for later in [part(&mut (30..35).map(|i| i.to_string())), part(&mut ["x", "y"].map(String::from).into_iter())] {
            let mut gap = part(&mut (10..20).map(|i| i.to_string()));
            gap.append(&later);
            gap.build().unwrap();
            assert!(!matches!(gap.lookup, Lookup::Sequence(_)));
            assert_eq!((gap.len(), gap.find("19"), gap.find(&later.get(1))), (10 + later.len(), Some(9), Some(11)));
            assert_eq!((&*gap.get(0), &*gap.get(11)), ("10", &*later.get(1)));
        }
        // A break in the count writes out the ids so far; a duplicate after
        // a counted run is found.
        let mut broken = part(&mut ["7", "8", "9", "3", "10"].map(String::from).into_iter());
        broken.build().unwrap();
        assert!(matches!(broken.lookup, Lookup::Dense(_)));
        assert_eq!(["7", "8", "9", "3", "10"].map(|id| broken.find(id)), [0, 1, 2, 3, 4].map(Some));
        let mut dup = part(&mut ["1", "2", "3", "2"].map(String::from).into_iter());
        assert_eq!(dup.build(), Err(3));
        // Past 32 bits: counted, and written out as text when broken.
        let big = 5_000_000_000u64;
        let mut wide = part(&mut (big..big + 3).map(|i| i.to_string()));
        assert_eq!(&*wide.get(2), "5000000002");
        wide.push("1");
        wide.build().unwrap();
        assert!(matches!(wide.lookup, Lookup::Hash(..)));
        assert_eq!((wide.find("5000000001"), wide.find("1")), (Some(1), Some(3)));

        let mut dense = IdIndex::default();
        for id in ["10", "3", "7"] {
            dense.push(id);
        }
        dense.build().unwrap();
        assert!(matches!(dense.lookup, Lookup::Dense(_)));
        assert_eq!(dense.find("7"), Some(2));
        // "07" and "+7" are other ids than "7", as strings.
        assert_eq!(dense.find("07"), None);
        assert_eq!(dense.find("+7"), None);
        assert_eq!(dense.find("4"), None);
        assert_eq!(dense.find("99999999999"), None);

        let mut dup = IdIndex::default();
        for id in ["1", "2", "1"] {
            dup.push(id);
        }
        assert_eq!(dup.build(), Err(2));
        let mut dup = IdIndex::default();
        for id in ["a", "b", "a"] {
            dup.push(id);
        }
        assert_eq!(dup.build(), Err(2));
    }

    #[test]
    fn a_bad_solution_label_is_named_by_its_row_whether_read_whole_or_in_parts() {
        let classes = digits_like().format;
        let values =
            Format { metric: MetricKind::Rmse, k: None, id_column: "id".into(), target: "y".into(), classes: None };
        let cases: [(&Format, &[u8], &str); 6] = [
            (&classes, b"12", "unusable label"),
            (&classes, b"x", "unusable label"),
            (&classes, b"\xff", "not UTF-8"),
            (&classes, b"\xc3(", "not UTF-8"),
            (&values, b"inf", "unusable label"),
            (&values, b"\xff", "not UTF-8"),
        ];
        for (format, label, want) in cases {
            for rows in [3, 200_000] {
                let mut text: Vec<u8> = format!("id,{}\n", format.target).into_bytes();
                (0..rows).for_each(|i| text.extend(format!("{i},{}\n", i % 10).bytes()));
                text.extend(b"bad,");
                text.extend(label);
                text.push(b'\n');
                let err = Solution::parse(format.clone(), &text).unwrap_err();
                assert_eq!(err.0, format!("row {}: {want}", rows + 2), "{label:?} after {rows} rows");
            }
        }
    }

    #[test]
    fn a_duplicate_solution_id_is_refused() {
        let format = digits_like().format;
        let err = Solution::parse(format, b"id,label\n1,3\n1,4\n").unwrap_err();
        assert!(err.0.contains("row 3: duplicate id \"1\""), "{err}");
    }
}
