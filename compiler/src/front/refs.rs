//! The files a network file reads besides itself: a JSON network's
//! `from_list` connection files (resolved against the network's directory,
//! as the reader resolves them). Commands count them as inputs, so that no
//! output overwrites one.

use super::dom::{Doc, Kind, V};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The files `network` references (none for a NIR file, a chip image or
/// any file that is not a JSON object: reading it fails with its own error
/// later).
pub fn referenced_files(network: &Path) -> Vec<PathBuf> {
    use std::io::Read as _;
    if network.extension().is_some_and(|e| e.eq_ignore_ascii_case("nir")) {
        return Vec::new();
    }
    // Regular files only: reading a pipe (`run /dev/stdin`) would take the
    // bytes the command itself reads next.
    if !std::fs::metadata(network).is_ok_and(|m| m.is_file()) {
        return Vec::new();
    }
    // A look at the first bytes first: an image (binary, maybe large) is not read whole.
    let Ok(f) = std::fs::File::open(network) else { return Vec::new() };
    let mut head = Vec::new();
    if f.take(4096).read_to_end(&mut head).is_err() {
        return Vec::new();
    }
    let head = head.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&head);
    if head.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(network) else { return Vec::new() };
    referenced_in(text.trim_start_matches('\u{feff}'), &base_dir(network))
}

/// The directory a network's relative `file` paths are read against: its
/// file's, that of the file a symbolic link names (a network linked into
/// another directory read its lists from the link's, refused or, with files
/// of the same names there, another network), as spelt otherwise.
pub fn base_dir(network: &Path) -> PathBuf {
    let real = std::fs::symlink_metadata(network).is_ok_and(|m| m.file_type().is_symlink()).then(|| std::fs::canonicalize(network).ok()).flatten();
    real.as_deref().unwrap_or(network).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The files a network's JSON text references, relative to `base`, each once.
pub fn referenced_in(text: &str, base: &Path) -> Vec<PathBuf> {
    // A `from_list` type is written so, or with a `\u` escape: a text with
    // neither references nothing and is not parsed twice (a 57k-projection
    // network's serde_json tree took 0.18 s to build, walk and drop, more
    // than reading the network itself).
    if !text.contains("from_list") && !text.contains("\\u") {
        return Vec::new();
    }
    let Ok(doc) = Doc::parse(text) else { return Vec::new() };
    let (mut out, mut seen) = (Vec::new(), HashSet::new());
    walk(doc.root(), base, &mut out, &mut seen);
    out
}

/// Every object of the document with `"type": "from_list"` and a `file`
/// (a connector, wherever it sits: projections, electrical synapses).
fn walk(v: V, base: &Path, out: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) {
    match v.kind() {
        Kind::Obj(o) => {
            let field = |k: &str| o.get(k).and_then(|(_, x)| x.as_str());
            if let (Some("from_list"), Some(f)) = (field("type"), field("file")) {
                let p = base.join(f);
                if seen.insert(p.clone()) {
                    out.push(p);
                }
            }
            o.for_each(|(_, x)| walk(x, base, out, seen));
        }
        Kind::Arr(a) => a.for_each(|x| walk(x, base, out, seen)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_list_files_are_found_relative_to_the_network() {
        let text = r#"{"populations": [], "projections": [
            {"pre": "a", "post": "b", "connector": {"type": "from_list", "file": "c.csv"}},
            {"pre": "a", "post": "b", "connector": {"type": "from_list", "file": "sub/d.csv", "select": ["w"]}},
            {"pre": "a", "post": "b", "connector": {"type": "all_to_all", "file": "not_read.csv"}},
            {"pre": "a", "post": "b", "connector": {"type": "from_list", "connections": [[0, 0]]}}]}"#;
        assert_eq!(referenced_in(text, Path::new("nets")), vec![PathBuf::from("nets/c.csv"), PathBuf::from("nets/sub/d.csv")]);
        assert!(referenced_in("not json", Path::new(".")).is_empty());
    }

    #[test]
    fn escaped_types_are_found_and_each_file_listed_once() {
        // `from\u005flist` is `from_list`: the quick look for the word must not miss it.
        let text = r#"{"projections": [
            {"pre": "a", "post": "b", "connector": {"type": "from\u005flist", "file": "c.csv"}},
            {"pre": "b", "post": "a", "connector": {"type": "from_list", "file": "c.csv"}},
            {"pre": "b", "post": "b", "connector": {"type": "from_list", "file": "e\u0073.csv"}}]}"#;
        assert_eq!(referenced_in(text, Path::new("n")), vec![PathBuf::from("n/c.csv"), PathBuf::from("n/es.csv")]);
        let escaped_only = r#"{"c": {"type": "from\u005flist", "file": "x.csv"}}"#;
        assert_eq!(referenced_in(escaped_only, Path::new("n")), vec![PathBuf::from("n/x.csv")]);
    }
}
