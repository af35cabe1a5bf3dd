//! Command-line definitions. Every flag has an environment variable, so a
//! container or CI job can configure tidings without a wrapper script.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
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
        /// Publish what is due at this time (RFC 3339, e.g.
        /// 2024-06-01T09:00:00Z); later articles wait [default:
        /// SOURCE_DATE_EPOCH (Unix seconds) when set, else the clock].
        #[arg(long, env = "TIDINGS_NOW", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// Parse, classify, render and validate everything; print diagnostics
    /// and the articles scheduled for later.
    Check {
        /// Check what is published at this time (RFC 3339) [default:
        /// SOURCE_DATE_EPOCH (Unix seconds) when set, else the clock].
        #[arg(long, env = "TIDINGS_NOW", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// Write a starter config/tidings.toml and a sample article in seeds/
    /// under DIR (never overwriting a file); --config and --seeds do not
    /// apply.
    Init {
        /// The folder to set up.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// After deploying a build, tell the WebSub hubs (site.hub) which
    /// subscription feeds changed since the previous deployment, by the
    /// manifests of both builds (tidings-manifest.json). Exits 1 when a
    /// hub refuses a notification after retries.
    Ping {
        /// The output folder of the build that was deployed.
        #[arg(long, env = "TIDINGS_OUT", default_value = "public")]
        out: PathBuf,
        /// The manifest of the deployment before (kept from its build, or
        /// fetched from the deployed site before it was replaced).
        #[arg(long, env = "TIDINGS_PREVIOUS_MANIFEST")]
        previous: Option<PathBuf>,
        /// Without a previous manifest (no --previous, or no file there),
        /// notify every subscription feed instead of failing.
        #[arg(long, env = "TIDINGS_ALL_IF_NO_PREVIOUS")]
        all_if_no_previous: bool,
    },
    /// Print the readers of each feed of a running server, from its /metrics.
    Readers {
        /// The server [default: `http://` and `[http] listen` of the config].
        #[arg(long, env = "TIDINGS_READERS_URL")]
        url: Option<String>,
    },
}

/// The moment `build` and `check` publish at: `--now`, else
/// `SOURCE_DATE_EPOCH` (the reproducible-builds convention: whole seconds
/// since 1970-01-01 UTC; empty counts as unset), else the clock.
pub fn publishing_time(now: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, String> {
    if let Some(now) = now {
        return Ok(now);
    }
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if value.is_empty() => Ok(Utc::now()),
        Ok(value) => value
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .ok_or_else(|| {
                format!(
                    "SOURCE_DATE_EPOCH: `{value}` is not a time: give whole seconds since \
                     1970-01-01 UTC (such as 1717232400), or pass --now 2024-06-01T09:00:00Z"
                )
            }),
        Err(std::env::VarError::NotPresent) => Ok(Utc::now()),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err("SOURCE_DATE_EPOCH: not a time: give whole seconds since 1970-01-01 UTC".into())
        }
    }
}

fn parse_now(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.to_utc())
        .map_err(|error| {
            format!("not an RFC 3339 time ({error}): give one such as 2024-06-01T09:00:00Z")
        })
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
