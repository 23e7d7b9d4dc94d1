//! docs/cli.md is the CLI reference generated from clap: every command's
//! `--help`, found by walking the `Commands:` lists from `nerve --help`.
//! A changed option or help text fails this test until the page is
//! regenerated (`BLESS=1 cargo test cli_reference`); a command without an
//! example in its help fails always.

use std::path::Path;
use std::process::Command;

fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nerve")).args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "nerve {path:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands listed under `Commands:` (without `help`).
fn subcommands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            if let Some(name) = line.split_whitespace().next() {
                if name != "help" {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

fn walk(path: Vec<String>, page: &mut String, missing: &mut Vec<String>) {
    let text = help(&path);
    let title = if path.is_empty() { "nerve".to_string() } else { format!("nerve {}", path.join(" ")) };
    page.push_str(&format!("## `{title}`\n\n```text\n{}\n```\n\n", text.trim_end()));
    if !text.contains("Example") {
        missing.push(title);
    }
    for sub in subcommands(&text) {
        let mut p = path.clone();
        p.push(sub);
        walk(p, page, missing);
    }
}

#[test]
fn the_cli_reference_is_clap_s_help_and_every_command_has_an_example() {
    let mut page = String::from(
        "# CLI reference\n\nGenerated from the binary's own help (`cli/tests/it/cli_reference.rs`; `BLESS=1 cargo test cli_reference` \
         regenerates it). Exit status: 0 done; 1 an error (the message names the culprit); 2 a usage error.\n\n",
    );
    let mut missing = Vec::new();
    walk(Vec::new(), &mut page, &mut missing);
    assert!(missing.is_empty(), "commands without an example in their --help: {missing:?}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &page).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != page {
        let line = have.lines().zip(page.lines()).position(|(a, b)| a != b).unwrap_or(have.lines().count().min(page.lines().count()));
        panic!("docs/cli.md differs from the CLI's help from line {} on: `BLESS=1 cargo test cli_reference` regenerates it", line + 1);
    }
}
