//! Readable tables for people (JSON is the machine format).

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

/// A plain table: a header row, then rows; numeric-looking cells right-aligned.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY).set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    let numeric: Vec<bool> = (0..header.len()).map(|i| rows.iter().all(|r| r.get(i).is_none_or(|c| looks_numeric(c)))).collect();
    for r in rows {
        t.add_row(r);
    }
    for (i, n) in numeric.iter().enumerate() {
        if *n {
            if let Some(col) = t.column_mut(i) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    t.to_string()
}

fn looks_numeric(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '%' | '-' | '/' | ' ' | '×' | 'e' | '+'))
        && s.chars().any(|c| c.is_ascii_digit())
}

/// `used / limit (pct%)`.
pub fn util(used: u64, limit: Option<u32>) -> String {
    match limit {
        Some(l) if l > 0 => format!("{used}/{l} ({:.0}%)", 100.0 * used as f64 / l as f64),
        _ => format!("{used}"),
    }
}

/// A two-column key/value table without a header.
pub fn plain(rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY).set_content_arrangement(ContentArrangement::Disabled);
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}
