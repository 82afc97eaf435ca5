//! A CSV's records without a `String` per field.
//!
//! Invariants: a file with no quote character and no lone carriage return
//! (almost every predictions file) is split on newlines and commas in place,
//! a line at a time with `memchr`; any other file goes through the `csv`
//! crate's byte records. Both give the same records for the same bytes:
//! `\n` and `\r\n` end a record, blank lines are skipped, a last line without
//! a newline counts, a leading byte order mark is dropped, and fields are
//! the raw bytes between commas (callers trim). A test checks the two paths against each other.

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
        pos: usize,
        hits: memchr::Memchr2<'a>,
    },
    Csv {
        reader: Box<csv::Reader<&'a [u8]>>,
        record: csv::ByteRecord,
    },
}

/// One record: its fields as bytes.
pub enum Record<'r> {
    /// Fields of a plain line.
    Plain(&'r [u8], &'r [(usize, usize)]),
    /// A record the `csv` crate read.
    Csv(&'r csv::ByteRecord),
}

impl Record<'_> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Self::Plain(_, b) => b.len(),
            Self::Csv(r) => r.len(),
        }
    }

    /// Whether the record has no fields (never, for a record read).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Field `i` (empty when out of range).
    pub fn get(&self, i: usize) -> &[u8] {
        match self {
            Self::Plain(bytes, b) => b.get(i).map_or(&[][..], |&(s, e)| &bytes[s..e]),
            Self::Csv(r) => r.get(i).unwrap_or_default(),
        }
    }

    /// Field `i` as trimmed UTF-8 text, `None` if it is not UTF-8.
    pub fn text(&self, i: usize) -> Option<&str> {
        std::str::from_utf8(self.get(i)).ok().map(str::trim)
    }

    /// The fields as column names: trimmed text, a byte-order mark
    /// dropped; `None` if a field is not UTF-8.
    pub fn column_names(&self) -> Option<Vec<String>> {
        (0..self.len()).map(|i| self.text(i).map(|t| t.trim_start_matches('\u{feff}').trim().to_owned())).collect()
    }
}

/// Whether `bytes` can be split in place: no quotes, no lone `\r`.
fn plain(bytes: &[u8]) -> bool {
    memchr::memchr(b'"', bytes).is_none() && memchr::memchr_iter(b'\r', bytes).all(|i| bytes.get(i + 1) == Some(&b'\n'))
}

/// Plain files at least this large are read on every core.
const PARALLEL_BYTES: usize = 1 << 20;

/// Runs `read` on each part on a thread of its own: every result in order,
/// or `None` if any part gives `None`.
pub fn read_in_parallel<'a, T: Send>(
    parts: Vec<Records<'a>>,
    read: impl Fn(Records<'a>) -> Option<T> + Sync,
) -> Option<Vec<T>> {
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
                pos: if bytes.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 },
                hits: memchr::memchr2_iter(b',', b'\n', bytes),
            }
        } else {
            let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
            Inner::Csv { reader: Box::new(reader), record: csv::ByteRecord::new() }
        };
        Self { inner, bounds: Vec::new() }
    }

    /// A reader of `bytes`, whole lines of a file already known to be plain.
    fn plain_part(bytes: &'a [u8]) -> Self {
        let inner = Inner::Plain { bytes, pos: 0, hits: memchr::memchr2_iter(b',', b'\n', bytes) };
        Self { inner, bounds: Vec::new() }
    }

    /// The records not read yet, cut at line ends into one reader per core:
    /// for a plain file of at least [`PARALLEL_BYTES`] on a machine with
    /// more than one core; `None` otherwise.
    pub fn split_rest(&self) -> Option<Vec<Records<'a>>> {
        let Inner::Plain { bytes, pos, .. } = &self.inner else { return None };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
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
            parts.push(Self::plain_part(&rest[..cut]));
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
            Inner::Plain { bytes, pos, hits } => {
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
                    return Some(Ok(Record::Plain(bytes, &self.bounds)));
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
        let whole = |mut r: Records<'_>| {
            let mut out = Vec::new();
            while let Some(rec) = r.next_record() {
                out.push(rec.unwrap().get(0).to_vec());
            }
            out
        };
        match records.split_rest() {
            Some(parts) => {
                let rows: Vec<Vec<u8>> = parts.into_iter().flat_map(whole).collect();
                assert_eq!(rows.len(), 100_000);
                assert!(rows.iter().enumerate().all(|(i, id)| *id == i.to_string().into_bytes()));
            }
            None => assert_eq!(std::thread::available_parallelism().map_or(1, |n| n.get()), 1),
        }
        assert!(Records::new(b"id,y\n\"1\",2\n").split_rest().is_none(), "quoted files are read in one piece");
    }

    #[test]
    fn quotes_and_lone_carriage_returns_go_through_the_csv_crate() {
        for text in ["id,y\n\"1,5\",2\n", "id,y\r1,2\r", "id,y\n1,\"a\nb\"\n"] {
            assert!(!plain(text.as_bytes()), "{text:?}");
            assert_eq!(all(text.as_bytes()), via_csv(text.as_bytes()), "{text:?}");
        }
    }
}
