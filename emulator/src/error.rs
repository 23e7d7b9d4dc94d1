use thiserror::Error;

#[derive(Debug, Error)]
pub enum EmuError {
    #[error(transparent)]
    Image(#[from] nerve_isa::image::ImageError),
    #[error("routing: {0}")]
    Route(#[from] nerve_isa::route::RouteError),
    #[error("the image cannot be emulated: {0}")]
    Invalid(String),
    #[error("{file}: {location}: {reason}")]
    Input { file: String, location: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("--probe {spec}: {reason}")]
    Probe { spec: String, reason: String },
    #[error("JIT compilation of kernel `{kernel}` failed: {reason}")]
    Jit { kernel: String, reason: String },
    #[error("{0}")]
    Options(String),
}

pub type Result<T> = std::result::Result<T, EmuError>;
