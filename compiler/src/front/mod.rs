//! Networks in: the JSON format ([`json`], with connection lists in CSV
//! files, [`csv`]), NIR files ([`nir`]) and the Rust builder API
//! ([`builder`]); [`read`] chooses by the file's extension.

pub mod builder;
pub mod csv;
pub mod json;
pub mod nir;
pub mod resume;

use std::path::Path;

use crate::error::{CompileError, Result};
use crate::net::model::Network;
use nir::lower::NirOptions;

/// Reads a network file: NIR for `.nir` (with `nir`'s import options),
/// else the JSON format. NIR options other than the defaults are refused
/// for a JSON network, where they mean nothing.
pub fn read(path: &Path, nir: &NirOptions) -> Result<Network> {
    if path.extension().is_some_and(|e| e == "nir") {
        let g = nir::read::read_nir(path)?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "nir".into());
        Ok(nir::lower::to_network(&g, &name, &path.display().to_string(), nir)?.0)
    } else {
        if nir.dt_s.is_some() || nir.reset.is_some() || nir.source != nir::lower::SourceConvention::Generic {
            return Err(CompileError::Options(format!("{}: the timestep, reset and source options apply to NIR files", path.display())));
        }
        json::read_network(path)
    }
}
