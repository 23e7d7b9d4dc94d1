//! The run report as a self-contained HTML page.

use std::fmt::Write as _;

use crate::summary::Summary;
use crate::Result;

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The run report as one self-contained HTML page (tables and SVG pictures).
pub fn html(s: &Summary, top: usize) -> Result<String> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nerve report: {}</title>\n<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}pre{{font-size:12px;background:#f6f6f6;padding:8px;overflow-x:auto}}figure{{margin:1em 0}}figcaption{{color:#555}}</style></head><body>\n<h1>nerve run report: {} on {}</h1>\n",
        html_escape(&s.network),
        html_escape(&s.network),
        html_escape(&s.arch)
    );
    // The summary, then the pictures, then the detailed tables.
    let tabs = crate::text::tables(s, top);
    let (first, rest) = tabs.split_at(1);
    for (title, t) in first {
        let _ = write!(h, "<h2>{}</h2>\n<pre>{}</pre>\n", html_escape(title), html_escape(t));
    }
    h.push_str("<h2>Pictures</h2>\n");
    for (name, title) in crate::plots::PICTURES {
        let svg = crate::plots::svg(name, s)?;
        let _ = writeln!(h, "<figure id=\"{name}\">{svg}<figcaption>{title}</figcaption></figure>");
    }
    for (title, t) in rest {
        let _ = write!(h, "<h2>{}</h2>\n<pre>{}</pre>\n", html_escape(title), html_escape(t));
    }
    h.push_str("</body></html>\n");
    Ok(h)
}
