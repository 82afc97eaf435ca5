//! A CSV's records without a `String` per field.
//!
//! Invariants: a file with no quote character and no lone carriage return
//! (almost every predictions file) is split on newlines and commas in place,
//! a line at a time; any other file goes through the `csv`
//! crate's byte records. Both give the same records for the same bytes:
//! `\n` and `\r\n` end a record, blank lines are skipped, a last line without
//! a newline counts, a leading byte order mark is dropped, and fields are
//! the raw bytes between commas (callers trim). A test checks the two paths against each other.
//!
//! The commas and newlines of a plain file are found eight bytes at a time
//! in a plain `u64` ([`Separators`]): at one or two separators every dozen
//! bytes, this takes about half the time of restarting a vector search
//! after each one.
//!
//! In a part of a large file, a line `<number>,<value>` (a solution's or a
//! submission's commonest line) is read in one pass ([`Record::Numbered`]):
//! a number of up to seven digits found and added up within one
//! eight-byte word, a longer one a digit at a time; then, where the caller
//! expects numbers ([`Values`]), the value read as a number whose end is
//! where its digits stop; where it expects text, a one-byte value that a
//! newline follows (a class label) taken as it is; otherwise the value up
//! to the next comma or newline, searched eight bytes at a time. Callers
//! then look the id up by number, never as text. In a file of two
//! columns, id first, [`Part::each_numbered`] hands such a line to its
//! reader as the id and the number (or the one byte), with no record built.
//!
//! A large plain file is read in [`Part`]s, one per core, cut at line starts:
//! slices of the bytes in memory, or ranges of a file on disk that each
//! thread reads a chunk at a time into one reused buffer (`split_file`), so
//! a file is never held whole and each chunk is parsed while in cache.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The records of one CSV file, header first.
pub struct Records<'a> {
    inner: Inner<'a>,
    /// Field bounds of the current plain record (start, end) in `bytes`.
    bounds: Vec<(usize, usize)>,
}

enum Inner<'a> {
    /// `hits` finds every comma and newline once, across the whole file.
    Plain {
        bytes: &'a [u8],
        /// `bytes` as text when known to be UTF-8 (a part, checked once).
        text: Option<&'a str>,
        pos: usize,
        hits: Separators<'a>,
    },
    Csv {
        reader: Box<csv::Reader<&'a [u8]>>,
        record: csv::ByteRecord,
    },
}

/// Every comma and newline of some bytes, in order: a 64-byte block at a
/// time is turned into a mask with one bit per separator.
struct Separators<'a> {
    bytes: &'a [u8],
    /// Where the block after the current one starts.
    next: usize,
    /// The current block's start and its separators not yet given.
    base: usize,
    mask: u64,
}

impl<'a> Separators<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, next: 0, base: 0, mask: 0 }
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let rest = self.bytes.get(self.next..).filter(|rest| !rest.is_empty())?;
            self.mask = match rest.first_chunk::<64>() {
                Some(block) => block_mask(block),
                None => rest.iter().enumerate().fold(0, |m, (i, &b)| m | u64::from(is_separator(b)) << i),
            };
            self.base = self.next;
            self.next += 64;
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + bit)
    }
}

fn is_separator(b: u8) -> bool {
    b == b',' || b == b'\n'
}

/// Bit `i` set where `block[i]` is a comma or a newline.
#[inline]
fn block_mask(block: &[u8; 64]) -> u64 {
    let (words, _) = block.as_chunks::<8>();
    words.iter().enumerate().fold(0, |mask, (k, word)| {
        let hit = separator_bytes(u64::from_le_bytes(*word));
        // Gathers the eight high bits into the top byte, byte 0 lowest.
        let bits = ((hit >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask | bits << (8 * k)
    })
}

/// What the values of a part's `<number>,<value>` lines are expected to
/// be: numbers are then read as their end is found ([`Record::finite`]),
/// which costs a little on a line whose value is anything else; text is
/// looked at for a one-byte value first, which costs a little on a line
/// whose value is a number.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Values {
    /// Numbers (regression targets, scores, probabilities).
    Numbers,
    /// Anything else (class labels, items).
    Text,
}

/// One core's share of a plain file's records: whole lines, in memory or
/// a range of a file read a chunk at a time into one reused buffer.
pub enum Part<'a> {
    /// Lines in memory.
    Bytes(&'a [u8]),
    /// The lines of `path` from byte `start` to `end` (both at line starts).
    File {
        /// The file.
        path: &'a Path,
        /// The first byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
}

/// A file part is read this many bytes at a time (more for a longer line):
/// small enough to stay in a core's cache while it is parsed.
const CHUNK_BYTES: usize = 256 << 10;

impl Part<'_> {
    /// Its size in bytes.
    pub fn len(&self) -> usize {
        match self {
            Part::Bytes(bytes) => bytes.len(),
            Part::File { start, end, .. } => end.saturating_sub(*start) as usize,
        }
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `each` on every record in order; `None` as soon as `each` does,
    /// or if the part cannot be read or is not plain after all (a file's
    /// parts are checked chunk by chunk as they are read).
    ///
    /// A line `<number>,<value>` (the commonest line of all) is read by
    /// [`numbered_line`] as a [`Record::Numbered`]; at the first other line
    /// the rest of the chunk is split field by field.
    pub fn each_record(self, values: Values, mut each: impl FnMut(Record<'_>) -> Option<()>) -> Option<()> {
        self.each_chunk(|lines| {
            let mut pos = 0;
            while pos < lines.len() {
                let Some((rec, next)) = numbered_line(lines, pos, values) else { break };
                each(rec)?;
                pos = next;
            }
            each_past(lines, pos, &mut each)
        })
    }

    /// [`Part::each_record`] for a part of two columns, id first, read by
    /// `rows` with no record built for its commonest lines: where `values`
    /// are numbers, a line `<number>,<finite number>` (a predictions
    /// file's) goes to [`NumberedRows::number`]; where they are text, a line
    /// `<number>,<one byte>` (a labels file's) to [`NumberedRows::byte`].
    /// Every other record goes to [`NumberedRows::record`].
    pub fn each_numbered(self, values: Values, rows: &mut impl NumberedRows) -> Option<()> {
        self.each_chunk(|lines| {
            let mut pos = 0;
            while pos < lines.len() {
                let Some((rec, next)) = numbered_line(lines, pos, values) else { break };
                match rec {
                    Record::Numbered(id, _, _, x) if values == Values::Numbers && x.is_finite() => {
                        rows.number(id, x)?
                    }
                    Record::Numbered(id, _, &[byte], _) if values == Values::Text => rows.byte(id, byte)?,
                    rec => rows.record(rec)?,
                }
                pos = next;
            }
            each_past(lines, pos, &mut |rec| rows.record(rec))
        })
    }

    /// Calls `run` on the part's lines a chunk of whole lines at a time;
    /// `None` as soon as it does, or if the part cannot be read or a chunk
    /// is not plain.
    fn each_chunk(self, mut run: impl FnMut(&[u8]) -> Option<()>) -> Option<()> {
        let (path, start, end) = match self {
            Part::Bytes(bytes) => return run(bytes),
            Part::File { path, start, end } => (path, start, end),
        };
        let mut file = File::open(path).ok()?;
        file.seek(SeekFrom::Start(start)).ok()?;
        let mut file = file.take(end.saturating_sub(start));
        let mut buf = vec![0u8; CHUNK_BYTES];
        let mut kept = 0; // bytes of an unfinished line at the front of `buf`
        loop {
            if kept == buf.len() {
                buf.resize(buf.len() * 2, 0); // a line longer than the buffer
            }
            let got = file.read(&mut buf[kept..]).ok()?;
            let filled = kept + got;
            let last = got == 0;
            // Whole lines only, except at the end of the part.
            let cut =
                if last { filled } else { memchr::memrchr(b'\n', &buf[kept..filled]).map_or(0, |i| kept + i + 1) };
            if cut > 0 {
                let lines = &buf[..cut];
                if !plain(lines) {
                    return None;
                }
                run(lines)?;
            }
            if last {
                return Some(());
            }
            buf.copy_within(cut..filled, 0);
            kept = filled - cut;
        }
    }

    /// `f` of the part's first record, the rest not read; `None` if it has
    /// none in its first [`CHUNK_BYTES`] or they are not plain.
    pub fn first_record<R>(&self, f: impl FnOnce(Record<'_>) -> Option<R>) -> Option<R> {
        let read;
        let (head, whole) = match self {
            Part::Bytes(bytes) => (&bytes[..bytes.len().min(CHUNK_BYTES)], bytes.len() <= CHUNK_BYTES),
            Part::File { path, start, end } => {
                let mut file = File::open(path).ok()?;
                file.seek(SeekFrom::Start(*start)).ok()?;
                let mut buf = Vec::new();
                file.take(end.saturating_sub(*start).min(CHUNK_BYTES as u64)).read_to_end(&mut buf).ok()?;
                read = buf;
                (&read[..], end.saturating_sub(*start) <= CHUNK_BYTES as u64)
            }
        };
        // Whole lines only, unless the part ends within the head.
        let lines = if whole { head } else { &head[..memchr::memrchr(b'\n', head)? + 1] };
        if !plain(lines) {
            return None;
        }
        let mut records = Records::plain_part(lines);
        f(records.next_record()?.ok()?)
    }
}

/// What reads the rows of a part of two columns, id first
/// ([`Part::each_numbered`]); the id of a line is written canonically.
pub trait NumberedRows {
    /// A line `<id>,<x>` of a part of numbers, `x` finite.
    fn number(&mut self, id: u64, x: f64) -> Option<()>;
    /// A line `<id>,<byte>` of a part of text: the value is that one byte.
    fn byte(&mut self, id: u64, byte: u8) -> Option<()>;
    /// Any other record.
    fn record(&mut self, rec: Record<'_>) -> Option<()>;
}

/// Calls `each` on the records of plain `lines` from `pos` on, split field
/// by field.
fn each_past(lines: &[u8], pos: usize, each: &mut impl FnMut(Record<'_>) -> Option<()>) -> Option<()> {
    let mut records = Records::plain_part(lines.get(pos..).unwrap_or_default());
    while let Some(rec) = records.next_record() {
        each(rec.ok()?)?;
    }
    Some(())
}

/// The line of plain `lines` that starts at `start` if it is `<number>,<value>`:
/// two fields, the first a number written canonically (1 to 18 digits, no
/// leading zero); the record and where the next line starts. `None` for
/// any other line, blank ones included. Its fields are the bytes the
/// field-by-field split gives (a `\r` before the newline dropped). With
/// [`Values::Numbers`], a value that is a number up to the line's end
/// comes read ([`Record::finite`]); any other value, NaN in its place.
/// With [`Values::Text`], a one-byte value that a newline follows ends
/// there, with no search.
/// Inlined: returned through memory, its record was read back wider than
/// it had been written, a stall that took half of the caller's time.
#[inline(always)]
fn numbered_line(lines: &[u8], start: usize, values: Values) -> Option<(Record<'_>, usize)> {
    let short = lines.get(start..).and_then(|rest| rest.first_chunk::<8>());
    let (id, comma) = match short.and_then(|word| short_number(u64::from_le_bytes(*word))) {
        Some((id, digits)) => (id, start + digits),
        None => {
            let comma = start + lines[start..].iter().take(19).take_while(|b| b.is_ascii_digit()).count();
            if lines.get(comma) != Some(&b',') {
                return None;
            }
            (canonical_int(&lines[start..comma])?, comma)
        }
    };
    let from = comma + 1;
    // A one-byte value that ends the line (a class label, the commonest
    // value of a labels file) needs no search for its end.
    if values == Values::Text
        && let Some(&[value, b'\n']) = lines.get(from..from + 2)
        && !is_separator(value)
        && value != b'\r'
    {
        return Some((Record::Numbered(id, &lines[start..comma], &lines[from..from + 1], f64::NAN), from + 2));
    }
    // A number up to the line's end (the commonest value) is read as it
    // is found: its end is where its digits stop.
    if values == Values::Numbers
        && let Ok((x, used)) = fast_float2::parse_partial::<f64, _>(&lines[from..])
    {
        let end = from + used;
        let next = match lines.get(end) {
            None => Some(end),
            Some(b'\n') => Some(end + 1),
            Some(b'\r') if lines.get(end + 1) == Some(&b'\n') => Some(end + 2),
            _ => None,
        };
        if let Some(next) = next {
            return Some((Record::Numbered(id, &lines[start..comma], &lines[from..end], x), next));
        }
    }
    let end = next_separator(lines, from);
    if lines.get(end) == Some(&b',') {
        return None;
    }
    let value_end = if end > from && lines[end - 1] == b'\r' { end - 1 } else { end };
    Some((Record::Numbered(id, &lines[start..comma], &lines[from..value_end], f64::NAN), end + 1))
}

/// The number that the eight bytes of `word` (in memory order) start
/// with when it is written canonically in 1 to 7 digits and a comma
/// follows: its value and its digit count. `None` for anything else,
/// which the caller reads a byte at a time. The digits are found and
/// added up within the word, without a branch a digit.
#[inline(always)]
fn short_number(word: u64) -> Option<(u64, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = word ^ (ONES * u64::from(b'0')); // a digit's byte is now its value
    // The high bit of each byte that is not 0 to 9 (no carries between
    // bytes: the low seven bits are added on their own).
    let not_digit = (((x & (ONES * 0x7f)) + ONES * (0x80 - 10)) | x) & (ONES * 0x80);
    let digits = (not_digit.trailing_zeros() / 8) as usize;
    if digits == 0 || digits == 8 || (word >> (8 * digits)) as u8 != b',' || (digits > 1 && word as u8 == b'0') {
        return None;
    }
    // The digits moved to the word's top, the first at byte 8 - digits:
    // then pairs, fours and eights of digits are added up in place.
    let v = x << (8 * (8 - digits));
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v1 = (v & 0x0000_00ff_0000_00ff).wrapping_mul(0x000f_4240_0000_0064);
    let v2 = ((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(0x0000_2710_0000_0001);
    Some((u64::from((v1.wrapping_add(v2) >> 32) as u32), digits))
}

/// `s` as an integer if it is written canonically (1 to 18 digits, no
/// leading zero), so that equal integers are equal strings.
pub fn canonical_int(s: impl AsRef<[u8]>) -> Option<u64> {
    let b = s.as_ref();
    if b.is_empty() || b.len() > 18 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    // At most 18 digits: no overflow.
    b.iter().try_fold(0u64, |n, &d| d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0')))
}

/// The first comma or newline of `bytes` at or after `from`, eight bytes
/// at a time; `bytes.len()` if none.
#[inline]
fn next_separator(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(word) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let hit = separator_bytes(u64::from_le_bytes(*word));
        if hit != 0 {
            return at + (hit.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    bytes.get(at..).unwrap_or_default().iter().position(|&b| is_separator(b)).map_or(bytes.len(), |i| at + i)
}

/// The high bit of each byte of `w` that is a comma or a newline, exactly.
#[inline]
fn separator_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` that is zero, exactly (no carries
    // between bytes: the low seven bits are added on their own).
    let zero_bytes = |x: u64| !(((x & !HIGH) + !HIGH) | x | !HIGH);
    zero_bytes(w ^ (ONES * u64::from(b','))) | zero_bytes(w ^ (ONES * u64::from(b'\n')))
}

/// One record: its fields as bytes.
pub enum Record<'r> {
    /// Fields of a plain line, and its bytes as text if they are UTF-8.
    Plain(&'r [u8], &'r [(usize, usize)], Option<&'r str>),
    /// A line `<number>,<value>`: the number, its digits, the value's
    /// bytes and, when they are a number, its value (NaN otherwise; see
    /// [`numbered_line`]).
    Numbered(u64, &'r [u8], &'r [u8], f64),
    /// A record the `csv` crate read.
    Csv(&'r csv::ByteRecord),
}

impl Record<'_> {
    /// Number of fields.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Self::Plain(_, b, _) => b.len(),
            Self::Numbered(..) => 2,
            Self::Csv(r) => r.len(),
        }
    }

    /// Whether the record has no fields (never, for a record read).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Field `i` (empty when out of range).
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        match self {
            Self::Plain(bytes, b, _) => b.get(i).map_or(&[][..], |&(s, e)| &bytes[s..e]),
            Self::Numbered(_, id, value, _) => match i {
                0 => id,
                1 => value,
                _ => &[],
            },
            Self::Csv(r) => r.get(i).unwrap_or_default(),
        }
    }

    /// Field `col`'s number, when the record was read as `<number>,<value>`
    /// and `col` is the first: the field is that number written
    /// canonically ([`canonical_int`]).
    #[inline]
    pub fn number(&self, col: usize) -> Option<u64> {
        match self {
            Self::Numbered(id, ..) if col == 0 => Some(*id),
            _ => None,
        }
    }

    /// Field `i` as a finite number written in ASCII, as fast-float reads
    /// it (ASCII whitespace around it allowed); `None` for anything else,
    /// which callers read as text to say what is wrong.
    #[inline]
    pub fn finite(&self, i: usize) -> Option<f64> {
        match self {
            Self::Numbered(.., x) if i == 1 && x.is_finite() => Some(*x),
            _ => fast_float2::parse::<f64, _>(self.get(i).trim_ascii()).ok().filter(|v| v.is_finite()),
        }
    }

    /// Field `i` as trimmed UTF-8 text, `None` if it is not UTF-8.
    #[inline]
    pub fn text(&self, i: usize) -> Option<&str> {
        if let Self::Plain(_, b, Some(text)) = self {
            // Cut at commas and newlines, every field of UTF-8 text is too.
            return Some(b.get(i).map_or("", |&(s, e)| trim(&text[s..e])));
        }
        std::str::from_utf8(self.get(i)).ok().map(trim)
    }

    /// The fields as column names: trimmed text, a byte-order mark
    /// dropped; `None` if a field is not UTF-8.
    pub fn column_names(&self) -> Option<Vec<String>> {
        (0..self.len()).map(|i| self.text(i).map(|t| t.trim_start_matches('\u{feff}').trim().to_owned())).collect()
    }
}

/// `text` without leading and trailing whitespace, as [`str::trim`], but
/// without looking further when both ends are visible ASCII.
fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        [only] if only.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// Whether `bytes` can be split in place: no quotes, no lone `\r`.
fn plain(bytes: &[u8]) -> bool {
    memchr::memchr(b'"', bytes).is_none() && memchr::memchr_iter(b'\r', bytes).all(|i| bytes.get(i + 1) == Some(&b'\n'))
}

/// Plain files at least this large are read on every core.
const PARALLEL_BYTES: usize = 1 << 20;

/// How many parts a large file is read in (and a large metric computed
/// in): one per core, at most 8.
pub(super) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

/// A header line longer than this, and the file is read whole.
const MAX_HEADER_BYTES: u64 = 64 << 10;

/// The header line of the file at `path` and the rest of the file cut at
/// line starts into one [`Part`] per core, each to be read a chunk at a
/// time; `None` when that is not worth it or not possible (a small file,
/// one core, a header that is not plain or very long): the caller reads
/// the file whole. The rest is checked to be plain as it is read.
pub fn split_file(path: &Path) -> std::io::Result<Option<(Vec<u8>, Vec<Part<'_>>)>> {
    let threads = threads();
    let mut reader = BufReader::new(File::open(path)?);
    let len = reader.get_ref().metadata()?.len();
    if threads < 2 || len < PARALLEL_BYTES as u64 {
        return Ok(None);
    }
    let mut header = Vec::new();
    (&mut reader).take(MAX_HEADER_BYTES).read_until(b'\n', &mut header)?;
    if header.last() != Some(&b'\n') || !plain(&header) {
        return Ok(None);
    }
    let mut start = header.len() as u64;
    let mut parts = Vec::with_capacity(threads);
    for left in (1..=threads as u64).rev() {
        let end = if left == 1 {
            len
        } else {
            // The first line start at or after an even share of the rest.
            let at = start + (len - start) / left;
            reader.seek(SeekFrom::Start(at))?;
            (at + reader.skip_until(b'\n')? as u64).min(len)
        };
        if end > start {
            parts.push(Part::File { path, start, end });
        }
        start = end;
    }
    Ok(Some((header, parts)))
}

/// Runs `read` on each part (with anything else it needs) on a thread of
/// its own: every result in order, or `None` if any part gives `None`.
pub fn read_in_parallel<P: Send, T: Send>(parts: Vec<P>, read: impl Fn(P) -> Option<T> + Sync) -> Option<Vec<T>> {
    let read = &read;
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts.into_iter().map(|part| scope.spawn(move || read(part))).collect();
        handles.into_iter().map(|h| h.join().ok().flatten()).collect()
    })
}

impl<'a> Records<'a> {
    /// Records of `bytes`; rows may have any number of fields.
    pub fn new(bytes: &'a [u8]) -> Self {
        let inner = if plain(bytes) {
            // Like the csv crate, skip a UTF-8 byte order mark.
            Inner::Plain {
                bytes,
                text: None,
                pos: if bytes.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 },
                hits: Separators::new(bytes),
            }
        } else {
            let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
            Inner::Csv { reader: Box::new(reader), record: csv::ByteRecord::new() }
        };
        Self { inner, bounds: Vec::new() }
    }

    /// A reader of `bytes`, whole lines of a file known to be plain, its
    /// text checked to be UTF-8 once for all its fields.
    fn plain_part(bytes: &'a [u8]) -> Self {
        let text = std::str::from_utf8(bytes).ok();
        let inner = Inner::Plain { bytes, text, pos: 0, hits: Separators::new(bytes) };
        Self { inner, bounds: Vec::new() }
    }

    /// The records not read yet, cut at line ends into one reader per core:
    /// for a plain file of at least [`PARALLEL_BYTES`] on a machine with
    /// more than one core; `None` otherwise.
    pub fn split_rest(&self) -> Option<Vec<Part<'a>>> {
        let Inner::Plain { bytes, pos, .. } = &self.inner else { return None };
        let threads = threads();
        if threads < 2 || bytes.len() < PARALLEL_BYTES {
            return None;
        }
        let bytes: &'a [u8] = bytes;
        let mut rest = &bytes[(*pos).min(bytes.len())..];
        let mut parts = Vec::with_capacity(threads);
        for left in (1..=threads).rev() {
            let at = rest.len() / left;
            let cut = if left == 1 {
                rest.len()
            } else {
                memchr::memchr(b'\n', &rest[at..]).map_or(rest.len(), |i| at + i + 1)
            };
            parts.push(Part::Bytes(&rest[..cut]));
            rest = &rest[cut..];
        }
        Some(parts)
    }

    /// The next record, `None` at the end, or why the file is unreadable.
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, String>> {
        match &mut self.inner {
            Inner::Csv { reader, record } => match reader.read_byte_record(record) {
                Ok(true) => Some(Ok(Record::Csv(record))),
                Ok(false) => None,
                Err(e) => Some(Err(e.to_string())),
            },
            Inner::Plain { bytes, text, pos, hits } => {
                let bytes: &'a [u8] = bytes;
                loop {
                    if *pos >= bytes.len() {
                        return None;
                    }
                    self.bounds.clear();
                    let start = *pos;
                    let mut field = start;
                    let end = loop {
                        match hits.next() {
                            Some(i) if bytes[i] == b',' => {
                                self.bounds.push((field, i));
                                field = i + 1;
                            }
                            Some(i) => break i,
                            None => break bytes.len(),
                        }
                    };
                    *pos = end + 1;
                    let line_end = if end > start && bytes[end - 1] == b'\r' { end - 1 } else { end };
                    if line_end == start {
                        continue; // a blank line
                    }
                    self.bounds.push((field, line_end));
                    return Some(Ok(Record::Plain(bytes, &self.bounds, *text)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut r = Records::new(bytes);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record() {
            let rec = rec.unwrap();
            out.push((0..rec.len()).map(|i| rec.get(i).to_vec()).collect());
        }
        out
    }

    fn via_csv(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        reader.byte_records().map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect()).collect()
    }

    #[test]
    fn separators_are_found_at_every_byte_value_and_length() {
        // Every byte value at every offset of a block, including those one
        // bit away from a comma or a newline (0xac, 0x8a, 0x2d, 0x0b), and
        // lengths that end mid-block.
        let mut state = 99u64;
        let mut bytes: Vec<u8> = (0..=255u8).cycle().take(64 * 256 + 17).collect();
        bytes.extend((0..3000).map(|_| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            [b',', b'\n', 0xac, 0x8a, b'0', 0x2d, 0x0b][(state >> 33) as usize % 7]
        }));
        for len in [0, 1, 63, 64, 65, 200, bytes.len()] {
            let bytes = &bytes[..len];
            let want: Vec<usize> = (0..len).filter(|&i| is_separator(bytes[i])).collect();
            assert_eq!(Separators::new(bytes).collect::<Vec<_>>(), want, "{len} bytes");
        }
    }

    #[test]
    fn plain_files_split_in_place_exactly_as_the_csv_crate_reads_them() {
        for text in [
            "id,y\n1,0.5\n2,0.25\n",
            "id,y\r\n1,0.5\r\n2,0.25",
            "id,y\n\n1,0.5\n\n\n2,\n",
            "id,a,b\n1,,\n2,x\n3,1,2,3\n",
            " id , y \n 1 , 2 \n",
            "\u{feff}id,y\n1,2\n",
            "id\n",
            "",
            "\n\n",
            "a,b\n1,2\r\n3,4\r\n\r\n",
        ] {
            assert!(plain(text.as_bytes()), "{text:?}");
            assert_eq!(all(text.as_bytes()), via_csv(text.as_bytes()), "{text:?}");
        }
    }

    #[test]
    fn the_rest_of_a_big_plain_file_splits_into_whole_lines_in_order() {
        let text: String =
            std::iter::once("id,y\n".to_owned()).chain((0..100_000).map(|i| format!("{i},{i}.5\n"))).collect();
        let mut records = Records::new(text.as_bytes());
        records.next_record().unwrap().unwrap(); // the header
        match records.split_rest() {
            Some(parts) => {
                let rows: Vec<Vec<u8>> = parts.into_iter().flat_map(|p| whole(p).unwrap()).collect();
                assert_eq!(rows.len(), 100_000);
                assert!(rows.iter().enumerate().all(|(i, id)| *id == i.to_string().into_bytes()));
            }
            None => assert_eq!(std::thread::available_parallelism().map_or(1, |n| n.get()), 1),
        }
        assert!(Records::new(b"id,y\n\"1\",2\n").split_rest().is_none(), "quoted files are read in one piece");
    }

    /// The first field of every record of `part`, or `None` if it stopped.
    fn whole(part: Part<'_>) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        part.each_record(Values::Numbers, |rec| {
            out.push(rec.get(0).to_vec());
            Some(())
        })?;
        Some(out)
    }

    /// The word at a time reading of a line's number agrees with the byte
    /// at a time one on every word: digits of every length, a leading
    /// zero, and the bytes next to '0' to '9' and to the comma.
    #[test]
    fn a_short_number_is_read_as_its_digits_one_by_one_read_it() {
        let slow = |word: &[u8; 8]| {
            let digits = word.iter().take_while(|b| b.is_ascii_digit()).count();
            (digits < 8 && word[digits] == b',')
                .then(|| canonical_int(&word[..digits]).map(|n| (n, digits)))
                .flatten()
                .filter(|_| digits <= 7)
        };
        let bytes = [b'0', b'1', b'5', b'9', b'/', b':', b',', b'+', b'-', 0xb0, 0xb9, 0x10, b'\n', b'a'];
        let mut state = 7u64;
        for _ in 0..200_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let digits = (state >> 60) as usize % 9;
            let mut word = [0u8; 8];
            for (i, b) in word.iter_mut().enumerate() {
                let pick = (state >> (4 * i + 3)) as usize;
                *b = if i < digits { b"0123456789"[pick % 10] } else { bytes[pick % bytes.len()] };
            }
            if digits < 8 && state >> 59 & 1 == 0 {
                word[digits] = b',';
            }
            assert_eq!(short_number(u64::from_le_bytes(word)), slow(&word), "{word:?}");
        }
        for n in [0u64, 1, 9, 10, 99, 100, 1234567, 9999999] {
            let mut word = [b'x'; 8];
            let text = format!("{n},");
            word[..text.len()].copy_from_slice(text.as_bytes());
            assert_eq!(short_number(u64::from_le_bytes(word)), Some((n, text.len() - 1)), "{n}");
        }
    }

    #[test]
    fn numbered_lines_give_the_fields_the_csv_crate_reads_and_their_number() {
        let mut lines: Vec<String> = [
            "1,0.5",
            "0,x",
            "10,",
            "007,1",
            "0,1",
            "12345678901234567,1",
            "123456789012345678,1",
            "1234567890123456789,1",
            "1,a,b",
            "1,0.5\r",
            "",
            "\r",
            "1",
            "a,1",
            "1 ,2",
            " 1,2",
            "-1,2",
            "+1,2",
            "1,2,",
            "1,é",
            "99,\u{feff}",
            "5,,",
            // Values that are numbers, or start as one and are not.
            "2,1e5",
            "3,-0.25",
            "4,inf",
            "5,nan",
            "6,1.5e",
            "7,0.5 ",
            "8,1.0x",
            "9,+3",
            "10,.5",
            "11,5.",
            "12,0.5,",
            "13,0.123456789012345678901234567890",
            // One-byte values, and an empty one before a blank line.
            "14,\t",
            "15, ",
            "16,~",
            "17,9",
            "18,",
            "",
        ]
        .map(str::to_owned)
        .into();
        // A comma or a newline at every offset of a long value, across the
        // eight-byte words the separator search reads.
        for at in 0..20 {
            let mut value = "v".repeat(20);
            value.insert(at, ',');
            lines.push(format!("{at},{value}"));
        }
        lines.push(format!("77,{}", "w".repeat(19)));
        for ending in ["\n", "\r\n"] {
            // Each line alone, and all of them in one part (numbered lines
            // then others then numbered ones again), the last without a newline.
            // Each line alone is read as numbered exactly when it is one; in
            // a longer part, a line after one that is not may be read field
            // by field, its number not given.
            let mut texts: Vec<(String, bool)> = lines.iter().map(|l| (format!("{l}{ending}"), true)).collect();
            texts.push((lines.iter().map(|l| format!("{l}{ending}")).collect::<String>(), false));
            texts.push((format!("3,4{ending}5,6"), true));
            // Parts are plain: no quote, no lone carriage return.
            let texts = texts.into_iter().filter(|(text, _)| plain(text.as_bytes()));
            for ((text, exact), values) in texts.flat_map(|t| [(t.clone(), Values::Numbers), (t, Values::Text)]) {
                let mut got = Vec::new();
                Part::Bytes(text.as_bytes())
                    .each_record(values, |rec| {
                        let fields: Vec<Vec<u8>> = (0..rec.len()).map(|i| rec.get(i).to_vec()).collect();
                        // A value read as its end was found is the value
                        // its bytes give read alone.
                        let alone =
                            fast_float2::parse::<f64, _>(rec.get(1).trim_ascii()).ok().filter(|x| x.is_finite());
                        assert_eq!(rec.finite(1).map(f64::to_bits), alone.map(f64::to_bits), "{text:?}");
                        got.push((fields, rec.number(0)));
                        Some(())
                    })
                    .unwrap();
                let want: Vec<(Vec<Vec<u8>>, Option<u64>)> = via_csv(text.as_bytes())
                    .into_iter()
                    .map(|fields| {
                        let first = std::str::from_utf8(&fields[0]).unwrap();
                        let canonical = first.len() <= 18
                            && first.parse::<u64>().is_ok_and(|n| n.to_string() == first)
                            && fields.len() == 2;
                        let number = canonical.then(|| first.parse().unwrap());
                        (fields, number)
                    })
                    .collect();
                let fields =
                    |rows: &[(Vec<Vec<u8>>, Option<u64>)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
                assert_eq!(fields(&got), fields(&want), "{text:?}");
                for ((_, got), (_, want)) in got.iter().zip(&want) {
                    assert!(got == want || (!exact && got.is_none()), "{text:?}: {got:?}, not {want:?}");
                }
            }
        }
    }

    #[test]
    fn a_big_file_is_read_in_parts_of_whole_lines_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        // A line far longer than a chunk, blank and CRLF lines, no final newline.
        let long = "x".repeat(3 * CHUNK_BYTES);
        let mut text = String::from("id,y\r\n");
        let mut want = Vec::new();
        for i in 0..200_000 {
            let id = if i == 1_234 { long.clone() } else { i.to_string() };
            text += &format!("{id},{i}.5{}", if i % 3 == 0 { "\r\n\n" } else { "\n" });
            want.push(id.into_bytes());
        }
        text.pop();
        std::fs::write(&path, &text).unwrap();
        let Some((header, parts)) = split_file(&path).unwrap() else {
            assert_eq!(threads(), 1, "a big plain file is split on more than one core");
            return;
        };
        assert_eq!(header, b"id,y\r\n");
        assert!(parts.len() >= 2);
        let rows: Vec<Vec<u8>> = parts.into_iter().flat_map(|p| whole(p).expect("plain")).collect();
        assert_eq!(rows, want);
        // Read in memory, the same records.
        let mut records = Records::new(text.as_bytes());
        records.next_record().unwrap().unwrap();
        let in_memory: Vec<Vec<u8>> =
            records.split_rest().unwrap().into_iter().flat_map(|p| whole(p).unwrap()).collect();
        assert_eq!(in_memory, want);
    }

    #[test]
    fn a_file_part_that_turns_out_not_plain_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("quoted.csv");
        let mut text: String =
            std::iter::once("id,y\n".to_owned()).chain((0..100_000).map(|i| format!("{i},{i}\n"))).collect();
        text += "\"a,b\",1\n";
        std::fs::write(&path, &text).unwrap();
        match split_file(&path).unwrap() {
            Some((_, parts)) => {
                let read: Vec<Option<Vec<Vec<u8>>>> = parts.into_iter().map(whole).collect();
                assert!(read[0].is_some() && read.last().unwrap().is_none(), "the last part holds the quote");
            }
            None => assert_eq!(threads(), 1, "a big file with a plain header is split on more than one core"),
        }
        // A quoted header, a small file: read whole by the caller.
        std::fs::write(&path, format!("\"id\",y\n{text}")).unwrap();
        assert!(split_file(&path).unwrap().is_none());
        std::fs::write(&path, "id,y\n1,2\n").unwrap();
        assert!(split_file(&path).unwrap().is_none());
    }

    #[test]
    fn the_quick_trim_trims_exactly_as_str_trim() {
        for text in ["", "a", " ", "ab", " a", "a ", "\ta\n", "\u{a0}a", "a\u{3000}", "é", "\u{a0}", "a b", "1.5"] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn quotes_and_lone_carriage_returns_go_through_the_csv_crate() {
        for text in ["id,y\n\"1,5\",2\n", "id,y\r1,2\r", "id,y\n1,\"a\nb\"\n"] {
            assert!(!plain(text.as_bytes()), "{text:?}");
            assert_eq!(all(text.as_bytes()), via_csv(text.as_bytes()), "{text:?}");
        }
    }
}
