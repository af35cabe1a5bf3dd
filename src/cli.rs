//! Command-line definitions. Every flag has an environment variable, so a
//! container or CI job can configure tidings without a wrapper script.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "tidings", version, about, propagate_version = true)]
pub struct Cli {
    /// The config file.
    #[arg(
        long,
        global = true,
        env = "TIDINGS_CONFIG",
        default_value = "config/tidings.toml"
    )]
    pub config: PathBuf,

    /// The folder of seed articles (*.txt and *.md, searched recursively).
    #[arg(long, global = true, env = "TIDINGS_SEEDS", default_value = "seeds")]
    pub seeds: PathBuf,

    /// How log lines are written to stderr: `text`, or `json` (one object
    /// a line, for log collectors).
    #[arg(
        long,
        global = true,
        env = "TIDINGS_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve every document over HTTP, reloading when seeds or config change.
    Serve {
        /// Address to listen on [default: `[http] listen` of the config].
        #[arg(long, env = "TIDINGS_LISTEN")]
        listen: Option<String>,
        /// Replace `site.base_url` of the config (the URL every link is
        /// built from) [default: `http://` and the listen address, when
        /// the config leaves `site.base_url` at its default].
        #[arg(long, env = "TIDINGS_BASE_URL")]
        base_url: Option<String>,
    },
    /// Write every document, with .gz and .br siblings and a _headers file.
    Build {
        /// Output folder.
        #[arg(long, env = "TIDINGS_OUT", default_value = "public")]
        out: PathBuf,
        /// Replace `site.base_url` of the config (where the files will be served).
        #[arg(long, env = "TIDINGS_BASE_URL")]
        base_url: Option<String>,
        /// Exit 0 even when some seed files were rejected.
        #[arg(long, env = "TIDINGS_ALLOW_REJECTED")]
        allow_rejected: bool,
        /// Write .gz and .br siblings (`off` for hosts that compress by
        /// themselves).
        #[arg(long, env = "TIDINGS_COMPRESSION", default_value = "on")]
        compression: CompressionArg,
    },
    /// Parse, classify, render and validate everything; print diagnostics.
    Check,
    /// Write a starter config/tidings.toml and a sample article in seeds/
    /// under DIR (never overwriting a file); --config and --seeds do not
    /// apply.
    Init {
        /// The folder to set up.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print the readers of each feed of a running server, from its /metrics.
    Readers {
        /// The server [default: `http://` and `[http] listen` of the config].
        #[arg(long, env = "TIDINGS_READERS_URL")]
        url: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    On,
    Off,
}

impl From<CompressionArg> for tidings::catalog::Compression {
    fn from(arg: CompressionArg) -> Self {
        match arg {
            CompressionArg::On => Self::On,
            CompressionArg::Off => Self::Off,
        }
    }
}
