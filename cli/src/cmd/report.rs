use clap::Args;
use nerve_report::summary::Summary;
use std::path::{Path, PathBuf};

use super::Result;

#[derive(Args)]
pub struct ReportArgs {
    /// A run summary written by `nerve run --report run.json`.
    #[arg(value_parser = super::IN)]
    run: PathBuf,
    /// Write a self-contained HTML report (tables and pictures, no network needed to view it).
    #[arg(long, value_parser = super::OUT)]
    html: Option<PathBuf>,
    /// Write the pictures as SVG and PNG into this directory.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// How many cores to list (busiest first).
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print nothing but errors and warnings (write --html and --plots only).
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    // Every output checked before any is written: the summary is not
    // replaced, and a bad --html leaves no pictures behind.
    let mut outputs: Vec<(&str, PathBuf)> = a.html.iter().map(|p| ("--html", p.clone())).collect();
    if let Some(dir) = &a.plots {
        if dir.as_os_str() == "-" {
            super::usage_error("report", "--plots -: the pictures go into a directory, not a stream; name one (./- for a directory called -)");
        }
        nerve_report::plots::check_dir(dir).map_err(|why| format!("--plots {}: {why}", dir.display()))?;
        if dir.is_dir() {
            outputs.extend(nerve_report::plots::files(dir).into_iter().map(|p| ("--plots", p)));
        }
        if let Some(html) = &a.html {
            html_apart_from_plots(html, dir)?;
        }
    }
    let outputs: Vec<(&str, &Path)> = outputs.iter().map(|(o, p)| (*o, p.as_path())).collect();
    super::check_outputs("report", false, &outputs, &[a.run.as_path()])?;
    let s = Summary::read(&a.run)?;
    if !a.quiet {
        for (title, t) in nerve_report::text::tables(&s, a.top) {
            crate::out::outln!("{title}\n{t}\n");
        }
    }
    // Every output staged before any is put in place: a page or a picture
    // that cannot be written leaves neither (README: all or none).
    let html = a.html.as_ref().map(|_| nerve_report::html::html(&s, a.top)).transpose()?;
    let page = match (&a.html, &html) {
        (Some(p), Some(html)) => Some(nerve_report::Staged::write(p, |stage| std::fs::write(stage, html.as_bytes()))?),
        _ => None,
    };
    let pictures = match &a.plots {
        Some(p) => nerve_report::plots::stage_all(p, &s)?,
        None => Vec::new(),
    };
    let n = pictures.len();
    for st in pictures {
        st.commit()?;
    }
    if let Some(page) = page {
        page.commit()?;
    }
    if !a.quiet {
        if let Some(p) = &a.plots {
            crate::out::errln!("wrote {n} pictures into {}", p.display());
        }
        if let Some(p) = &a.html {
            crate::out::errln!("wrote {}", p.display());
        }
    }
    Ok(())
}

/// Refuses an --html path that the --plots directory would take, by resolved
/// path and whether or not the directory exists yet (when it does not,
/// `check_outputs` cannot see its pictures): the directory itself, a
/// directory the pictures would go under, or one of the pictures. The
/// pictures are written first, so any of these failed only after them.
fn html_apart_from_plots(html: &Path, plots: &Path) -> Result<()> {
    let (h, d) = (resolved(html), resolved(plots));
    let clash = if h == d {
        Some("is the --plots directory".to_string())
    } else if d.starts_with(&h) {
        Some(format!("--plots {} would make it a directory", plots.display()))
    } else {
        nerve_report::plots::files(&d)
            .iter()
            .find(|f| **f == h)
            .map(|f| format!("--plots writes the picture {} there", f.file_name().unwrap_or_default().to_string_lossy()))
    };
    match clash {
        Some(why) => Err(format!("--html {}: {why}; give the page a path outside the pictures (e.g. report.html)", html.display()).into()),
        None => Ok(()),
    }
}

/// `p` made absolute, its longest existing part resolved (symbolic links,
/// `..`) and the rest, which does not exist yet, appended as written.
fn resolved(p: &Path) -> PathBuf {
    use std::path::Component;
    let abs = std::env::current_dir().map(|cwd| cwd.join(p)).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if !out.exists() => {
                out.pop();
            }
            c => {
                let next = out.join(c);
                out = next.canonicalize().unwrap_or(next);
            }
        }
    }
    out
}
