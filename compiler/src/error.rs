//! Every way compilation can fail, each naming the culprit and the limit.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CompileError {
    /// The network file is malformed: `path` is the JSON path (`$.populations[2].params.tau_m`).
    #[error("{file}: {path}: {reason}")]
    Format { file: String, path: String, reason: String },

    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },

    /// An output file (an exported NIR file) cannot be written.
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },

    /// A file the network or the options name (a NIR file, a connection
    /// list, a placement file) cannot be read: missing, a directory, not
    /// permitted. Apart from `Format` so that callers can tell a file they
    /// cannot open from one they opened and found wrong (Python raises
    /// OSError for this, ValueError for that).
    #[error("cannot read {what} {path}{}: {source}", referenced(.referenced_at))]
    ReadFile { what: &'static str, path: String, referenced_at: Option<String>, source: std::io::Error },

    /// The network is well formed but means something nerve cannot build.
    #[error("{0}")]
    Network(String),

    /// A population cannot be split to fit the cores.
    #[error("population `{population}` does not fit `{arch}`: {limit} — needs {required}, a core has {available}{hint}")]
    DoesNotFit { population: String, arch: String, limit: String, required: u64, available: u64, hint: String },

    /// The compile was stopped (`Options::stop`) before it ended.
    #[error("interrupted: the compile was stopped")]
    Interrupted,

    /// The machine has too few cores (or chips) for the partitioned network.
    /// `at_least`: "at least " when `required` counts the neurons alone (found before the synapses are built).
    #[error("the network needs {at_least}{required} cores but `{arch}` has {available}{hint}")]
    TooFewCores { arch: String, at_least: &'static str, required: u64, available: u64, hint: String },

    /// A projection cannot be expressed on the target.
    #[error("projection {projection}: {reason}")]
    Projection { projection: String, reason: String },

    /// A routing table does not fit even after compression and re-routing.
    #[error("routing table of {tile} needs {required} entries after compression, the router has {available}")]
    RoutingTableFull { tile: String, required: u64, available: u64 },

    /// Key space exhausted.
    #[error("routing keys exhausted: {0}")]
    Keys(String),

    #[error("placement file {file}: {reason}")]
    Placement { file: String, reason: String },

    /// A construct an export target cannot represent.
    #[error("cannot export to {target}: {culprit}: {problem}")]
    Export { target: String, culprit: String, problem: String },

    /// Options that contradict each other or do not apply.
    #[error("{0}")]
    Options(String),

    #[error(transparent)]
    Arch(#[from] nerve_isa::arch::ArchError),

    /// The compiler built something its own checks reject: a bug, reported instead of written.
    #[error("internal error (please report): {0}")]
    Internal(String),
}

impl CompileError {
    /// `TooFewCores` on `arch` for `required` cores; `alone`: counted from
    /// the neurons alone, before any synapse is built (a lower bound, said
    /// "at least"), `Some(true)` where a neurons-per-core option capped them.
    pub(crate) fn too_few_cores(arch: &nerve_isa::arch::Arch, required: u64, alone: Option<bool>) -> CompileError {
        let (at_least, counted, advice) = match alone {
            None => ("", "", ""),
            Some(capped) => (
                "at least ",
                ", counting its neurons alone, as many on a core as each population may have",
                if capped { ", or a higher cap of neurons per core" } else { "" },
            ),
        };
        CompileError::TooFewCores {
            arch: arch.name.clone(),
            at_least,
            required,
            available: arch.num_cores() as u64,
            hint: format!(" ({} tiles × {} cores){counted}; use a profile with more chips{advice}", arch.num_tiles(), arch.cores_per_tile()),
        }
    }
}

fn referenced(at: &Option<String>) -> String {
    at.as_ref().map(|a| format!(" (referenced at {a})")).unwrap_or_default()
}

pub type Result<T> = std::result::Result<T, CompileError>;

pub use nerve_isa::num;
