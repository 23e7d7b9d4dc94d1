//! Connection lists as CSV (`pre,post[,weight][,delay]`), the `from_list`
//! connector's `file`.
//!
//! These files reach millions of lines (a 16k-neuron network is 5M synapses),
//! so plain files (no quotes, no byte-order mark) take a fast path: the whole
//! file in memory, split at newlines into one chunk per thread, fields split at
//! commas and parsed in place. The `csv` crate stays the definition: whenever
//! the fast path meets anything it does not handle itself (a quote, a field
//! count that differs from the header's, a value that does not parse), the file
//! is read again by the `csv` crate, which gives the same connections or the
//! error with its line. So the fast path can only be faster, never different.

use std::path::Path;

use crate::error::{CompileError, Result};
use crate::net::model::{Conn, ConnList};

/// Which header column holds which value.
#[derive(Clone, Copy)]
struct Columns {
    count: usize,
    pre: usize,
    post: usize,
    weight: Option<usize>,
    delay: Option<usize>,
}

fn columns<'h>(file: &str, headers: impl Iterator<Item = &'h str> + Clone) -> Result<Columns> {
    let names: Vec<&str> = headers.collect();
    let col = |n: &str| names.iter().position(|h| *h == n);
    let (Some(pre), Some(post)) = (col("pre"), col("post")) else {
        return Err(CompileError::Format {
            file: file.into(),
            path: "line 1".into(),
            reason: format!("the header must name columns pre,post[,weight][,delay]; found {}", names.join(",")),
        });
    };
    if let Some(extra) = names.iter().find(|h| !["pre", "post", "weight", "delay"].contains(h)) {
        return Err(CompileError::Format {
            file: file.into(),
            path: "line 1".into(),
            reason: format!("unknown column `{extra}` (pre, post, weight, delay)"),
        });
    }
    Ok(Columns { count: names.len(), pre, post, weight: col("weight"), delay: col("delay") })
}

/// Reads a connection list; `referenced_at` is the JSON path that names the file.
pub(crate) fn read(path: &Path, referenced_at: &str) -> Result<ConnList> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CompileError::Format {
        file: file.clone(),
        path: "(file)".into(),
        reason: format!("cannot read connection list (referenced at {referenced_at}): {e}"),
    })?;
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
    let headers = rdr
        .headers()
        .map_err(|e| CompileError::Format { file: file.into(), path: "line 1".into(), reason: e.to_string() })?
        .clone();
    let c = columns(file, headers.iter())?;
    let mut out = ConnList::default();
    let mut rec = csv::ByteRecord::new();
    let mut line = 1usize;
    loop {
        line += 1;
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(CompileError::Format { file: file.into(), path: format!("line {line}"), reason: e.to_string() })
            }
        }
        let g = |c: usize| std::str::from_utf8(rec.get(c).unwrap_or(b"")).unwrap_or("\u{fffd}").trim();
        let bad = |what: &str, v: &str| CompileError::Format {
            file: file.into(),
            path: format!("line {line}"),
            reason: format!("{what} `{v}` is not valid"),
        };
        let pre = g(c.pre).parse::<u32>().map_err(|_| bad("pre", g(c.pre)))?;
        let post = g(c.post).parse::<u32>().map_err(|_| bad("post", g(c.post)))?;
        let real = |col: Option<usize>, what: &str| -> Result<Option<f64>> {
            match col {
                Some(k) => Ok(Some(g(k).parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad(what, g(k)))?)),
                None => Ok(None),
            }
        };
        let weight = real(c.weight, "weight")?;
        let delay = real(c.delay, "delay")?;
        out.push(Conn { pre, post, weight, delay });
    }
    Ok(out)
}

/// Below this size one thread reads the file: threads cost more than they save.
const PARALLEL_BYTES: usize = 4 << 20;

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
    let Ok(header) = std::str::from_utf8(header) else { return Ok(None) };
    let c = columns(file, header.split(',').map(str::trim))?;
    let threads = if rest.len() < PARALLEL_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
    };
    let chunks = split_at_lines(rest, threads);
    let parts: Vec<Option<ConnList>> = if chunks.len() == 1 {
        vec![parse_lines(chunks[0], c)]
    } else {
        std::thread::scope(|s| {
            let hs: Vec<_> = chunks.iter().map(|&ch| s.spawn(move || parse_lines(ch, c))).collect();
            hs.into_iter().map(|h| h.join().unwrap_or(None)).collect()
        })
    };
    let mut parts = parts.into_iter();
    let Some(Some(mut out)) = parts.next() else { return Ok(None) };
    for p in parts {
        let Some(p) = p else { return Ok(None) };
        out.pre.extend_from_slice(&p.pre);
        out.post.extend_from_slice(&p.post);
        for (a, b) in [(&mut out.weight, &p.weight), (&mut out.delay, &p.delay)] {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.extend_from_slice(b);
            }
        }
    }
    Ok(Some(out))
}

/// The line up to `\n` (a trailing `\r` dropped) and what follows it.
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
    if (c.count, c.pre, c.post) == (2, 0, 1) {
        if let Some(l) = parse_pairs(b) {
            return Some(l);
        }
    }
    parse_fields(b, c)
}

/// `pre,post` lines of plain digits, the commonest list, in one pass over the
/// bytes; `None` on anything else (spaces, signs, other line shapes).
fn parse_pairs(b: &[u8]) -> Option<ConnList> {
    let lines = b.iter().filter(|&&x| x == b'\n').count() + 1;
    let mut out = ConnList { pre: Vec::with_capacity(lines), post: Vec::with_capacity(lines), weight: None, delay: None };
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
                let (pre, j) = digits(i, b',')?;
                let (post, k) = digits(j, b'\n')?;
                out.pre.push(pre);
                out.post.push(post);
                i = k;
            }
        }
    }
    Some(out)
}

fn parse_fields(mut b: &[u8], c: Columns) -> Option<ConnList> {
    let lines = b.iter().filter(|&&x| x == b'\n').count() + 1;
    let col = |given: Option<usize>| given.map(|_| Vec::with_capacity(lines));
    let mut out = ConnList { pre: Vec::with_capacity(lines), post: Vec::with_capacity(lines), weight: col(c.weight), delay: col(c.delay) };
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
    Some(out)
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

    /// Whatever the fast path accepts, the csv crate reads the same way.
    #[test]
    fn fast_path_agrees_with_the_csv_crate() {
        let cases = [
            "pre,post\n0,1\n2,3\n",
            "pre,post,weight,delay\r\n0,1,0.5,1\r\n4294967295,0,-1e-3,2.5\r\n",
            " delay , weight ,post,pre\n1, 2 ,3,4\n\n\n5,6,7,8",
            "pre,post,weight\n+1,2,inf\n",     // inf: not finite, an error either way
            "pre,post\n1,2,3\n",               // too many fields
            "pre,post\n1\n",                   // too few
            "pre,post\n-1,2\n",                // negative index
            "pre,post\n4294967296,2\n",        // u32 overflow
            "pre,post\n1,2\r3,4\n",            // a lone \r ends a record for the csv crate
            "pre,post,weight\n1,2,\n",         // empty weight
            "pre,post,weight\n1,2,0x10\n",
            "pre,post,weight\n1,2,1e400\n",
            "\n\npre,post\n1,2\n",
            "pre,post\n 7 , 8 \n",
            "pre,post\n1,2\r\n\r\n3,4",    // CRLF, a blank line, no final newline
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

    /// The `pre,post` fast loop reads what the general one reads, or declines.
    #[test]
    fn pair_loop_agrees_with_the_field_loop() {
        let c = Columns { count: 2, pre: 0, post: 1, weight: None, delay: None };
        for body in ["0,1\n2,3\n", "1,2\r\n\r\n3,4", "\n\n5,6", "4294967295,0\n", "4294967296,0\n", "1, 2\n", "+1,2\n", "1,2,3\n", "1\n", ""] {
            let quick = parse_pairs(body.as_bytes());
            let general = parse_fields(body.as_bytes(), c);
            if let Some(q) = quick {
                assert_eq!(Some(q), general, "{body:?}");
            }
        }
        assert!(parse_pairs(b"0,1\n2,3\n").is_some());
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

    #[test]
    fn header_errors_name_the_columns() {
        let e = fast(b"pre,target\n1,2\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("pre,post") && e.contains("target"), "{e}");
        let e = with_csv_crate(b"pre,post,w\n1,2,3\n", "t.csv").unwrap_err().to_string();
        assert!(e.contains("unknown column `w`"), "{e}");
    }
}
