//! Networks in: the JSON format ([`json`], with connection lists in CSV
//! files, [`csv`]), NIR files ([`nir`]) and the Rust builder API
//! ([`builder`]); [`read`] chooses by the file's first bytes, else its extension; [`refs`] the
//! files a network file reads besides itself.

pub mod builder;
pub mod csv;
pub mod dom;
pub mod json;
pub mod nir;
pub mod refs;
pub mod resume;

use std::path::{Path, PathBuf};

use crate::error::{CompileError, Result};
use crate::net::model::Network;
use nir::conventions::{NirChoice, NirOptions};

/// What a file holds, as its first bytes tell ([`sniff`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// HDF5: a NIR network.
    Nir,
    /// Text opening with `{`: a JSON network.
    Json,
    /// A nerve chip image.
    Image,
    /// None of these (or nothing read yet).
    Unknown,
}

use nerve_isa::files::HDF5_SIGNATURE;

/// What a file whose first bytes are `head` holds.
pub fn sniff(head: &[u8]) -> Content {
    if head.starts_with(&HDF5_SIGNATURE) {
        Content::Nir
    } else if head.starts_with(&nerve_isa::image::MAGIC) {
        Content::Image
    } else if nerve_isa::files::opens_json(head) {
        Content::Json
    } else {
        Content::Unknown
    }
}

/// What a file holds, told before it is read: by its first bytes where they
/// tell, else by its extension (`.json`, `.nir` in any case). Where the name
/// and the bytes disagree the bytes win: a NIR file is HDF5 whatever it is
/// called (`model.h5`, `<(cat x.nir)`).
fn by_name(path: &Path) -> Content {
    match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()) {
        Some(e) if e == "nir" => Content::Nir,
        Some(e) if e == "json" => Content::Json,
        _ => Content::Unknown,
    }
}

/// A file named on a command line, its kind told before it is read
/// ([`InputFile::open`]). A pipe (`/dev/stdin`, `<(…)`) can be read only once:
/// its bytes are read whole to tell its kind, and kept for the reader.
pub struct InputFile {
    pub path: PathBuf,
    pub content: Content,
    /// A pipe's bytes (none for a file, read where it is needed).
    pub bytes: Option<Vec<u8>>,
}

impl InputFile {
    /// `path`, its kind told by its first bytes and else its name. A file
    /// that cannot be opened is told by its name: the reader says why it
    /// cannot be read. Fails only if a pipe cannot be read.
    pub fn open(path: &Path) -> std::io::Result<InputFile> {
        use std::io::Read as _;
        let named = || InputFile { path: path.to_path_buf(), content: by_name(path), bytes: None };
        let Ok(meta) = std::fs::metadata(path) else { return Ok(named()) };
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_fifo() || meta.file_type().is_socket() {
                let bytes = nerve_isa::files::read(path)?;
                let content = match sniff(&bytes) {
                    Content::Unknown => by_name(path),
                    c => c,
                };
                return Ok(InputFile { path: path.to_path_buf(), content, bytes: Some(bytes) });
            }
        }
        if !meta.is_file() {
            return Ok(named());
        }
        let mut head = Vec::new();
        // A JSON network may open with blank lines before its `{`.
        if std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head)).is_err() {
            return Ok(named());
        }
        Ok(match sniff(&head) {
            Content::Unknown => named(),
            content => InputFile { path: path.to_path_buf(), content, bytes: None },
        })
    }

    /// Whether it is read as a network (JSON or NIR) rather than an image.
    pub fn is_network(&self) -> bool {
        matches!(self.content, Content::Nir | Content::Json)
    }

    /// The files it references ([`refs`]), a pipe's from its bytes.
    pub fn referenced_files(&self) -> Vec<PathBuf> {
        match &self.bytes {
            Some(b) if self.content == Content::Json => match std::str::from_utf8(b) {
                Ok(t) => refs::referenced_in(t.trim_start_matches('\u{feff}'), &self.path.parent().map(Path::to_path_buf).unwrap_or_default()),
                Err(_) => Vec::new(),
            },
            Some(_) => Vec::new(),
            None => refs::referenced_files(&self.path),
        }
    }
}

/// Reads a network file: NIR for an HDF5 file or, failing its first bytes,
/// a name ending in `.nir` in any case (`.NIR` too, as [`refs`] reads it;
/// with `nir`'s import options), else the JSON format. NIR options other
/// than the defaults are refused for a JSON network, where they mean nothing.
pub fn read(path: &Path, nir: &NirOptions) -> Result<Network> {
    Ok(read_noting(path, nir)?.0)
}

/// [`read`], with what a NIR import chose for dt and reset (and its warnings).
pub fn read_noting(path: &Path, nir: &NirOptions) -> Result<(Network, Option<NirChoice>)> {
    read_input_noting(InputFile { path: path.to_path_buf(), content: Content::Unknown, bytes: None }, nir)
}

/// [`read_noting`] of an [`InputFile`]: its bytes read once (a pipe's already
/// are), and its kind decided on them.
pub fn read_input_noting(input: InputFile, nir: &NirOptions) -> Result<(Network, Option<NirChoice>)> {
    let path = input.path.as_path();
    let file = path.display().to_string();
    let bytes = match input.bytes {
        Some(b) => b,
        None => nerve_isa::files::read(path).map_err(|source| match by_name(path) {
            Content::Nir => CompileError::ReadFile { what: "NIR file", path: file.clone(), referenced_at: None, source },
            _ => CompileError::Io { path: file.clone(), source },
        })?,
    };
    let content = match sniff(&bytes) {
        Content::Unknown => by_name(path),
        c => c,
    };
    match content {
        Content::Nir => {
            let g = nir::read::read_nir_bytes(bytes, &file)?;
            let name = name_of_file(path).unwrap_or_else(|| "nir".into());
            let (net, choice) = nir::lower::to_network(&g, &name, &file, nir)?;
            Ok((net, Some(choice)))
        }
        Content::Image => Err(CompileError::Network(format!("{file}: a nerve chip image (from `nerve compile`), not a network: `nerve run` runs it as it is"))),
        Content::Json | Content::Unknown => {
            if nir.dt_s.is_some() || nir.reset.is_some() || nir.source != nir::conventions::SourceConvention::Auto {
                return Err(CompileError::Options(format!("{file}: the timestep, reset and source options apply to NIR files")));
            }
            let text = nerve_isa::files::text(bytes).map_err(|source| CompileError::Io { path: file.clone(), source })?;
            Ok((json::parse_network(&text, path)?, None))
        }
    }
}

/// A network's name from its file's stem, where it has one: none for a
/// file without a stem, and none for a pipe or a stream (`-`, `<(…)`),
/// whose name (`stdin`, `63`) says nothing of the network.
pub(crate) fn name_of_file(path: &Path) -> Option<String> {
    if nerve_isa::files::is_stream(path) {
        return None;
    }
    path.file_stem().map(|s| s.to_string_lossy().into_owned())
}
