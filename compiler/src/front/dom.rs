//! A JSON document as one array of nodes in document order, strings and
//! numbers pointing into the text (a string with escapes is the only copy).
//! The network reader walks it by hand (`json.rs`); a general-purpose tree
//! (serde_json's `Value`) spent most of a large network's read allocating
//! and freeing maps and strings: 57k projections took 120 ms to build and drop.
//!
//! The grammar is RFC 8259's, checked in full: no trailing commas, no
//! leading zeros, no control characters in strings, no lone surrogates,
//! nothing after the value. Numbers keep their text and are converted when
//! read (`str::parse`, correctly rounded). Nesting deeper than
//! [`MAX_DEPTH`] is refused, as serde_json does.

/// The deepest nesting accepted (serde_json's limit).
pub const MAX_DEPTH: usize = 128;

/// Twelve bytes, positions in the text rather than slices of it: a
/// 57k-projection network has 1.1M nodes, and at 24 bytes each (a
/// `Cow<str>` per string) the fresh pages they took cost more than parsing.
#[derive(Clone, Copy, Debug)]
enum Node {
    Null,
    Bool(bool),
    /// The number's text: `len` bytes from byte `at`.
    Num {
        at: u32,
        len: u32,
    },
    /// A string without escapes: `len` bytes from byte `at`.
    Str {
        at: u32,
        len: u32,
    },
    /// A string with escapes: its unescaped copy, `Doc::owned[i]`.
    Esc(u32),
    /// `len` elements (objects: key, value pairs), the next sibling at `end`.
    Arr {
        len: u32,
        end: u32,
    },
    Obj {
        len: u32,
        end: u32,
    },
}

/// A parsed document; `Doc::root` is the whole value.
pub struct Doc<'t> {
    text: &'t str,
    nodes: Vec<Node>,
    owned: Vec<String>,
}

/// Why a text is not JSON, and where (1-based line and column, as serde_json counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub msg: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at line {} column {}", self.msg, self.line, self.column)
    }
}

impl<'t> Doc<'t> {
    pub fn parse(text: &'t str) -> Result<Doc<'t>, SyntaxError> {
        // Nodes hold byte positions as u32.
        if u32::try_from(text.len()).is_err() {
            return Err(SyntaxError { msg: format!("a JSON text of {} bytes: at most {} are read", text.len(), u32::MAX), line: 1, column: 1 });
        }
        Reader { t: text.as_bytes(), text, at: 0, nodes: Vec::with_capacity(text.len() / 8), owned: Vec::new() }.document()
    }

    /// A string node's text (a key's, or a value's).
    #[inline]
    fn str_of(&self, n: &Node) -> Option<&str> {
        match *n {
            Node::Str { at, len } => Some(&self.text[at as usize..(at + len) as usize]),
            Node::Esc(i) => Some(&self.owned[i as usize]),
            _ => None,
        }
    }

    /// Node `i`'s string as bytes: keys are compared this way, lengths
    /// first, without the text's char-boundary checks.
    #[inline]
    fn key_bytes(&self, i: u32) -> &[u8] {
        match self.nodes[i as usize] {
            Node::Str { at, len } => &self.text.as_bytes()[at as usize..(at + len) as usize],
            Node::Esc(j) => self.owned[j as usize].as_bytes(),
            _ => &[],
        }
    }

    pub fn root(&self) -> V<'_, 't> {
        V { doc: self, i: 0 }
    }
}

/// A value of a document.
#[derive(Clone, Copy)]
pub struct V<'d, 't> {
    doc: &'d Doc<'t>,
    i: u32,
}

/// What a value is, for matching.
pub enum Kind<'d, 't> {
    Null,
    Bool(bool),
    /// The number's text as written.
    Num(&'t str),
    Str(&'d str),
    Arr(Items<'d, 't>),
    Obj(Members<'d, 't>),
}

impl<'d, 't> V<'d, 't> {
    fn node(&self) -> &'d Node {
        &self.doc.nodes[self.i as usize]
    }

    pub fn kind(&self) -> Kind<'d, 't> {
        match self.node() {
            Node::Null => Kind::Null,
            Node::Bool(b) => Kind::Bool(*b),
            Node::Num { at, len } => Kind::Num(&self.doc.text[*at as usize..(at + len) as usize]),
            Node::Str { .. } | Node::Esc(_) => Kind::Str(self.doc.str_of(self.node()).unwrap_or_default()),
            Node::Arr { len, .. } => Kind::Arr(Items { doc: self.doc, next: self.i + 1, left: *len }),
            Node::Obj { len, .. } => Kind::Obj(Members { doc: self.doc, next: self.i + 1, left: *len }),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.node(), Node::Null)
    }
    pub fn is_array(&self) -> bool {
        matches!(self.node(), Node::Arr { .. })
    }
    pub fn is_number(&self) -> bool {
        matches!(self.node(), Node::Num { .. })
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.node() {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&'d str> {
        self.doc.str_of(self.node())
    }
    /// A number's text as written.
    fn num(&self) -> Option<&'t str> {
        match *self.node() {
            Node::Num { at, len } => Some(&self.doc.text[at as usize..(at + len) as usize]),
            _ => None,
        }
    }
    /// Any number, as the nearest f64 (integers too).
    pub fn as_f64(&self) -> Option<f64> {
        self.num()?.parse().ok()
    }
    /// A number written as an integer (no fraction, no exponent) that fits a u64.
    pub fn as_u64(&self) -> Option<u64> {
        self.num().filter(|n| is_integer(n))?.parse().ok()
    }
    /// A number written as an integer that fits an i64.
    pub fn as_i64(&self) -> Option<i64> {
        self.num().filter(|n| is_integer(n))?.parse().ok()
    }
    /// Elements of an array.
    pub fn as_array(&self) -> Option<Items<'d, 't>> {
        match self.kind() {
            Kind::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<Members<'d, 't>> {
        match self.kind() {
            Kind::Obj(m) => Some(m),
            _ => None,
        }
    }

    /// Where this value sits, as a JSON path (`$.projections[3].connector`):
    /// found from the root down when an error names it, so that reading
    /// keeps no path per value.
    pub fn path(&self) -> String {
        let doc = self.doc;
        let mut out = String::from("$");
        let mut at = 0u32;
        while at != self.i {
            let (len, obj) = match doc.nodes[at as usize] {
                Node::Arr { len, .. } => (len, false),
                Node::Obj { len, .. } => (len, true),
                _ => break,
            };
            let mut child = at + 1;
            let mut inside = None;
            for ix in 0..len {
                let v = if obj { child + 1 } else { child };
                let next = skip(doc, v);
                if (v..next).contains(&self.i) {
                    match doc.str_of(&doc.nodes[child as usize]) {
                        Some(k) if obj => out.push_str(&format!(".{}", shown_key(k))),
                        _ => out.push_str(&format!("[{ix}]")),
                    }
                    inside = Some(v);
                    break;
                }
                child = next;
            }
            match inside {
                Some(v) => at = v,
                None => break,
            }
        }
        out
    }
}

/// A key as an error message shows it: control and invisible characters
/// escaped (a NUL or a right-to-left override garbled the terminal), and no
/// more than its first 64 characters (a megabyte-long key was printed whole,
/// twice).
pub fn shown_key(k: &str) -> String {
    const MOST: usize = 64;
    let mut s: String = k.chars().take(MOST).collect::<String>().escape_debug().collect();
    let n = k.chars().count();
    if n > MOST {
        s.push_str(&format!("… ({n} characters)"));
    }
    s
}

fn is_integer(n: &str) -> bool {
    !n.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The next sibling of node `i`.
#[inline]
fn skip(doc: &Doc, i: u32) -> u32 {
    match doc.nodes[i as usize] {
        Node::Arr { end, .. } | Node::Obj { end, .. } => end,
        _ => i + 1,
    }
}

/// An array's elements, in order.
#[derive(Clone, Copy)]
pub struct Items<'d, 't> {
    doc: &'d Doc<'t>,
    next: u32,
    left: u32,
}

impl Items<'_, '_> {
    pub fn len(&self) -> usize {
        self.left as usize
    }
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
    /// The next `n` items (fewer at the end) as items of their own; `self`
    /// goes on after them.
    pub fn split_front(&mut self, n: usize) -> Self {
        let n = n.min(self.left as usize) as u32;
        let front = Items { doc: self.doc, next: self.next, left: n };
        for _ in 0..n {
            self.next = skip(self.doc, self.next);
        }
        self.left -= n;
        front
    }
}

impl<'d, 't> Iterator for Items<'d, 't> {
    type Item = V<'d, 't>;
    fn next(&mut self) -> Option<V<'d, 't>> {
        if self.left == 0 {
            return None;
        }
        let v = V { doc: self.doc, i: self.next };
        self.next = skip(self.doc, self.next);
        self.left -= 1;
        Some(v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Items<'_, '_> {}

/// An object's members, in document order.
#[derive(Clone, Copy)]
pub struct Members<'d, 't> {
    doc: &'d Doc<'t>,
    next: u32,
    left: u32,
}

impl<'d, 't> Members<'d, 't> {
    pub fn len(&self) -> usize {
        self.left as usize
    }
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
    /// The member named `key` and its position (the first, if the name
    /// repeats: see [`Members::repeated`]).
    pub fn get(&self, key: &str) -> Option<(usize, V<'d, 't>)> {
        let (doc, mut at) = (self.doc, self.next);
        for i in 0..self.left as usize {
            if doc.key_bytes(at) == key.as_bytes() {
                return Some((i, V { doc, i: at + 1 }));
            }
            at = skip(doc, at + 1);
        }
        None
    }
    /// A key that appears twice, if any.
    pub fn repeated(&self) -> Option<&'d str> {
        // Objects of a network file have a handful of keys: compare pairs, allocate nothing.
        if self.left <= 16 {
            let (doc, mut keys, mut at) = (self.doc, [0u32; 16], self.next);
            for i in 0..self.left as usize {
                let k = doc.key_bytes(at);
                if keys[..i].iter().any(|&j| doc.key_bytes(j) == k) {
                    return doc.str_of(&doc.nodes[at as usize]);
                }
                keys[i] = at;
                at = skip(doc, at + 1);
            }
            return None;
        }
        let mut seen = std::collections::HashSet::with_capacity(self.len());
        self.into_iter().map(|(k, _)| k).find(|k| !seen.insert(*k))
    }
}

/// The first eight bytes of a key, zero-padded: with its length, compared
/// before the key's text.
#[inline]
fn prefix(k: &[u8]) -> u64 {
    // Byte by byte: a copy of a variable length was a call to memmove per lookup.
    k.iter().take(8).enumerate().fold(0, |p, (i, &c)| p | (c as u64) << (8 * i))
}

/// The most keys [`Keys`] tables; larger objects are searched member by member.
const KEYS_TABLED: usize = 16;

/// An object's keys, read once for the many lookups that follow: each
/// lookup compares lengths and first eight bytes, then text only on a match
/// (the network reader looks up a dozen keys per projection, most absent).
#[derive(Clone, Copy)]
pub struct Keys<'d, 't> {
    m: Members<'d, 't>,
    /// Length, first eight bytes and node of the first `KEYS_TABLED` keys.
    table: [(u32, u64, u32); KEYS_TABLED],
}

impl<'d, 't> Keys<'d, 't> {
    pub fn new(m: Members<'d, 't>) -> Keys<'d, 't> {
        let mut table = [(0, 0, 0); KEYS_TABLED];
        if m.len() <= KEYS_TABLED {
            let mut at = m.next;
            for slot in &mut table[..m.len()] {
                let k = m.doc.key_bytes(at);
                *slot = (k.len() as u32, prefix(k), at);
                at = skip(m.doc, at + 1);
            }
        }
        Keys { m, table }
    }
    pub fn members(&self) -> Members<'d, 't> {
        self.m
    }
    /// As [`Members::get`].
    pub fn get(&self, key: &str) -> Option<(usize, V<'d, 't>)> {
        if self.m.len() > KEYS_TABLED {
            return self.m.get(key);
        }
        let (len, p, doc) = (key.len() as u32, prefix(key.as_bytes()), self.m.doc);
        self.table[..self.m.len()]
            .iter()
            .position(|&(l, q, at)| l == len && q == p && (len <= 8 || doc.key_bytes(at) == key.as_bytes()))
            .map(|i| (i, V { doc, i: self.table[i].2 + 1 }))
    }
    /// As [`Members::repeated`].
    pub fn repeated(&self) -> Option<&'d str> {
        if self.m.len() > KEYS_TABLED {
            return self.m.repeated();
        }
        let (keys, doc) = (&self.table[..self.m.len()], self.m.doc);
        keys.iter()
            .enumerate()
            .find(|&(i, &(l, q, at))| keys[..i].iter().any(|&(l2, q2, at2)| l == l2 && q == q2 && (l <= 8 || doc.key_bytes(at) == doc.key_bytes(at2))))
            .and_then(|(_, &(_, _, at))| doc.str_of(&doc.nodes[at as usize]))
    }
}

impl<'d, 't> Iterator for Members<'d, 't> {
    type Item = (&'d str, V<'d, 't>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let k = self.doc.str_of(&self.doc.nodes[self.next as usize]).unwrap_or_default();
        let v = V { doc: self.doc, i: self.next + 1 };
        self.next = skip(self.doc, self.next + 1);
        self.left -= 1;
        Some((k, v))
    }
}

struct Reader<'t> {
    t: &'t [u8],
    text: &'t str,
    at: usize,
    nodes: Vec<Node>,
    owned: Vec<String>,
}

/// An open container: its node, its element count so far.
struct Open {
    node: usize,
    len: u32,
    obj: bool,
}

impl<'t> Reader<'t> {
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, SyntaxError> {
        self.err_at(self.at, msg)
    }

    fn err_at<T>(&self, at: usize, msg: impl Into<String>) -> Result<T, SyntaxError> {
        let at = at.min(self.t.len());
        let before = &self.t[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        // Columns count characters, not bytes.
        let column = self.text.get(line_start..at).map_or(at - line_start, |s| s.chars().count()) + 1;
        Err(SyntaxError { msg: msg.into(), line, column })
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.t.get(self.at) {
            self.at += 1;
        }
    }

    fn document(mut self) -> Result<Doc<'t>, SyntaxError> {
        let mut stack: Vec<Open> = Vec::new();
        self.ws();
        loop {
            // A value: a leaf, or the start of a container.
            match self.t.get(self.at) {
                None => return self.err("EOF while parsing a value"),
                Some(b'[') | Some(b'{') => {
                    let obj = self.t[self.at] == b'{';
                    if stack.len() >= MAX_DEPTH {
                        return self.err("recursion limit exceeded");
                    }
                    self.at += 1;
                    stack.push(Open { node: self.nodes.len(), len: 0, obj });
                    self.nodes.push(if obj { Node::Obj { len: 0, end: 0 } } else { Node::Arr { len: 0, end: 0 } });
                    self.ws();
                    let close = if obj { b'}' } else { b']' };
                    if self.t.get(self.at) == Some(&close) {
                        self.at += 1;
                        self.close(&mut stack);
                    } else if obj {
                        self.key()?;
                        continue;
                    } else {
                        continue;
                    }
                }
                Some(_) => self.leaf()?,
            }
            // After a value: a separator, the end of containers, or the end.
            loop {
                self.ws();
                let Some(top) = stack.last_mut() else {
                    if self.at < self.t.len() {
                        return self.err("trailing characters");
                    }
                    return Ok(Doc { text: self.text, nodes: self.nodes, owned: self.owned });
                };
                top.len += 1;
                let (obj, close) = (top.obj, if top.obj { b'}' } else { b']' });
                match self.t.get(self.at) {
                    Some(b',') => {
                        self.at += 1;
                        self.ws();
                        if obj {
                            self.key()?;
                        } else if self.t.get(self.at) == Some(&b']') {
                            return self.err("trailing comma");
                        }
                        break;
                    }
                    Some(&c) if c == close => {
                        self.at += 1;
                        self.close(&mut stack);
                    }
                    None => return self.err(if obj { "EOF while parsing an object" } else { "EOF while parsing a list" }),
                    Some(_) => return self.err(if obj { "expected `,` or `}`" } else { "expected `,` or `]`" }),
                }
            }
        }
    }

    /// Ends the innermost container: its element count and next sibling.
    /// (The caller counts the container itself as an element of its parent.)
    fn close(&mut self, stack: &mut Vec<Open>) {
        if let Some(o) = stack.pop() {
            let end = self.nodes.len() as u32;
            self.nodes[o.node] = if o.obj { Node::Obj { len: o.len, end } } else { Node::Arr { len: o.len, end } };
        }
    }

    /// An object's key and its colon; leaves `at` on the value.
    fn key(&mut self) -> Result<(), SyntaxError> {
        match self.t.get(self.at) {
            Some(b'"') => {}
            Some(b'}') => return self.err("trailing comma"),
            None => return self.err("EOF while parsing an object"),
            Some(_) => return self.err("key must be a string"),
        }
        let s = self.string()?;
        self.nodes.push(s);
        self.ws();
        if self.t.get(self.at) != Some(&b':') {
            return self.err("expected `:`");
        }
        self.at += 1;
        self.ws();
        Ok(())
    }

    fn leaf(&mut self) -> Result<(), SyntaxError> {
        let node = match self.t[self.at] {
            b'"' => self.string()?,
            b't' => self.word("true", Node::Bool(true))?,
            b'f' => self.word("false", Node::Bool(false))?,
            b'n' => self.word("null", Node::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return self.err("expected value"),
        };
        self.nodes.push(node);
        Ok(())
    }

    fn word(&mut self, w: &str, node: Node) -> Result<Node, SyntaxError> {
        if self.t[self.at..].starts_with(w.as_bytes()) {
            self.at += w.len();
            Ok(node)
        } else {
            self.err("expected value")
        }
    }

    fn number(&mut self) -> Result<Node, SyntaxError> {
        let start = self.at;
        let mut int_digits = 1;
        let digits = |r: &mut Self| {
            let s = r.at;
            while let Some(b'0'..=b'9') = r.t.get(r.at) {
                r.at += 1;
            }
            r.at - s
        };
        if self.t.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.t.get(self.at) {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.t.get(self.at) {
                    return self.err("invalid number (a leading zero)");
                }
            }
            Some(b'1'..=b'9') => {
                int_digits = digits(self);
            }
            _ => return self.err("invalid number"),
        }
        if self.t.get(self.at) == Some(&b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return self.err("invalid number (no digit after the point)");
            }
        }
        let exponent = matches!(self.t.get(self.at), Some(b'e' | b'E'));
        if exponent {
            self.at += 1;
            if let Some(b'+' | b'-') = self.t.get(self.at) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return self.err("invalid number (no digit in the exponent)");
            }
        }
        let n = Node::Num { at: start as u32, len: (self.at - start) as u32 };
        // Finite only: a number too large for an f64 is refused, as serde_json
        // does. Below 10^308 without an exponent it cannot be (f64's largest is
        // 1.8e308), and then is not converted twice.
        if !exponent && int_digits <= 308 {
            return Ok(n);
        }
        match self.text[start..self.at].parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(n),
            _ => self.err_at(start, "number out of range"),
        }
    }

    /// A string at `at` (on its opening quote), copied only if it has escapes.
    fn string(&mut self) -> Result<Node, SyntaxError> {
        self.at += 1;
        let start = self.at;
        loop {
            match self.t.get(self.at) {
                None => return self.err("EOF while parsing a string"),
                Some(b'"') => {
                    let s = Node::Str { at: start as u32, len: (self.at - start) as u32 };
                    self.at += 1;
                    return Ok(s);
                }
                Some(b'\\') => break,
                Some(&c) if c < 0x20 => return self.err("control character (\\u0000-\\u001F) found while parsing a string"),
                Some(_) => self.at += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.at]);
        loop {
            let run = self.at;
            loop {
                match self.t.get(self.at) {
                    None => return self.err("EOF while parsing a string"),
                    Some(b'"' | b'\\') => break,
                    Some(&c) if c < 0x20 => return self.err("control character (\\u0000-\\u001F) found while parsing a string"),
                    Some(_) => self.at += 1,
                }
            }
            out.push_str(&self.text[run..self.at]);
            if self.t[self.at] == b'"' {
                self.at += 1;
                self.owned.push(out);
                return Ok(Node::Esc(self.owned.len() as u32 - 1));
            }
            self.at += 1;
            let Some(&e) = self.t.get(self.at) else { return self.err("EOF while parsing a string") };
            self.at += 1;
            match e {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hi = self.hex4()?;
                    let c = if (0xD800..0xDC00).contains(&hi) {
                        if !self.t[self.at..].starts_with(b"\\u") {
                            return self.err("lone leading surrogate in hex escape");
                        }
                        self.at += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return self.err("lone leading surrogate in hex escape");
                        }
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        char::from_u32(hi)
                    };
                    match c {
                        Some(c) => out.push(c),
                        None => return self.err("lone trailing surrogate in hex escape"),
                    }
                }
                _ => return self.err_at(self.at - 1, "invalid escape"),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let Some(h) = self.t.get(self.at..self.at + 4) else { return self.err("EOF while parsing a string") };
        let mut v = 0u32;
        for &b in h {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return self.err("invalid escape"),
            };
            v = v * 16 + d as u32;
        }
        self.at += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_split_into_runs_in_order() {
        let doc = Doc::parse(r#"[1, [2, {"a": [3]}], {"b": 4}, "five", 6, [], 7]"#).unwrap();
        let all: Vec<String> = doc.root().as_array().unwrap().map(|v| to_value(v).to_string()).collect();
        for size in [1, 2, 3, 6, 7, 8, 100] {
            let mut rest = doc.root().as_array().unwrap();
            let mut got = Vec::new();
            while !rest.is_empty() {
                let run = rest.split_front(size);
                assert_eq!(run.len(), size.min(all.len() - got.len()));
                got.extend(run.map(|v| to_value(v).to_string()));
            }
            assert_eq!(got, all, "runs of {size}");
            assert!(rest.split_front(3).is_empty());
        }
    }

    /// Our reading of a text, in serde_json's terms, to compare with serde_json's.
    fn to_value(v: V) -> serde_json::Value {
        use serde_json::Value;
        match v.kind() {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(b),
            Kind::Num(_) => {
                if let Some(u) = v.as_u64() {
                    Value::from(u)
                } else if let Some(i) = v.as_i64() {
                    Value::from(i)
                } else {
                    Value::from(v.as_f64().unwrap_or(f64::NAN))
                }
            }
            Kind::Str(s) => Value::String(s.to_string()),
            Kind::Arr(a) => Value::Array(a.map(to_value).collect()),
            Kind::Obj(m) => Value::Object(m.map(|(k, x)| (k.to_string(), to_value(x))).collect()),
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let texts = [
            r#"{"a": [1, -2, 3.5, -0.0, 1e3, 2E-2, 18446744073709551615, -9223372036854775808], "b": {"c": null, "d": true, "e": false}}"#,
            r#"  [ "x\"y\\z\/\b\f\n\r\t", "\u00e9\u4e2d\ud83d\ude00", "", [], {}, [[[]]], {"k": {"k": {}}} ]  "#,
            "\"plain é 中\"",
            "0",
            "-12.25e+2",
            "[1.7976931348623157e308, 5e-324, 0.1, 123456789012345678901234567890]",
        ];
        // Long integers: finite below f64's largest, whether or not converted when read.
        let long = [format!("-{}", "9".repeat(308)), format!("1{}", "0".repeat(308)), format!("[{}.5]", "1".repeat(300))];
        for t in texts.iter().copied().chain(long.iter().map(|s| s.as_str())) {
            let ours = to_value(Doc::parse(t).unwrap_or_else(|e| panic!("{t}: {e}")).root());
            let theirs: serde_json::Value = serde_json::from_str(t).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(ours, theirs, "{t}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        let bad = [
            "",
            " ",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1: 2}",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "1e+",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "\"abc",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\u12\"",
            "[1] 2",
            "{\"a\":1}}",
            "[",
            "{",
            "{\"a\":",
            "1e999",
            "[}",
            "{]",
        ];
        for t in bad {
            assert!(serde_json::from_str::<serde_json::Value>(t).is_err(), "serde_json accepts {t:?}");
            assert!(Doc::parse(t).is_err(), "accepted {t:?}");
        }
        for t in [format!("1{}", "0".repeat(309)), format!("[-18{}]", "0".repeat(307)), format!("1{}.0", "0".repeat(400))] {
            assert!(serde_json::from_str::<serde_json::Value>(&t).is_err(), "serde_json accepts {t:?}");
            assert!(Doc::parse(&t).is_err(), "accepted {t:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(Doc::parse(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Doc::parse(&ok).is_ok());
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = Doc::parse("{\n  \"a\": [1,\n    2,,\n  ]\n}").err().unwrap_or_else(|| panic!("accepted"));
        assert_eq!((e.line, e.column), (3, 7), "{e}");
        let e = Doc::parse("[\"é\", x]").err().unwrap_or_else(|| panic!("accepted"));
        assert_eq!((e.line, e.column), (1, 7), "{e}");
    }

    #[test]
    fn members_find_keys_and_repeats() {
        let d = Doc::parse(r#"{"a": 1, "b": [2, {"c": 3}], "d": 4}"#).unwrap_or_else(|e| panic!("{e}"));
        let m = d.root().as_object().unwrap_or_else(|| panic!("not an object"));
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("d").map(|(i, v)| (i, v.as_u64())), Some((2, Some(4))));
        assert!(m.get("c").is_none());
        assert_eq!(m.repeated(), None);
        let d = Doc::parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.root().as_object().and_then(|m| m.repeated()), Some("a"));
    }

    /// `Keys` answers as `Members` does: keys of every length around the
    /// eight bytes it compares first, escaped keys, repeats, and objects too
    /// large for its table.
    #[test]
    fn keys_agree_with_members() {
        let names =
            ["", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghX", "abcdefgi", r"wei\u0067ht", "weight", "weight_exp", "é中", r"abcdefgh\u00e9"];
        let probes = ["", "a", "abcdefgh", "abcdefghi", "abcdefghX", "abcdefgi", "weight", "weight_exp", "é中", "abcdefghé", "zzz"];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for n in [0usize, 1, 2, 5, 15, 16, 17, 40] {
            for round in 0..20 {
                let mut text = String::from("{");
                for i in 0..n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = names[(x % names.len() as u64) as usize];
                    // Unique unless the round repeats keys on purpose.
                    let k = if round % 2 == 0 { format!("{k}{i}") } else { k.to_string() };
                    text += &format!("{}\"{k}\": {i}", if i > 0 { ", " } else { "" });
                }
                text += "}";
                let d = Doc::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                let m = d.root().as_object().unwrap_or_else(|| panic!("not an object"));
                let k = Keys::new(m);
                assert_eq!(k.repeated(), m.repeated(), "{text}");
                let mut all: Vec<String> = m.map(|(k, _)| k.to_string()).collect();
                all.extend(probes.iter().map(|p| p.to_string()));
                for p in &all {
                    let (a, b) = (k.get(p), m.get(p));
                    assert_eq!(a.map(|(i, v)| (i, v.as_u64())), b.map(|(i, v)| (i, v.as_u64())), "{p:?} in {text}");
                }
            }
        }
    }

    /// Our value equals serde_json's; floats may differ by one unit in the
    /// last place, where serde_json's default parser is not correctly rounded
    /// (1.5e-30: it gives ...a3f0, `str::parse` and Python ...a3ef).
    fn same(v: V, t: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (v.kind(), t) {
            (Kind::Null, Value::Null) => true,
            (Kind::Bool(a), Value::Bool(b)) => a == *b,
            (Kind::Num(_), Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64(), v.as_f64()) {
                (Some(u), _, _, _) => v.as_u64() == Some(u),
                (_, Some(i), _, _) => v.as_i64() == Some(i),
                (_, _, Some(b), Some(a)) => a == b || (a.to_bits() as i64 - b.to_bits() as i64).abs() == 1,
                _ => false,
            },
            (Kind::Str(a), Value::String(b)) => a == b,
            (Kind::Arr(a), Value::Array(b)) => a.len() == b.len() && a.zip(b).all(|(x, y)| same(x, y)),
            (Kind::Obj(m), Value::Object(o)) => {
                // serde_json keeps the last of a repeated key.
                let mut last = std::collections::HashMap::new();
                for (k, x) in m {
                    last.insert(k, x);
                }
                last.len() == o.len() && o.iter().all(|(k, y)| last.get(k.as_str()).is_some_and(|x| same(*x, y)))
            }
            _ => false,
        }
    }

    /// Thousands of mangled documents: we accept exactly what serde_json
    /// accepts, and read the same values.
    #[test]
    fn agrees_with_serde_json_on_mangled_documents() {
        let seed = r#"{"name": "n", "dt_ms": 0.1, "populations": [{"name": "a\u00e9\ud83d\ude00", "size": 10, "model": "lif",
            "params": {"tau_m": 20.0, "v_rest": -65, "i_offset": 1.5e-30}, "initial": {"v": {"uniform": [-60.0, -50E0], "seed": 0}}}],
            "projections": [{"pre": "a", "post": "a", "weight": [0.1, -0, 1e+2, true, false, null, [], {}], "delay": 1}]}"#;
        let alphabet = b"{}[],:\"\\0123456789-+.eEtrufalsn \n\tu\x01";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let (mut both_ok, mut both_bad) = (0, 0);
        for _ in 0..20_000 {
            let mut b = seed.as_bytes().to_vec();
            for _ in 0..1 + rnd(3) {
                let at = rnd(b.len());
                let c = alphabet[rnd(alphabet.len())];
                match rnd(3) {
                    0 => b[at] = c,
                    1 => {
                        b.remove(at);
                    }
                    _ => b.insert(at, c),
                }
            }
            let Ok(t) = std::str::from_utf8(&b) else { continue };
            match (Doc::parse(t), serde_json::from_str::<serde_json::Value>(t)) {
                (Ok(d), Ok(v)) => {
                    assert!(same(d.root(), &v), "different values: {t}");
                    both_ok += 1;
                }
                (Err(_), Err(_)) => both_bad += 1,
                (Ok(_), Err(e)) => panic!("accepted what serde_json refuses ({e}): {t}"),
                (Err(e), Ok(_)) => panic!("refused ({e}) what serde_json accepts: {t}"),
            }
        }
        assert!(both_ok > 1_000 && both_bad > 1_000, "{both_ok} accepted, {both_bad} refused");
    }

    #[test]
    fn keys_are_shown_escaped_and_cut() {
        assert_eq!(shown_key("rate"), "rate");
        assert_eq!(shown_key("ra\0te"), "ra\\0te");
        assert_eq!(shown_key("a\u{202e}b"), "a\\u{202e}b");
        let long = "k".repeat(1_000_000);
        assert_eq!(shown_key(&long), format!("{}… (1000000 characters)", "k".repeat(64)));
        let doc = Doc::parse("{\"a\\u0000b\": [1]}").unwrap();
        let v = doc.root().as_object().unwrap().get("a\0b").unwrap().1;
        assert_eq!(v.path(), "$.a\\0b");
    }

    #[test]
    fn paths_name_each_value() {
        let d = Doc::parse(r#"{"a": [0, {"b": [1, 2, [3]]}], "c": {"d": null}, "e": "x"}"#).unwrap_or_else(|e| panic!("{e}"));
        let mut seen = Vec::new();
        fn walk(v: V, seen: &mut Vec<String>) {
            seen.push(v.path());
            match v.kind() {
                Kind::Arr(a) => a.for_each(|x| walk(x, seen)),
                Kind::Obj(m) => m.for_each(|(_, x)| walk(x, seen)),
                _ => {}
            }
        }
        walk(d.root(), &mut seen);
        let want = ["$", "$.a", "$.a[0]", "$.a[1]", "$.a[1].b", "$.a[1].b[0]", "$.a[1].b[1]", "$.a[1].b[2]", "$.a[1].b[2][0]", "$.c", "$.c.d", "$.e"];
        assert_eq!(seen, want);
    }
}
