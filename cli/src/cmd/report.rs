use clap::Args;
use nerve_report::summary::Summary;
use std::path::{Path, PathBuf};

use super::Result;

#[derive(Args)]
pub struct ReportArgs {
    /// A run summary written by `nerve run --report run.json`.
    run: PathBuf,
    /// Write a self-contained HTML report (tables and pictures, no network needed to view it).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Write the pictures as SVG and PNG into this directory.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// How many cores to list (busiest first).
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print nothing but errors (write --html and --plots only).
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    // Every output checked before any is written: the summary is not
    // replaced, and a bad --html leaves no pictures behind.
    let mut outputs: Vec<(&str, PathBuf)> = a.html.iter().map(|p| ("--html", p.clone())).collect();
    if let Some(dir) = &a.plots {
        if dir.exists() && !dir.is_dir() {
            return Err(format!("--plots {}: is a file, not a directory (the pictures go into a directory)", dir.display()).into());
        }
        if dir.is_dir() {
            outputs.extend(nerve_report::plots::files(dir).into_iter().map(|p| ("--plots", p)));
        }
    }
    let outputs: Vec<(&str, &Path)> = outputs.iter().map(|(o, p)| (*o, p.as_path())).collect();
    nerve_report::check_outputs(&outputs, &[a.run.as_path()])?;
    let s = Summary::read(&a.run)?;
    if !a.quiet {
        for (title, t) in nerve_report::text::tables(&s, a.top) {
            crate::out::outln!("{title}\n{t}\n");
        }
    }
    // Made before anything is written: a page that cannot be made leaves no pictures.
    let html = a.html.as_ref().map(|_| nerve_report::html::html(&s, a.top)).transpose()?;
    if let Some(p) = &a.plots {
        let files = nerve_report::plots::write_all(p, &s)?;
        if !a.quiet {
            eprintln!("wrote {} pictures into {}", files.len(), p.display());
        }
    }
    if let (Some(p), Some(html)) = (&a.html, html) {
        nerve_report::write_file(p, html.as_bytes())?;
        if !a.quiet {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}
