//! Networks in: the JSON format ([`json`], with connection lists in CSV
//! files, [`csv`]), NIR files ([`nir`]) and the Rust builder API
//! ([`builder`]); [`read`] chooses by the file's extension; [`refs`] the
//! files a network file reads besides itself.

pub mod builder;
pub mod csv;
pub mod dom;
pub mod json;
pub mod nir;
pub mod refs;
pub mod resume;

use std::path::Path;

use crate::error::{CompileError, Result};
use crate::net::model::Network;
use nir::conventions::{NirChoice, NirOptions};

/// Reads a network file: NIR for `.nir` in any case (`.NIR` too, as
/// [`refs`] reads it; with `nir`'s import options),
/// else the JSON format. NIR options other than the defaults are refused
/// for a JSON network, where they mean nothing.
pub fn read(path: &Path, nir: &NirOptions) -> Result<Network> {
    Ok(read_noting(path, nir)?.0)
}

/// [`read`], with what a NIR import chose for dt and reset (and its warnings).
pub fn read_noting(path: &Path, nir: &NirOptions) -> Result<(Network, Option<NirChoice>)> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("nir")) {
        let g = nir::read::read_nir(path)?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "nir".into());
        let (net, choice) = nir::lower::to_network(&g, &name, &path.display().to_string(), nir)?;
        Ok((net, Some(choice)))
    } else {
        if nir.dt_s.is_some() || nir.reset.is_some() || nir.source != nir::conventions::SourceConvention::Auto {
            return Err(CompileError::Options(format!("{}: the timestep, reset and source options apply to NIR files", path.display())));
        }
        Ok((json::read_network(path)?, None))
    }
}
