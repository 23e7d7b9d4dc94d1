//! Every `.expect(` in the library crates' non-test code says why it cannot
//! fail: a `// invariant:` comment on its line or within the 3 lines above
//! (issue 18; input that can fail gets a typed error instead). `.unwrap()`
//! there is refused by `clippy::unwrap_used` (each library's lib.rs).

use std::path::{Path, PathBuf};

/// The library crates whose `src/` is scanned.
const CRATES: &[&str] = &["isa", "compiler", "emulator", "report"];

/// How far above an `.expect(` its `// invariant:` comment may be.
const REACH: usize = 3;

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "tests") {
                rs_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// 1-based lines of `text`'s non-test code (everything before the first
/// `#[cfg(test)]`) with an `.expect(` and no `// invariant:` in reach.
fn unannotated(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines.iter().position(|l| l.trim_start().starts_with("#[cfg(test)]")).unwrap_or(lines.len());
    (0..end)
        .filter(|&i| !lines[i].trim_start().starts_with("//") && lines[i].contains(".expect("))
        .filter(|&i| !lines[i.saturating_sub(REACH)..=i].iter().any(|l| l.contains("// invariant:")))
        .map(|i| i + 1)
        .collect()
}

#[test]
fn the_scan_sees_what_it_should() {
    let src = "fn a() {\n    x.expect(\"bare\");\n    // invariant: y is set above\n    y.expect(\"fine\");\n    /// z.expect(\"a doc line\")\n}\n#[cfg(test)]\nmod tests {\n    fn t() { z.expect(\"a test\"); }\n}\n";
    assert_eq!(unannotated(src), vec![2]);
    // Reach: three lines above, not four.
    assert_eq!(unannotated("// invariant: i\n\n\nx.expect(\"a\");\n"), Vec::<usize>::new());
    assert_eq!(unannotated("// invariant: i\n\n\n\nx.expect(\"a\");\n"), vec![5]);
}

#[test]
fn every_library_expect_names_its_invariant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut bad = Vec::new();
    let mut scanned = 0;
    for c in CRATES {
        let mut files = Vec::new();
        rs_files(&root.join(c).join("src"), &mut files);
        assert!(!files.is_empty(), "no sources found under {c}/src");
        for f in files {
            let rel = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&f).unwrap();
            scanned += 1;
            let lines = unannotated(&text);
            if !lines.is_empty() {
                let src: Vec<&str> = text.lines().collect();
                bad.extend(lines.iter().map(|&l| format!("{rel}:{l}: {}", src[l - 1].trim())));
            }
        }
    }
    assert!(scanned > 20, "only {scanned} files scanned");
    assert!(
        bad.is_empty(),
        "{} `.expect(` without a `// invariant:` comment (on the line or up to {REACH} lines above) saying why it cannot fail; \
         make it a typed error if input can reach it:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
