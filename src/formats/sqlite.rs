//! A read-only reader of SQLite 3 database files: the schema and the rows of
//! rowid tables, from the bytes of the file. No SQL, no indexes, no writes.
//!
//! nfsha reads one database this way: nfsdcld's client-tracking database
//! (`main.sqlite` in its storage directory), to show which NFSv4 clients have
//! reclaimed during a grace period without linking the SQLite library into a
//! static binary. The format is SQLite's documented file format
//! (<https://www.sqlite.org/fileformat2.html>): a 100-byte header, then
//! b-tree pages; page 1 holds the schema table.
//!
//! Every offset and page number read from the file is checked, and a page is
//! visited at most once per walk, so a corrupt or hostile file gives an
//! error, never a panic or a loop. A database in WAL mode is refused: its
//! newest rows may live in the `-wal` file, which this reader does not apply
//! (nfsdcld uses the default rollback journal).

use std::fmt;

/// A value of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    /// Text as stored (UTF-8 for the databases nfsha reads).
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Value {
    /// The value as an integer: an integer, or text that is one (SQLite
    /// stores `"0"` written into an INTEGER column as the integer 0, but an
    /// older writer may have left text).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            Value::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }

    /// The bytes of a blob or a text.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) | Value::Text(b) => Some(b),
            _ => None,
        }
    }
}

/// A row of a rowid table: its rowid and its columns.
pub type Row = (i64, Vec<Value>);

/// One row of the schema table (`sqlite_schema`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaEntry {
    /// `table`, `index`, `view` or `trigger`.
    pub kind: String,
    pub name: String,
    /// The root page of a table's or an index's b-tree (0 for views).
    pub root_page: u32,
    pub sql: String,
}

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// b-tree page types.
const INTERIOR_TABLE: u8 = 5;
const LEAF_TABLE: u8 = 13;
/// A table's b-tree is never deeper than this in a sane file.
const MAX_DEPTH: usize = 64;

/// A database file held in memory.
#[derive(Debug)]
pub struct Database<'a> {
    data: &'a [u8],
    page_size: usize,
    /// The page size less the bytes reserved at the end of every page.
    usable: usize,
    pages: u32,
}

impl<'a> Database<'a> {
    /// Check the header of `data` (a whole database file).
    pub fn open(data: &'a [u8]) -> Result<Database<'a>, Error> {
        if data.len() < 100 || &data[..16] != MAGIC {
            return err("not an SQLite 3 database (no \"SQLite format 3\" header)");
        }
        let page_size = match u16::from_be_bytes([data[16], data[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            n => return err(format!("invalid page size {n}")),
        };
        let (write_version, read_version) = (data[18], data[19]);
        if write_version == 2 || read_version == 2 {
            return err(
                "the database is in WAL mode: its newest changes may be in the -wal file, \
                 which this reader does not apply",
            );
        }
        if read_version > 2 {
            return err(format!("unknown file format read version {read_version}"));
        }
        let reserved = usize::from(data[20]);
        if reserved >= page_size - 480 {
            return err(format!(
                "{reserved} reserved bytes per page leave too little room"
            ));
        }
        let from_len = (data.len() / page_size) as u32;
        // The header's page count is valid only when written by a version
        // that keeps it (change counter equals version-valid-for).
        let in_header = u32::from_be_bytes([data[28], data[29], data[30], data[31]]);
        let valid = data[24..28] == data[92..96];
        let pages = if valid && in_header > 0 {
            in_header.min(from_len)
        } else {
            from_len
        };
        if pages == 0 {
            return err("the file is shorter than one page");
        }
        Ok(Database {
            data,
            page_size,
            usable: page_size - reserved,
            pages,
        })
    }

    /// The bytes of page `n` (1-based).
    fn page(&self, n: u32) -> Result<&'a [u8], Error> {
        if n == 0 || n > self.pages {
            return err(format!(
                "page {n} is outside the file ({} pages)",
                self.pages
            ));
        }
        let start = (n as usize - 1) * self.page_size;
        Ok(&self.data[start..start + self.page_size])
    }

    /// The schema: every table, index, view and trigger.
    pub fn schema(&self) -> Result<Vec<SchemaEntry>, Error> {
        let text = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_default()
        };
        Ok(self
            .rows(1)?
            .into_iter()
            .map(|(_, cols)| SchemaEntry {
                kind: text(cols.first()),
                name: text(cols.get(1)),
                root_page: cols
                    .get(3)
                    .and_then(Value::as_i64)
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(0),
                sql: text(cols.get(4)),
            })
            .collect())
    }

    /// The rows of the table named `name` (an exact, case-sensitive match),
    /// as (rowid, columns); `Ok(None)` when there is no such table.
    pub fn table(&self, name: &str) -> Result<Option<Vec<Row>>, Error> {
        match self
            .schema()?
            .into_iter()
            .find(|e| e.kind == "table" && e.name == name)
        {
            Some(e) if e.root_page > 0 => self.rows(e.root_page).map(Some),
            Some(e) => err(format!("table {:?} has no root page", e.name)),
            None => Ok(None),
        }
    }

    /// Every row of the rowid table whose b-tree starts at `root`, in rowid
    /// order.
    pub fn rows(&self, root: u32) -> Result<Vec<Row>, Error> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // (page, depth): children are pushed in reverse, so rows come out in order.
        let mut stack = vec![(root, 0usize)];
        while let Some((n, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return err("table b-tree deeper than 64 levels");
            }
            if !seen.insert(n) {
                return err(format!("page {n} is reached twice (a corrupt b-tree)"));
            }
            let page = self.page(n)?;
            let hdr = if n == 1 { 100 } else { 0 };
            let kind = page[hdr];
            let cells = usize::from(u16::from_be_bytes([page[hdr + 3], page[hdr + 4]]));
            let header_len = match kind {
                LEAF_TABLE => 8,
                INTERIOR_TABLE => 12,
                k => return err(format!("page {n} is not a table b-tree page (type {k})")),
            };
            let pointers = hdr + header_len;
            if pointers + 2 * cells > page.len() {
                return err(format!("page {n} claims {cells} cells, more than fit"));
            }
            let cell_at = |i: usize| -> Result<usize, Error> {
                let p = pointers + 2 * i;
                let off = usize::from(u16::from_be_bytes([page[p], page[p + 1]]));
                if off < pointers + 2 * cells || off >= self.usable {
                    return err(format!(
                        "page {n}: cell {i} at offset {off} is out of place"
                    ));
                }
                Ok(off)
            };
            if kind == INTERIOR_TABLE {
                let right = u32::from_be_bytes([
                    page[hdr + 8],
                    page[hdr + 9],
                    page[hdr + 10],
                    page[hdr + 11],
                ]);
                stack.push((right, depth + 1));
                for i in (0..cells).rev() {
                    let off = cell_at(i)?;
                    let child = page
                        .get(off..off + 4)
                        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                        .ok_or_else(|| Error(format!("page {n}: cell {i} is cut short")))?;
                    stack.push((child, depth + 1));
                }
                continue;
            }
            for i in 0..cells {
                let off = cell_at(i)?;
                let (payload_len, a) = varint(&page[off..self.usable])
                    .ok_or_else(|| Error(format!("page {n}: cell {i} is cut short")))?;
                let (rowid, b) = varint(&page[off + a..self.usable])
                    .ok_or_else(|| Error(format!("page {n}: cell {i} is cut short")))?;
                let payload = self.payload(page, off + a + b, payload_len)?;
                out.push((rowid as i64, record(&payload)?));
            }
        }
        Ok(out)
    }

    /// The payload of a table leaf cell starting at `at` in `page`: the local
    /// part and, for a large one, its chain of overflow pages.
    fn payload(&self, page: &[u8], at: usize, len: u64) -> Result<Vec<u8>, Error> {
        let u = self.usable;
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l <= self.data.len())
            .ok_or_else(|| Error(format!("a payload of {len} bytes is larger than the file")))?;
        let max_local = u - 35;
        let local = if len <= max_local {
            len
        } else {
            let min_local = (u - 12) * 32 / 255 - 23;
            let k = min_local + (len - min_local) % (u - 4);
            if k <= max_local {
                k
            } else {
                min_local
            }
        };
        let mut out = page
            .get(at..at + local)
            .ok_or_else(|| Error("a cell's payload runs past its page".to_string()))?
            .to_vec();
        if local == len {
            return Ok(out);
        }
        let mut next = page
            .get(at + local..at + local + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| Error("a cell's overflow pointer runs past its page".to_string()))?;
        let mut hops = 0u32;
        while out.len() < len {
            hops += 1;
            if next == 0 || hops > self.pages {
                return err("an overflow chain ends early or loops");
            }
            let p = self.page(next)?;
            let take = (len - out.len()).min(u - 4);
            out.extend_from_slice(&p[4..4 + take]);
            next = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
        }
        Ok(out)
    }
}

/// A SQLite varint (1–9 bytes, big-endian, 7 bits per byte but the ninth
/// byte's 8): the value and the bytes it took.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The columns of a record (header of serial types, then the values).
fn record(p: &[u8]) -> Result<Vec<Value>, Error> {
    let bad = |what: &str| Error(format!("a record is malformed: {what}"));
    let (header_len, mut h) = varint(p).ok_or_else(|| bad("no header"))?;
    let header_len = usize::try_from(header_len)
        .ok()
        .filter(|l| *l <= p.len() && *l >= h)
        .ok_or_else(|| bad("header length"))?;
    let mut body = header_len;
    let mut cols = Vec::new();
    while h < header_len {
        let (t, n) = varint(&p[h..header_len]).ok_or_else(|| bad("serial type"))?;
        h += n;
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(bad("reserved serial type")),
            t => ((t - 12) / 2) as usize,
        };
        let v = p
            .get(body..body + size)
            .ok_or_else(|| bad("a value runs past the record"))?;
        body += size;
        cols.push(match t {
            0 => Value::Null,
            8 => Value::Integer(0),
            9 => Value::Integer(1),
            1..=6 => {
                // Big-endian two's complement of 1, 2, 3, 4, 6 or 8 bytes.
                let mut i: i64 = if v[0] & 0x80 != 0 { -1 } else { 0 };
                for byte in v {
                    i = (i << 8) | i64::from(*byte);
                }
                Value::Integer(i)
            }
            7 => Value::Real(f64::from_be_bytes(v.try_into().map_err(|_| bad("real"))?)),
            t if t % 2 == 0 => Value::Blob(v.to_vec()),
            _ => Value::Text(v.to_vec()),
        });
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }

    #[test]
    fn records_of_every_serial_type() {
        // header: len 8; types: NULL, 1-byte int -1, 0, 1, text "ab", blob [7], 6-byte int
        let p = [
            8u8, 0, 1, 8, 9, 17, 14, 5, 0xff, b'a', b'b', 7, 0, 0, 0, 1, 0, 0,
        ];
        assert_eq!(
            record(&p).unwrap(),
            vec![
                Value::Null,
                Value::Integer(-1),
                Value::Integer(0),
                Value::Integer(1),
                Value::Text(b"ab".to_vec()),
                Value::Blob(vec![7]),
                Value::Integer(1 << 16),
            ]
        );
        assert!(record(&[3, 10, 0]).is_err(), "reserved type");
        assert!(record(&[2, 6, 0]).is_err(), "value past the end");
    }

    #[test]
    fn bad_headers_are_refused_with_the_reason() {
        assert!(Database::open(b"not a database").is_err());
        let mut h = vec![0u8; 1024];
        h[..16].copy_from_slice(MAGIC);
        h[16..18].copy_from_slice(&1000u16.to_be_bytes());
        assert!(Database::open(&h).unwrap_err().0.contains("page size"));
        h[16..18].copy_from_slice(&512u16.to_be_bytes());
        h[18] = 2;
        assert!(Database::open(&h).unwrap_err().0.contains("WAL"));
    }

    #[test]
    fn a_page_that_points_at_itself_is_an_error_not_a_loop() {
        // One 512-byte page: an interior table page whose right child is page 1.
        let mut d = vec![0u8; 512];
        d[..16].copy_from_slice(MAGIC);
        d[16..18].copy_from_slice(&512u16.to_be_bytes());
        d[100] = INTERIOR_TABLE;
        d[108..112].copy_from_slice(&1u32.to_be_bytes());
        let db = Database::open(&d).unwrap();
        assert!(db.schema().unwrap_err().0.contains("reached twice"));
    }
}
