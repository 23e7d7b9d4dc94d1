pub mod arch;
pub mod asm;
pub mod compile;
pub mod disasm;
pub mod export;
pub mod inspect;
pub mod report;
pub mod run;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
