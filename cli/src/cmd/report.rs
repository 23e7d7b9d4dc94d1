use clap::Args;
use nerve_report::summary::Summary;
use std::path::PathBuf;

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
    let s = Summary::read(&a.run)?;
    if !a.quiet {
        for (title, t) in nerve_report::text::tables(&s, a.top) {
            crate::out::outln!("{title}\n{t}\n");
        }
    }
    if let Some(p) = &a.plots {
        let files = nerve_report::plots::write_all(p, &s)?;
        if !a.quiet {
            eprintln!("wrote {} pictures into {}", files.len(), p.display());
        }
    }
    if let Some(p) = &a.html {
        nerve_report::write_file(p, nerve_report::html::html(&s, a.top)?.as_bytes())?;
        if !a.quiet {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}
