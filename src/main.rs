//! The `tidings` binary: parse the command line, call the library, map the
//! outcome to an exit status (0 fine, 1 rejected seeds or invalid output,
//! 2 nothing could be published).

mod cli;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use tidings::catalog::Compression;
use tidings::config::Config;
use tidings::{build, publish, validate};

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::from_file(&cli.config)?;
    match cli.command {
        Command::Serve { listen } => {
            let listen = listen.unwrap_or_else(|| config.http.listen.clone());
            tidings::http::runtime()
                .context("cannot start the async runtime")?
                .block_on(tidings::http::run(config, cli.config, cli.seeds, listen))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Build {
            out,
            base_url,
            allow_rejected,
            compression,
        } => {
            if let Some(base_url) = base_url {
                config
                    .set_base_url(&base_url)
                    .map_err(|m| anyhow::anyhow!("--base-url: {m}"))?;
            }
            let started = std::time::Instant::now();
            let built = build::build(&config, &cli.seeds, &out, compression.into())?;
            for diagnostic in &built.diagnostics {
                eprintln!("{diagnostic}");
            }
            let rejected = built.rejected().count();
            eprintln!(
                "built {} articles into {} documents ({} files) in {}: {:.1?}",
                built.articles,
                built.documents,
                built.files,
                out.display(),
                started.elapsed()
            );
            if rejected > 0 && !allow_rejected {
                eprintln!(
                    "{rejected} seed file(s) rejected; fix them, or pass --allow-rejected to publish without them"
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => {
            // Compressed variants are the same bytes by construction; checking
            // reads the identity documents only.
            let catalog = publish::publish(&config, &cli.seeds, 1, Compression::Off)?;
            for diagnostic in &catalog.diagnostics {
                eprintln!("{diagnostic}");
            }
            let invalid = validate::validate(&catalog);
            for problem in &invalid {
                eprintln!("{problem}");
            }
            let rejected = catalog.rejected().count();
            let warnings = catalog.diagnostics.len() - rejected;
            eprintln!(
                "checked {}: {} articles published, {rejected} file(s) rejected, {warnings} warning(s), {} document(s), {} invalid",
                cli.seeds.display(),
                catalog.articles,
                catalog.len(),
                invalid.len()
            );
            Ok(if rejected > 0 || !invalid.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
