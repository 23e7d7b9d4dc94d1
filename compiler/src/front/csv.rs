//! Connection lists as CSV (`pre,post[,weight][,delay]`), the `from_list`
//! connector's `file`.
//!
//! These files reach millions of lines (a 16k-neuron network is 5M synapses),
//! so plain files (no quotes, no byte-order mark) take a fast path: the whole
//! file in memory, split at newlines into one chunk per thread, fields split at
//! commas and parsed in place. The `csv` crate stays the definition: whenever
//! the fast path meets anything it does not handle itself (a quote, a header
//! it would refuse or one holding a lone carriage return, a field
//! count that differs from the header's, a value that does not parse), the file
//! is read again by the `csv` crate, which gives the same connections or the
//! error with its line. So the fast path can only be faster, never different.

use std::path::Path;

use crate::error::{CompileError, Result};
use crate::net::model::{Conn, ConnList};

/// Text from a file as an error shows it: control characters escaped (`\r`,
/// `\u{7}`), since a raw carriage return rewrites the terminal line.
fn shown(t: &str) -> String {
    t.chars().map(|c| if c.is_control() { c.escape_debug().to_string() } else { c.to_string() }).collect()
}

/// Which header column holds which value.
#[derive(Clone, Copy)]
struct Columns {
    count: usize,
    pre: usize,
    post: usize,
    weight: Option<usize>,
    delay: Option<usize>,
}

/// A column named twice, if one is: only the first would be read, the
/// other's values ignored without a word.
fn named_twice<'h>(names: &[&'h str]) -> Option<&'h str> {
    names.iter().enumerate().find(|(i, h)| names[..*i].contains(h)).map(|(_, h)| *h)
}

fn columns<'h>(file: &str, headers: impl Iterator<Item = &'h str> + Clone) -> Result<Columns> {
    let names: Vec<&str> = headers.collect();
    let all = || shown(&names.join(","));
    if let Some(h) = named_twice(&names) {
        return Err(CompileError::Format { file: file.into(), path: "line 1".into(), reason: format!("column `{}` is named twice ({})", shown(h), all()) });
    }
    let col = |n: &str| names.iter().position(|h| *h == n);
    let (Some(pre), Some(post)) = (col("pre"), col("post")) else {
        return Err(CompileError::Format {
            file: file.into(),
            path: "line 1".into(),
            reason: format!("the header must name columns pre,post[,weight][,delay]; found {}", all()),
        });
    };
    if let Some(extra) = names.iter().find(|h| !["pre", "post", "weight", "delay"].contains(h)) {
        return Err(CompileError::Format {
            file: file.into(),
            path: "line 1".into(),
            reason: format!("unknown column `{}` (pre, post, weight, delay)", shown(extra)),
        });
    }
    Ok(Columns { count: names.len(), pre, post, weight: col("weight"), delay: col("delay") })
}

/// Reads a connection list; `referenced_at` is the JSON path that names the file.
/// A file without rows is refused, as a selection that keeps none is: the
/// projection would be empty (a header-only file compiled to 0 synapses
/// without a word).
pub(crate) fn read(path: &Path, referenced_at: &str) -> Result<ConnList> {
    let conns = read_rows(path, referenced_at)?;
    if conns.pre.is_empty() {
        return Err(CompileError::Format {
            file: path.display().to_string(),
            path: "(file)".into(),
            reason: "the file has no rows: the projection would be empty".into(),
        });
    }
    Ok(conns)
}

fn read_rows(path: &Path, referenced_at: &str) -> Result<ConnList> {
    let file = path.display().to_string();
    let cannot =
        |source: std::io::Error| CompileError::ReadFile { what: "connection list", path: file.clone(), referenced_at: Some(referenced_at.into()), source };
    let len = std::fs::metadata(path).map_err(cannot)?.len();
    if len >= STREAM_BYTES {
        if let Some(conns) = streamed(path, len, &file, &cannot, CHUNK)? {
            return Ok(conns);
        }
    }
    let bytes = nerve_isa::files::read(path).map_err(cannot)?;
    if !bytes.contains(&b'"') && !bytes.starts_with(b"\xEF\xBB\xBF") {
        if let Some(conns) = fast(&bytes, &file)? {
            return Ok(conns);
        }
    }
    with_csv_crate(&bytes, &file)
}

/// The definition: the `csv` crate, one reused byte record.
fn with_csv_crate(bytes: &[u8], file: &str) -> Result<ConnList> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::Headers).from_reader(bytes);
    // The header's own line, after any blank lines the reader skipped.
    let head = header_at(bytes);
    let headers = rdr.headers().map_err(|e| CompileError::Format { file: file.into(), path: head.clone(), reason: reason(&e) })?.clone();
    let c = columns(file, headers.iter()).map_err(|e| match e {
        CompileError::Format { file, reason, .. } => CompileError::Format { file, path: head.clone(), reason },
        e => e,
    })?;
    let mut out = ConnList::default();
    let mut rec = csv::ByteRecord::new();
    // Records are not lines (blank lines, quoted line ends): counted for a message only.
    let mut lines = LineOf::new(bytes);
    for i in 2u64.. {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(CompileError::Format { file: file.into(), path: format!("line {}", lines.of(e.position(), i)), reason: reason(&e) }),
        }
        let line = lines.of(rec.position(), i);
        let raw = |c: usize| rec.get(c).unwrap_or(b"");
        let g = |c: usize| std::str::from_utf8(raw(c)).unwrap_or("").trim();
        let bad = |what: &str, c: usize| {
            let reason = match std::str::from_utf8(raw(c)) {
                Ok(v) => format!("{what} `{}` is not valid", shown(v.trim())),
                Err(e) => format!("{what} `{}` is not UTF-8 text (its byte {} is not)", raw(c).escape_ascii(), e.valid_up_to() + 1),
            };
            CompileError::Format { file: file.into(), path: format!("line {line}"), reason }
        };
        let pre = index(g(c.pre)).ok_or_else(|| bad("pre", c.pre))?;
        let post = index(g(c.post)).ok_or_else(|| bad("post", c.post))?;
        let real = |col: Option<usize>, what: &str| -> Result<Option<f64>> {
            match col {
                Some(k) => Ok(Some(g(k).parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad(what, k))?)),
                None => Ok(None),
            }
        };
        let weight = real(c.weight, "weight")?;
        let delay = real(c.delay, "delay")?;
        out.push(Conn { pre, post, weight, delay });
    }
    Ok(out)
}

/// The line a `csv` reader's record starts on, for messages. The reader's
/// own positions are where it began reading the record: before the blank
/// lines it skipped, and on a CRLF file at the `\n` of the line before
/// (its line count says "line 2" for line 4). Line ends are counted as the
/// reader takes them: `\n`, `\r\n` or a lone `\r`. Counting goes on from
/// the last record asked about, so a file's lines are counted once.
pub struct LineOf<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

/// A `csv` error's reason without the crate's own position, which names
/// the line it began reading at (a skipped blank line): the message gives
/// the record's line ([`LineOf`]).
pub fn reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("a record of {len} fields where the ones before have {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not UTF-8 text", err.field() + 1),
        _ => e.to_string(),
    }
}

/// Where a CSV file's header is, for a message: "line N", the first line
/// that is not blank (the reader skips blank lines before it, and errors
/// said "line 1"); a file with no such line has no header to point at.
pub fn header_at(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "the file is empty".into()
    } else if bytes.iter().all(|b| matches!(b, b'\n' | b'\r')) {
        "the file holds only blank lines".into()
    } else {
        format!("line {}", LineOf::new(bytes).of(Some(&csv::Position::new()), 1))
    }
}

impl<'a> LineOf<'a> {
    /// For a reader of `bytes` (the whole file, as the reader is given it).
    pub fn new(bytes: &'a [u8]) -> Self {
        LineOf { bytes, at: 0, line: 1 }
    }

    /// The line of the record or error at `p` (`fallback` without one).
    pub fn of(&mut self, p: Option<&csv::Position>, fallback: u64) -> u64 {
        let Some(p) = p else { return fallback };
        let b = self.bytes;
        let mut at = (p.byte() as usize).min(b.len());
        while at < b.len() && matches!(b[at], b'\n' | b'\r') {
            at += 1;
        }
        if at < self.at {
            (self.at, self.line) = (0, 1);
        }
        self.line += (self.at..at).filter(|&k| b[k] == b'\n' || (b[k] == b'\r' && b.get(k + 1) != Some(&b'\n'))).count() as u64;
        self.at = at;
        self.line
    }
}

/// What a `from_list` file's rows are read with: the rows kept (`select`:
/// column = value), columns present but unused (`ignore`), and neuron labels
/// of the pre and post populations (a field that is a label names that
/// neuron; else it is an index).
pub(crate) struct Selection<'a> {
    pub select: &'a [(String, String)],
    pub ignore: &'a [String],
    pub pre: Option<&'a std::collections::HashMap<String, u32>>,
    pub post: Option<&'a std::collections::HashMap<String, u32>>,
}

/// Reads a connection list through [`Selection`] (with the `csv` crate: the
/// files that need it are connectomes, thousands of rows, not millions).
/// Every selected row must name neurons the populations have.
pub(crate) fn read_selected(path: &Path, referenced_at: &str, sel: &Selection) -> Result<ConnList> {
    let file = path.display().to_string();
    let bytes = nerve_isa::files::read(path).map_err(|source| CompileError::ReadFile {
        what: "connection list",
        path: file.clone(),
        referenced_at: Some(referenced_at.into()),
        source,
    })?;
    let fmt = |path: String, reason: String| CompileError::Format { file: file.clone(), path, reason };
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
    let head = header_at(&bytes);
    let headers = rdr.headers().map_err(|e| fmt(head.clone(), reason(&e)))?.clone();
    let names: Vec<&str> = headers.iter().collect();
    if let Some(h) = named_twice(&names) {
        return Err(fmt(head.clone(), format!("column `{}` is named twice ({})", shown(h), shown(&names.join(",")))));
    }
    let col = |n: &str| names.iter().position(|h| *h == n);
    let (Some(pre), Some(post)) = (col("pre"), col("post")) else {
        return Err(fmt(head.clone(), format!("the header must name columns pre and post; found {}", shown(&names.join(",")))));
    };
    let mut picks = Vec::new();
    for (k, v) in sel.select {
        let c = col(k).ok_or_else(|| {
            fmt(head.clone(), format!("select names column `{}`, which the file does not have (columns: {})", shown(k), shown(&names.join(","))))
        })?;
        picks.push((c, v.as_str()));
    }
    for k in sel.ignore {
        if col(k).is_none() {
            return Err(fmt(
                head.clone(),
                format!("ignore_columns names column `{}`, which the file does not have (columns: {})", shown(k), shown(&names.join(","))),
            ));
        }
    }
    for h in &names {
        if !["pre", "post", "weight", "delay"].contains(h) && !sel.select.iter().any(|(k, _)| k == h) && !sel.ignore.iter().any(|k| k == h) {
            return Err(fmt(head.clone(), format!("unknown column `{}` (pre, post, weight, delay; name others in `select` or `ignore_columns`)", shown(h))));
        }
    }
    // An ignored weight or delay column is left unread: the projection's values apply.
    let read = |n: &str| col(n).filter(|_| !sel.ignore.iter().any(|k| k == n));
    let (weight, delay) = (read("weight"), read("delay"));
    let mut out = ConnList::default();
    let mut lines = LineOf::new(&bytes);
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| fmt(format!("line {}", lines.of(e.position(), i as u64 + 2)), reason(&e)))?;
        let line = lines.of(r.position(), i as u64 + 2);
        let g = |c: usize| r.get(c).unwrap_or("");
        if !picks.iter().all(|&(c, v)| g(c) == v) {
            continue;
        }
        let neuron = |c: usize, ix: Option<&std::collections::HashMap<String, u32>>, end: &str| -> Result<u32> {
            let t = g(c);
            if let Some(m) = ix {
                if let Some(&n) = m.get(t) {
                    return Ok(n);
                }
            }
            index(t).ok_or_else(|| {
                fmt(
                    format!("line {line}"),
                    match ix {
                        Some(_) => format!("{end} `{}` is neither a label of the {end} population nor an index", shown(t)),
                        None => format!("{end} `{}` is not a neuron index (the {end} population has no labels)", shown(t)),
                    },
                )
            })
        };
        let real = |c: Option<usize>, what: &str| -> Result<Option<f64>> {
            match c {
                Some(c) => Ok(Some(
                    g(c).parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| fmt(format!("line {line}"), format!("{what} `{}` is not valid", shown(g(c)))))?,
                )),
                None => Ok(None),
            }
        };
        out.push(Conn {
            pre: neuron(pre, sel.pre, "pre")?,
            post: neuron(post, sel.post, "post")?,
            weight: real(weight, "weight")?,
            delay: real(delay, "delay")?,
        });
    }
    if out.pre.is_empty() {
        let what: Vec<String> = sel.select.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        return Err(fmt(
            "(file)".into(),
            format!(
                "no row is selected ({}): the projection would be empty",
                if what.is_empty() { "the file has no rows".to_string() } else { what.join(", ") }
            ),
        ));
    }
    Ok(out)
}

/// Below this size one thread reads the file: threads cost more than they save.
const PARALLEL_BYTES: usize = 4 << 20;

/// The columns of a header line (up to `\n`, a final `\r` dropped), or
/// `None` for the csv crate to decide: a carriage return left in it (a
/// file whose lines end in `\r` alone, Excel's "CSV (Macintosh)", is one
/// line here and several there), text that is not UTF-8, or a header the
/// fast path would refuse, so that one reader reports every error.
fn fast_columns(header: &[u8], file: &str) -> Option<Columns> {
    if header.contains(&b'\r') {
        return None;
    }
    columns(file, std::str::from_utf8(header).ok()?.split(',').map(str::trim)).ok()
}

/// `Ok(None)`: something the fast path leaves to the `csv` crate.
fn fast(bytes: &[u8], file: &str) -> Result<Option<ConnList>> {
    let mut rest = bytes;
    let header = loop {
        let Some((line, tail)) = next_line(rest) else { return Ok(None) };
        rest = tail;
        if !line.is_empty() {
            break line;
        }
    };
    let Some(c) = fast_columns(header, file) else { return Ok(None) };
    let threads = if rest.len() < PARALLEL_BYTES { 1 } else { nerve_isa::host_threads() };
    let chunks = split_at_lines(rest, threads);
    let parts: Vec<Option<ConnList>> = if chunks.len() == 1 {
        vec![parse_lines(chunks[0], c)]
    } else {
        std::thread::scope(|s| {
            let hs: Vec<_> = chunks.iter().map(|&ch| s.spawn(move || parse_lines(ch, c))).collect();
            hs.into_iter().map(|h| h.join().unwrap_or(None)).collect()
        })
    };
    Ok(parts.into_iter().collect::<Option<Vec<_>>>().and_then(concat))
}

/// The parts in order as one list (`None` for no parts).
fn concat(parts: Vec<ConnList>) -> Option<ConnList> {
    let mut parts = parts.into_iter();
    let mut out = parts.next()?;
    for p in parts {
        out.pre.extend_from_slice(&p.pre);
        out.post.extend_from_slice(&p.post);
        for (a, b) in [(&mut out.weight, &p.weight), (&mut out.delay, &p.delay)] {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.extend_from_slice(b);
            }
        }
    }
    Some(out)
}

/// The line up to `\n` (a trailing `\r` dropped) and what follows it.
/// Files at least this large are parsed as they are read, a piece of `CHUNK`
/// bytes at a time per thread, instead of being read whole first: a buffer
/// the size of the file costs a page fault per 4 KiB of it, which on a VM
/// took longer than the parsing (16k-neuron SANA-FE network, 54 MB of CSV).
const STREAM_BYTES: u64 = 16 << 20;
const CHUNK: usize = 1 << 20;

/// The fast path on a large file, read in pieces by each thread from its own
/// byte range. `Ok(None)`: something the csv crate should read (as `fast`).
fn streamed(path: &Path, len: u64, file: &str, cannot: &dyn Fn(std::io::Error) -> CompileError, chunk: usize) -> Result<Option<ConnList>> {
    use std::io::Read;
    // The header: the first non-empty line, within the first 64 KiB (or piece).
    let first = chunk.max(64 << 10);
    let mut head = Vec::with_capacity(first);
    std::fs::File::open(path).map_err(cannot)?.take(first as u64).read_to_end(&mut head).map_err(cannot)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Ok(None);
    }
    let mut rest: &[u8] = &head;
    let header = loop {
        let Some(i) = rest.iter().position(|&x| x == b'\n') else { return Ok(None) };
        let line = &rest[..i];
        rest = &rest[i + 1..];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.is_empty() {
            break line;
        }
    };
    if header.contains(&b'"') {
        return Ok(None);
    }
    let Some(c) = fast_columns(header, file) else { return Ok(None) };
    let body = (head.len() - rest.len()) as u64;
    drop(head);
    let threads = nerve_isa::host_threads() as u64;
    let bounds: Vec<u64> = (0..=threads).map(|k| body + (len - body) * k / threads).collect();
    let parts: Vec<std::io::Result<Option<ConnList>>> = std::thread::scope(|s| {
        let hs: Vec<_> = bounds.windows(2).map(|w| (w[0], w[1])).map(|(a, b)| s.spawn(move || parse_range(path, a, b, body, c, chunk))).collect();
        hs.into_iter().map(|h| h.join().unwrap_or(Ok(None))).collect()
    });
    let mut lists = Vec::with_capacity(parts.len());
    for p in parts {
        let Some(p) = p.map_err(cannot)? else { return Ok(None) };
        lists.push(p);
    }
    Ok(concat(lists))
}

/// The lines of `path` that start in byte range [a, b) (lines start at `body`
/// and after each newline), read a piece at a time; `Ok(None)` as `fast`.
fn parse_range(path: &Path, a: u64, b: u64, body: u64, c: Columns, chunk: usize) -> std::io::Result<Option<ConnList>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let mut buf: Vec<u8> = Vec::with_capacity(2 * chunk);
    let fill = |f: &mut std::fs::File, buf: &mut Vec<u8>| -> std::io::Result<usize> { f.take(chunk as u64).read_to_end(buf) };
    // `pos`: the file offset of buf[0], always a line start from here on.
    let mut pos = a;
    if a > body {
        // The first line start at or after `a`: just after the first newline at or after a − 1.
        f.seek(SeekFrom::Start(a - 1))?;
        pos = a - 1;
        loop {
            let n = fill(&mut f, &mut buf)?;
            if let Some(i) = buf.iter().position(|&x| x == b'\n') {
                buf.drain(..=i);
                pos += i as u64 + 1;
                break;
            }
            if n == 0 {
                return Ok(Some(empty(c, 0))); // no line starts in this range
            }
            pos += buf.len() as u64;
            buf.clear();
        }
    } else {
        f.seek(SeekFrom::Start(a))?;
    }
    // At most one connection per 4 bytes ("0,0\n"); only what is used is touched.
    let mut out = empty(c, ((b.saturating_sub(pos)) / 4 + 1) as usize);
    while pos < b {
        let n = fill(&mut f, &mut buf)?;
        let eof = n == 0;
        // Whole lines: up to the last newline (everything at the end of the file).
        let end = match buf.iter().rposition(|&x| x == b'\n') {
            _ if eof => buf.len(),
            Some(i) => i + 1,
            None => continue, // a line longer than the buffer: read more
        };
        // Only lines that start before `b`: up to the end of the line holding byte b − 1.
        let limit = if pos + end as u64 > b {
            let from = (b - pos) as usize;
            buf[from - 1..end].iter().position(|&x| x == b'\n').map_or(end, |i| from + i)
        } else {
            end
        };
        let lines = &buf[..limit];
        if lines.contains(&b'"') || parse_lines_into(lines, c, &mut out).is_none() {
            return Ok(None);
        }
        if limit < end || eof {
            break;
        }
        buf.drain(..end);
        pos += end as u64;
    }
    Ok(Some(out))
}

fn next_line(b: &[u8]) -> Option<(&[u8], &[u8])> {
    if b.is_empty() {
        return None;
    }
    let (line, rest) = match b.iter().position(|&x| x == b'\n') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[b.len()..]),
    };
    Some((line.strip_suffix(b"\r").unwrap_or(line), rest))
}

/// `n` pieces of about equal size, each ending at a line end.
fn split_at_lines(b: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut rest = b;
    for k in (1..=n).rev() {
        if k == 1 || rest.is_empty() {
            out.push(rest);
            break;
        }
        let want = rest.len() / k;
        let cut = rest[want..].iter().position(|&x| x == b'\n').map_or(rest.len(), |i| want + i + 1);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

fn parse_lines(b: &[u8], c: Columns) -> Option<ConnList> {
    let lines = b.iter().filter(|&&x| x == b'\n').count() + 1;
    let mut out = empty(c, lines);
    parse_lines_into(b, c, &mut out)?;
    Some(out)
}

/// An empty list with the columns `c` has, room for `lines` connections.
fn empty(c: Columns, lines: usize) -> ConnList {
    let col = |given: Option<usize>| given.map(|_| Vec::with_capacity(lines));
    ConnList { pre: Vec::with_capacity(lines), post: Vec::with_capacity(lines), weight: col(c.weight), delay: col(c.delay) }
}

/// Appends the connections of whole lines `b` to `out`; `None` (with `out`
/// as it was) on anything the csv crate should judge.
fn parse_lines_into(b: &[u8], c: Columns, out: &mut ConnList) -> Option<()> {
    let len = out.pre.len();
    let undo = |out: &mut ConnList| {
        out.pre.truncate(len);
        out.post.truncate(len);
        for col in [&mut out.weight, &mut out.delay].into_iter().flatten() {
            col.truncate(len);
        }
    };
    if (c.count, c.pre, c.post) == (2, 0, 1) {
        if parse_pairs(b, out).is_some() {
            return Some(());
        }
        undo(out);
    }
    if parse_fields(b, c, out).is_none() {
        undo(out);
        return None;
    }
    Some(())
}

/// `pre,post` lines of plain digits, the commonest list, in one pass over the
/// bytes; `None` on anything else (spaces, signs, other line shapes).
fn parse_pairs(b: &[u8], out: &mut ConnList) -> Option<()> {
    parse_pairs_with(b, out, true)
}

/// `parse_pairs`; `words`: take the eight-bytes-at-a-time path where it applies
/// (false only in tests, as the reference).
fn parse_pairs_with(b: &[u8], out: &mut ConnList, words: bool) -> Option<()> {
    let n = b.len();
    let mut i = 0;
    // Digits from `i` up to the byte `end`; the value and the index after `end`.
    let digits = |mut i: usize, end: u8| -> Option<(u32, usize)> {
        let start = i;
        let mut v: u64 = 0;
        while i < n && b[i].is_ascii_digit() {
            v = v * 10 + (b[i] - b'0') as u64;
            i += 1;
            if i - start > 10 {
                return None;
            }
        }
        if i == start || v > u32::MAX as u64 {
            return None;
        }
        match b.get(i) {
            Some(&x) if x == end => Some((v as u32, i + 1)),
            None if end == b'\n' => Some((v as u32, i)),
            Some(b'\r') if end == b'\n' && b.get(i + 1) == Some(&b'\n') => Some((v as u32, i + 2)),
            _ => None,
        }
    };
    while i < n {
        match b[i] {
            b'\n' => i += 1,
            b'\r' if b.get(i + 1) == Some(&b'\n') => i += 2,
            _ => {
                // The common line, `d{1,7},d{1,7}\n`, eight bytes at a time;
                // anything else (and the last 16 bytes) by the loop above.
                if words && i + 16 <= n {
                    let w = word(b, i);
                    let p = first_non_digit(w);
                    if (1..8).contains(&p) && b[i + p] == b',' {
                        let j = i + p + 1;
                        let w2 = word(b, j);
                        let q = first_non_digit(w2);
                        if (1..8).contains(&q) && b[j + q] == b'\n' {
                            out.pre.push(digits_value(w, p));
                            out.post.push(digits_value(w2, q));
                            i = j + q + 1;
                            continue;
                        }
                    }
                }
                let (pre, j) = digits(i, b',')?;
                let (post, k) = digits(j, b'\n')?;
                out.pre.push(pre);
                out.post.push(post);
                i = k;
            }
        }
    }
    Some(())
}

/// Bytes i..i + 8 as a little-endian word (byte i lowest).
#[inline]
fn word(b: &[u8], i: usize) -> u64 {
    // invariant: b[i..i + 8] is exactly eight bytes (callers read words only where i + 16 <= b.len(), so the slice is in range)
    u64::from_le_bytes(b[i..i + 8].try_into().expect("an i..i + 8 slice is eight bytes"))
}

/// The index of the first byte of `w` (lowest first) that is not an ASCII
/// digit; 8 if all are. Per byte x, t = x − '0' has its top bit set when
/// x < '0' (it wraps) and t + 0x76 has it set when t ≥ 10; the digits
/// below the first non-digit neither borrow nor carry, so that byte is
/// flagged exactly (bytes above it may be garbled and are not looked at).
#[inline]
fn first_non_digit(w: u64) -> usize {
    let t = w.wrapping_sub(0x3030_3030_3030_3030);
    let m = (t | t.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
    (m.trailing_zeros() / 8) as usize
}

/// The value of the `len` (1..=8) decimal digits at the bottom of `w`.
/// They are moved to the top bytes (zeros below them are leading zeros),
/// then combined pairwise: 2-digit, 4-digit, 8-digit values (the usual
/// multiply–shift sequence; at most 99,999,999, no overflow).
#[inline]
fn digits_value(w: u64, len: usize) -> u32 {
    let d = w.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - len));
    // Byte k (k even) becomes 10·d_k + d_{k+1}: digit k is the more significant.
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    let lo = d & 0x0000_00FF_0000_00FF;
    let hi = (d >> 16) & 0x0000_00FF_0000_00FF;
    (lo.wrapping_mul(100 + (1_000_000 << 32)).wrapping_add(hi.wrapping_mul(1 + (10_000 << 32))) >> 32) as u32
}

fn parse_fields(mut b: &[u8], c: Columns, out: &mut ConnList) -> Option<()> {
    while let Some((line, rest)) = next_line(b) {
        b = rest;
        if line.is_empty() {
            continue; // the csv crate skips empty lines too
        }
        let (mut pre, mut post, mut weight, mut delay) = (None, None, None, None);
        let mut n = 0;
        for (k, f) in line.split(|&x| x == b',').enumerate() {
            n = k + 1;
            let f = f.trim_ascii();
            if k == c.pre {
                pre = Some(uint(f)?);
            } else if k == c.post {
                post = Some(uint(f)?);
            } else if Some(k) == c.weight {
                weight = Some(real(f)?);
            } else if Some(k) == c.delay {
                delay = Some(real(f)?);
            }
        }
        if n != c.count {
            return None;
        }
        out.pre.push(pre?);
        out.post.push(post?);
        if let Some(w) = &mut out.weight {
            w.push(weight?);
        }
        if let Some(d) = &mut out.delay {
            d.push(delay?);
        }
    }
    Some(())
}

/// A neuron index: an integer, or a float of a whole number (numpy's
/// `savetxt` writes every column as `1.000000000000000000e+00`; the JSON
/// list takes `1.0` too). The fast path's `uint` takes the integers only
/// and leaves the rest to this.
fn index(t: &str) -> Option<u32> {
    t.parse::<u32>().ok().or_else(|| t.parse::<f64>().ok().filter(|x| x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(x)).map(|x| x as u32))
}

/// What `str::parse::<u32>` accepts: an optional `+`, then decimal digits.
fn uint(f: &[u8]) -> Option<u32> {
    let d = f.strip_prefix(b"+").unwrap_or(f);
    if d.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &x in d {
        let k = x.wrapping_sub(b'0');
        if k > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(k as u32)?;
    }
    Some(v)
}

fn real(f: &[u8]) -> Option<f64> {
    std::str::from_utf8(f).ok()?.parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Result<ConnList>, Result<Option<ConnList>>) {
        (with_csv_crate(text.as_bytes(), "t.csv"), fast(text.as_bytes(), "t.csv"))
    }

    /// Reading in pieces (tiny ones here, lines longer than a piece, several
    /// threads' ranges) gives what the csv crate reads, or declines.
    #[test]
    fn streamed_pieces_equal_the_csv_crate() {
        let dir = tempfile::tempdir().unwrap();
        let mut pairs = String::from("pre,post\n");
        for i in 0..3000u32 {
            pairs.push_str(&format!("{},{}\n", i % 97, (i * 7919) % 100_003));
            if i % 500 == 0 {
                pairs.push('\n'); // empty lines are skipped
            }
        }
        let crlf = pairs.replace('\n', "\r\n");
        let mut fields = String::from("post, pre ,weight,delay\n");
        for i in 0..2000u32 {
            fields.push_str(&format!("{}, {},{},{}\n", i * 3, i % 11, i as f64 * -0.5 + 0.25, 1 + i % 4));
        }
        let no_final_newline = pairs.trim_end().to_string();
        for (name, text) in [("pairs", &pairs), ("crlf", &crlf), ("fields", &fields), ("last", &no_final_newline)] {
            let p = dir.path().join(format!("{name}.csv"));
            std::fs::write(&p, text).unwrap();
            let want = with_csv_crate(text.as_bytes(), "t.csv").unwrap();
            for chunk in [5, 16, 64, 1000, 1 << 20] {
                let cannot = |e: std::io::Error| CompileError::Internal(e.to_string());
                let got = streamed(&p, text.len() as u64, "t.csv", &cannot, chunk).unwrap();
                let got = got.unwrap_or_else(|| panic!("{name}, pieces of {chunk}: declined"));
                assert!(got == want, "{name}, pieces of {chunk}: {} vs {} connections", got.pre.len(), want.pre.len());
            }
        }
        // A quote anywhere: declined, for the csv crate to read.
        let p = dir.path().join("quoted.csv");
        let text = format!("{pairs}\"1\",2\n");
        std::fs::write(&p, &text).unwrap();
        let cannot = |e: std::io::Error| CompileError::Internal(e.to_string());
        assert!(streamed(&p, text.len() as u64, "t.csv", &cannot, 64).unwrap().is_none());
    }

    /// Whatever the fast path accepts, the csv crate reads the same way.
    #[test]
    fn fast_path_agrees_with_the_csv_crate() {
        let cases = [
            "pre,post\n0,1\n2,3\n",
            "pre,post,weight,delay\r\n0,1,0.5,1\r\n4294967295,0,-1e-3,2.5\r\n",
            " delay , weight ,post,pre\n1, 2 ,3,4\n\n\n5,6,7,8",
            "pre,post,weight\n+1,2,inf\n", // inf: not finite, an error either way
            "pre,post\n1,2,3\n",           // too many fields
            "pre,post\n1\n",               // too few
            "pre,post\n-1,2\n",            // negative index
            "pre,post\n4294967296,2\n",    // u32 overflow
            "pre,post\n1,2\r3,4\n",        // a lone \r ends a record for the csv crate
            "pre,post,weight\n1,2,\n",     // empty weight
            "pre,post,weight\n1,2,0x10\n",
            "pre,post,weight\n1,2,1e400\n",
            "\n\npre,post\n1,2\n",
            "pre,post\n 7 , 8 \n",
            "pre,post\n1,2\r\n\r\n3,4", // CRLF, a blank line, no final newline
            "pre,post\n1,,2\n",
            "pre,post\n12345678901,2\n",
            "pre,post\n0001,2\n",
        ];
        for t in cases {
            let (slow, quick) = both(t);
            match (slow, quick) {
                (Ok(s), Ok(Some(q))) => assert_eq!(s, q, "{t:?}"),
                (_, Ok(None)) => {} // left to the csv crate
                (Err(s), Err(q)) => assert_eq!(s.to_string(), q.to_string(), "{t:?}"),
                (s, q) => panic!("{t:?}: csv crate {s:?}, fast path {q:?}"),
            }
        }
    }

    /// An error names the record's own line: blank lines and a quoted field
    /// over two lines count (records were counted: "line 3" for line 6).
    #[test]
    fn errors_name_the_physical_line() {
        for (text, line) in [
            ("pre,post\n0,1\n\n\n2,3\n1,x\n", 6),
            ("\n\npre,post\n0,1\n1,x\n", 5),
            ("pre,post\r\n0,1\r\n\r\n1,x\r\n", 4),
            ("pre,post\n0,1\n\n1,2,3\n", 4),
            ("pre,post\n0,1\n1,2,3\n", 3),
            // The header after blank lines (it was "line 1").
            ("\n\npre,post,foo\n0,1,2\n", 3),
            ("\r\n\r\npre,pre\n0,1\n", 3),
        ] {
            let e = with_csv_crate(text.as_bytes(), "t.csv").unwrap_err().to_string();
            // One line number: the csv crate's own ("(line: 3, …)", a skipped blank line) is left out.
            assert!(e.contains(&format!("line {line}:")) && !e.contains("(line:"), "{text:?}: {e}");
        }
        // No header to point at: not a line past the file's end ("line 4" of three).
        for (text, place) in [("", "the file is empty:"), ("\n\n\n", "the file holds only blank lines:"), ("\r\n", "the file holds only blank lines:")] {
            let e = with_csv_crate(text.as_bytes(), "t.csv").unwrap_err().to_string();
            assert!(e.contains(place) && !e.contains("line "), "{text:?}: {e}");
            assert_eq!(header_at(text.as_bytes()), place.trim_end_matches(':'));
        }
    }

    /// The `pre,post` fast loop reads what the general one reads, or declines.
    #[test]
    fn pair_loop_agrees_with_the_field_loop() {
        let c = Columns { count: 2, pre: 0, post: 1, weight: None, delay: None };
        for body in ["0,1\n2,3\n", "1,2\r\n\r\n3,4", "\n\n5,6", "4294967295,0\n", "4294967296,0\n", "1, 2\n", "+1,2\n", "1,2,3\n", "1\n", ""] {
            let mut q = empty(c, 0);
            let mut g = empty(c, 0);
            let quick = parse_pairs(body.as_bytes(), &mut q).map(|_| q);
            let general = parse_fields(body.as_bytes(), c, &mut g).map(|_| g);
            if let Some(q) = quick {
                assert_eq!(Some(q), general, "{body:?}");
            }
        }
        assert!(parse_pairs(b"0,1\n2,3\n", &mut empty(c, 0)).is_some());
    }

    /// The eight-bytes-at-a-time path against the byte loop, on every digit
    /// count 0..=11 either side, separators right and wrong (bytes next to
    /// the digits' range among them) and random digits.
    #[test]
    fn word_path_agrees_with_the_byte_loop() {
        let byte_loop = |text: &[u8]| -> Option<ConnList> {
            let mut out = empty(Columns { count: 2, pre: 0, post: 1, weight: None, delay: None }, 0);
            parse_pairs_with(text, &mut out, false).map(|_| out)
        };
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let seps: [u8; 8] = [b',', b'\n', b'\r', b' ', b'/', b':', b'0', b'9'];
        let mut accepted = 0u32;
        for _ in 0..20_000 {
            let mut text = Vec::new();
            for _ in 0..(next() % 4) {
                for sep in [b',', b'\n'] {
                    let len = (next() % 12) as usize;
                    for _ in 0..len {
                        text.push(b'0' + (next() % 10) as u8);
                    }
                    // Usually the right separator, sometimes another byte.
                    text.push(if next() % 8 == 0 { seps[(next() % 8) as usize] } else { sep });
                }
            }
            text.extend_from_slice(b"1,2\n3,4\n5,6\n7,8\n9,10\n");
            let mut got = empty(Columns { count: 2, pre: 0, post: 1, weight: None, delay: None }, 0);
            let quick = parse_pairs(&text, &mut got).map(|_| got);
            let want = byte_loop(&text);
            accepted += want.is_some() as u32;
            assert_eq!(quick, want, "{:?}", String::from_utf8_lossy(&text));
        }
        // Both outcomes occur often (a case's lines are all read, or it is declined).
        assert!(accepted > 2_000 && accepted < 18_000, "{accepted} of 20000 accepted");
        // Every byte value in every position of a short line.
        for x in 0..=255u8 {
            for at in 0..6 {
                let mut text = b"12,34\n".to_vec();
                text.insert(at, x);
                text.extend_from_slice(b"5,6\n7,8\n9,10\n11,12\n");
                let mut got = empty(Columns { count: 2, pre: 0, post: 1, weight: None, delay: None }, 0);
                let quick = parse_pairs(&text, &mut got).map(|_| got);
                assert_eq!(quick, byte_loop(&text), "byte {x} at {at}");
            }
        }
        for v in [0u32, 1, 9, 10, 99, 100, 12_345, 9_999_999, 1_000_000] {
            let s = format!("{v},{v}\n");
            let mut w = [b'x'; 8];
            w[..s.len().min(8)].copy_from_slice(&s.as_bytes()[..s.len().min(8)]);
            let w = u64::from_le_bytes(w);
            let p = first_non_digit(w);
            assert_eq!(p, v.to_string().len());
            assert_eq!(digits_value(w, p), v);
        }
    }

    #[test]
    fn chunks_cover_every_line_once() {
        let mut text = String::from("pre,post,weight\n");
        for i in 0..5000u32 {
            text.push_str(&format!("{},{},{}\n", i, i * 7 % 13, i as f64 / 8.0));
        }
        let body = &text.as_bytes()[16..];
        for n in 1..=5 {
            let chunks = split_at_lines(body, n);
            assert_eq!(chunks.concat(), body);
            assert!(chunks.iter().all(|c| c.is_empty() || c.ends_with(b"\n")));
        }
        let c = Columns { count: 3, pre: 0, post: 1, weight: Some(2), delay: None };
        let all: ConnList = split_at_lines(body, 3).into_iter().flat_map(|ch| parse_lines(ch, c).unwrap().iter().collect::<Vec<Conn>>()).collect();
        assert_eq!(all, with_csv_crate(text.as_bytes(), "t").unwrap());
    }

    /// `read` on `text` written to a file.
    fn read_text(text: &[u8]) -> Result<ConnList> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        read(&p, "$.connector.file")
    }

    #[test]
    fn header_errors_name_the_columns() {
        let e = read_text(b"pre,target\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("pre,post") && e.contains("target"), "{e}");
        let e = with_csv_crate(b"pre,post,w\n1,2,3\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("unknown column `w`"), "{e}");
        // A second `weight` column was ignored.
        let e = read_text(b"pre,post,weight,weight\n0,0,1.0,50.0\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("column `weight` is named twice (pre,post,weight,weight)"), "{e}");
        let e = with_csv_crate(b"pre,post,delay,\"delay\"\n1,2,3,4\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("column `delay` is named twice"), "{e}");
    }

    /// Lines ending in `\r` alone (Excel's "CSV (Macintosh)") are records to
    /// the csv crate; the fast path read the file as one header line and
    /// refused it ("unknown column `weight\r0`").
    #[test]
    fn lines_ending_in_a_lone_carriage_return_are_read() {
        let text = b"pre,post,weight\r0,1,0.1\r1,2,0.2\r";
        let want = with_csv_crate(text, "t.csv").unwrap();
        assert_eq!(want.pre, [0, 1]);
        assert_eq!(read_text(text).unwrap(), want);
        assert!(matches!(fast(text, "t.csv"), Ok(None)));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cr.csv");
        let mut big = b"pre,post\r".to_vec();
        for i in 0..2000u32 {
            big.extend_from_slice(format!("{i},{}\r", i % 7).as_bytes());
        }
        std::fs::write(&p, &big).unwrap();
        let cannot = |e: std::io::Error| CompileError::Internal(e.to_string());
        assert!(matches!(streamed(&p, big.len() as u64, "t.csv", &cannot, 64), Ok(None)));
        assert_eq!(read(&p, "$").unwrap(), with_csv_crate(&big, "t.csv").unwrap());
    }

    /// `ignore_columns` leaves a weight or delay column unread (the
    /// projection's values apply); it used to read them all the same, and
    /// took a column the file does not have without a word.
    #[test]
    fn ignored_columns_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.csv");
        std::fs::write(&p, "pre,post,weight,delay,count\n0,1,1.5,7,3\n").unwrap();
        let ignore = |cols: &[&str]| {
            let ignore: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
            read_selected(&p, "$.connector.file", &Selection { select: &[], ignore: &ignore, pre: None, post: None })
        };
        let all = ignore(&["count"]).unwrap();
        assert_eq!((all.get(0).weight, all.get(0).delay), (Some(1.5), Some(7.0)));
        let no_weight = ignore(&["count", "weight"]).unwrap();
        assert_eq!((no_weight.get(0).weight, no_weight.get(0).delay), (None, Some(7.0)));
        let neither = ignore(&["delay", "count", "weight"]).unwrap();
        assert_eq!((neither.get(0).weight, neither.get(0).delay), (None, None));
        let e = ignore(&["count", "kind"]).unwrap_err().to_string();
        assert!(e.contains("ignore_columns names column `kind`, which the file does not have (columns: pre,post,weight,delay,count)"), "{e}");
    }

    /// A file of no rows is refused, as an empty selection is; it compiled
    /// to a projection of no synapses.
    #[test]
    fn a_file_without_rows_is_refused() {
        for text in [&b"pre,post,weight\n"[..], b"pre,post\r\n\r\n", b"\xEF\xBB\xBFpre,post\n", b"\"pre\",post\n"] {
            let e = read_text(text).unwrap_err().to_string();
            assert!(e.contains("t.csv") && e.contains("the file has no rows: the projection would be empty"), "{text:?}: {e}");
        }
        assert_eq!(read_text(b"pre,post\n0,1\n").unwrap().pre, [0]);
    }

    /// Indices written as floats (numpy's `savetxt`) were refused, while the
    /// JSON list takes `1.0`: a whole number is taken, a fraction is not.
    #[test]
    fn indices_written_as_whole_floats_are_taken() {
        let l = read_text(b"pre,post,weight\n1.0,2,0.1\n1.000000000000000000e+00,3.000000000000000000e+00,2.000000000000000111e-01\n").unwrap();
        assert_eq!((l.pre.as_slice(), l.post.as_slice()), (&[1, 1][..], &[2, 3][..]));
        for (text, want) in [
            (&b"pre,post\n1.5,2\n"[..], "pre `1.5` is not valid"),
            (b"pre,post\n1,-1.0\n", "post `-1.0` is not valid"),
            (b"pre,post\n1,5e9\n", "post `5e9` is not valid"),
        ] {
            let e = read_text(text).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    /// A control character from the file is shown escaped, never raw.
    #[test]
    fn errors_escape_control_characters() {
        for (text, shown) in [
            (&b"pre,post,\"w\rx\"\n1,2,3\n"[..], "unknown column `w\\rx`"),
            (b"pre,post,w\x07x\n1,2,3\n", "unknown column `w\\u{7}x`"),
            (b"pre,post,weight\n1,2,3\x07\n", "weight `3\\u{7}` is not valid"),
        ] {
            let e = read_text(text).unwrap_err().to_string();
            assert!(e.contains(shown) && !e.chars().any(char::is_control), "{e:?}");
        }
    }
}
