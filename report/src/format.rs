//! Readable numbers and tables for people (JSON is the machine format).

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

/// Engineering notation with a unit: 1.23 mJ, 45.6 µs.
pub fn eng(v: f64, unit: &str) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v} {unit}");
    }
    let prefixes = [(1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")];
    for (s, p) in prefixes {
        if v.abs() >= s {
            return format!("{:.4} {p}{unit}", v / s);
        }
    }
    format!("{:.4e} {unit}", v)
}
