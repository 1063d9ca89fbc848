//! Arguments shared by every subcommand that reads a filter.

use super::CliError;
use crate::bpf::{ByteOrder, Program};
use crate::sources::{self, Format, ReadOptions};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct FilterArgs {
    /// The filter: raw sock_filter bytes, hex, C array or bpf_asm decimal text.
    pub file: PathBuf,
    /// Input format (detected from the content by default).
    #[arg(long = "input-format", value_enum, default_value_t = Format::Auto)]
    pub input_format: Format,
    /// Byte order of raw sock_filter arrays (the loading machine's).
    #[arg(long, value_enum, default_value_t = Endian::Little)]
    pub endian: Endian,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Endian {
    Little,
    Big,
}

impl FilterArgs {
    pub fn display_name(&self) -> String {
        self.file.display().to_string()
    }

    /// Read and decode the filter; errors name the file.
    pub fn load(&self) -> Result<Program, CliError> {
        let opts = ReadOptions {
            format: self.input_format,
            byte_order: match self.endian {
                Endian::Little => ByteOrder::Little,
                Endian::Big => ByteOrder::Big,
            },
        };
        sources::read_file(&self.file, &opts)
            .map(|l| l.program)
            .map_err(|e| CliError::Input { file: self.display_name(), msg: e.to_string() })
    }
}
