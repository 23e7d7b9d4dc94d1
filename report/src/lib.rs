//! nerve-report: everything after the image, as a library (the CLI parses
//! arguments and prints; this crate does the work, so its tests test what
//! the CLI runs, and the Python package can call it too).
//!
//! - [`session`]: running an image as a user asks: external spikes from
//!   files, which populations to record, probes by name, the engine and
//!   the cost-model switches.
//! - [`summary`]: the run summary (`nerve run --report`): counts, timing,
//!   energy with its breakdowns by kind, population, core, chip and link,
//!   per-step series, a raster sample.
//! - [`text`], [`html`], [`plots`], [`format`]: the reports for people:
//!   tables, a self-contained HTML page, pictures (SVG, PNG).
//! - [`spikes`], [`probes`], [`weights`]: spike, probe and learned-weight
//!   files in and out; [`stream`]: spikes and probes written as the run goes,
//!   for runs beyond the memory budget.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod format;
pub mod html;
pub mod plots;
pub mod probes;
pub mod session;
pub mod spikes;
pub mod stream;
pub mod summary;
pub mod text;
pub mod weights;

use std::path::{Path, PathBuf};

use thiserror::Error;

/// What can go wrong after the image: files, their contents, the run.
#[derive(Debug, Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// A spike or probe file's contents (the message names file and line).
    #[error("{0}")]
    File(String),
    #[error("{}: not a run summary from `nerve run --report`: {source}", path.display())]
    Summary { path: PathBuf, source: serde_json::Error },
    /// A field missing or of the wrong type, where it is (`cores[2].busy_ns`).
    #[error("{}: not a run summary from `nerve run --report`: at `{at}`: {source}", path.display())]
    SummaryField { path: PathBuf, at: String, source: serde_json::Error },
    /// A run summary holding a value no run writes (an edited file): the field, the value and the limit.
    #[error("{}: run summary field `{field}` = {value}: {reason}", path.display())]
    SummaryValue { path: PathBuf, field: String, value: String, reason: String },
    #[error("pictures: {0}")]
    Plot(String),
    /// A request the image cannot satisfy (a probe of a variable it lacks,
    /// a population it does not have).
    #[error("{0}")]
    Request(String),
    /// A run kept in memory whose recordings cannot fit there (the message
    /// names them, the bytes and what is available).
    #[error("{0}")]
    Memory(String),
    #[error(transparent)]
    Emu(#[from] nerve_emulator::EmuError),
    #[error(transparent)]
    Image(#[from] nerve_isa::image::ImageError),
    #[error(transparent)]
    Compile(#[from] nerve_compiler::error::CompileError),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Writes a whole file, naming it in the error: through a temporary file
/// renamed into place when complete, so that a failed write leaves no partial
/// file (and the old one, if any, untouched); a device or FIFO (`/dev/null`,
/// `/dev/stdout`) is written into, not replaced (`nerve_isa::files`).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |tmp| std::fs::write(tmp, bytes))
}

/// [`write_file`] with the writing done by `write` into the path it is given.
pub fn write_with(path: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) -> Result<()> {
    nerve_isa::files::write_whole(path, write).map_err(|e| Error::Write { path: path.to_path_buf(), source: e })
}

/// An output written now and put in place later ([`Staged::commit`]), once
/// the work it precedes is known to go ahead (`nerve run NET.json
/// --save-image F` writes F before the run's checks, which need the compiled
/// machine): until then it is a hidden file beside its target, removed if
/// the `Staged` is dropped uncommitted, so a failing command leaves neither
/// the output nor a changed old one. A device or FIFO target is written into
/// at once (nothing is left behind in it).
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    stage: Option<PathBuf>,
    /// The stage, listed for a signal's cleanup until committed or dropped.
    _unfinished: Option<nerve_isa::files::Unfinished>,
}

impl Staged {
    /// Writes `path`'s contents, through `write`, into its stage; an error names `path`.
    pub fn write(path: &Path, write: impl FnOnce(&Path) -> std::io::Result<()>) -> Result<Staged> {
        let failed = |e| Error::Write { path: path.to_path_buf(), source: e };
        if nerve_isa::files::is_special(path) {
            write(path).map_err(failed)?;
            return Ok(Staged { target: path.to_path_buf(), stage: None, _unfinished: None });
        }
        // A symbolic link stays a link: its file is replaced.
        let target = if path.is_file() { path.canonicalize().unwrap_or_else(|_| path.to_path_buf()) } else { path.to_path_buf() };
        let name = target.file_name().ok_or_else(|| failed(std::io::ErrorKind::InvalidInput.into()))?;
        // The process's id in the name, as `write_whole`'s temporary file has it.
        let stage = target.with_file_name(format!(".{}.{}.nerve-stage", name.to_string_lossy(), std::process::id()));
        let staged = Staged { target, stage: Some(stage.clone()), _unfinished: Some(nerve_isa::files::Unfinished::new(&stage)) };
        // Dropped (the stage removed) if the write fails.
        nerve_isa::files::write_whole(&stage, write).map_err(failed)?;
        Ok(staged)
    }

    /// Puts the output in place.
    pub fn commit(mut self) -> Result<()> {
        match self.stage.take() {
            Some(stage) => std::fs::rename(&stage, &self.target).map_err(|e| {
                let _ = std::fs::remove_file(&stage);
                Error::Write { path: self.target.clone(), source: e }
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(stage) = self.stage.take() {
            let _ = std::fs::remove_file(stage);
        }
    }
}

/// Whether `path`'s extension is `ext` in any case: `S.NPY` is a NumPy file
/// as `s.npy` is. Every file format chosen by extension asks here.
pub fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Checks, before any work, that the outputs can be written: each a file
/// path (not a directory) in an existing directory that takes a new file,
/// none of them one of `inputs`, and no two the same. `outputs`: (option,
/// path). The check leaves nothing behind.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[&Path]) -> std::result::Result<(), String> {
    // A path's identity: its directory resolved, and its file name.
    let id = |p: &Path| -> Option<PathBuf> {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    let ins: Vec<PathBuf> = inputs.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut seen: Vec<(PathBuf, &str)> = Vec::new();
    for &(opt, p) in outputs {
        let shown = p.display();
        if p.file_name().is_none() || p.is_dir() {
            return Err(format!("{opt} {shown}: is a directory, not a file path"));
        }
        if nerve_isa::files::is_special(p) {
            // A device or FIFO is written into (`write_file`): nothing is
            // created beside it, and two outputs may share it (`/dev/null`).
            if ins.iter().any(|i| Some(i) == p.canonicalize().ok().as_ref()) {
                return Err(format!("{opt} {shown}: is an input of this command; writing it would overwrite it"));
            }
            continue;
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(format!("{opt} {shown}: the directory {} does not exist", dir.display()));
        }
        let probe = dir.join(format!(".{}.nerve-check", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{opt} {shown}: cannot write in {}: {e}", dir.display())),
        }
        // By its name, and (when it exists) by the file it is: a symbolic
        // link to an input is written through, into the input. A link to a
        // file not yet there is written through too, creating it: named by
        // where it points (`--probe-out link.csv` to `rec.csv` of `--record
        // rec.csv` replaced the recording with exit 0).
        let mut mine: Vec<PathBuf> = id(p).into_iter().chain(p.canonicalize().ok()).collect();
        let mut at = p.to_path_buf();
        for _ in 0..40 {
            let Ok(to) = std::fs::read_link(&at) else { break };
            at = at.parent().unwrap_or(Path::new(".")).join(to);
            mine.extend(id(&at));
        }
        if mine.iter().any(|me| ins.contains(me)) {
            return Err(format!("{opt} {shown}: is an input of this command; writing it would overwrite it"));
        }
        if let Some((_, other)) = seen.iter().find(|(q, _)| mine.contains(q)) {
            return Err(format!("{opt} {shown}: {other} writes the same file"));
        }
        seen.extend(mine.into_iter().map(|me| (me, opt)));
    }
    Ok(())
}
