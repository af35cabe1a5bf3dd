//! The `tidings` binary: parse the command line, call the library, map the
//! outcome to an exit status (0 fine, 1 rejected seeds or invalid output,
//! 2 nothing could be published).

mod cli;

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use tidings::config::Config;
use tidings::error::Error;
use tidings::{build, check, diagnostic, init, logging, ping, serve};

use cli::{Cli, Command, LogFormat};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = logging::init(match cli.log_format {
        LogFormat::Text => logging::Format::Text,
        LogFormat::Json => logging::Format::Json,
    });
    let outcome = run(cli);
    // Every log line is out before the error, if any.
    drop(log);
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", message(&err));
            if let Some(Error::ConfigMissing { path }) = err.downcast_ref() {
                let cwd = std::env::current_dir().unwrap_or_default();
                eprintln!(
                    "hint: looked for {} (--config, TIDINGS_CONFIG or the default config/tidings.toml). \
                     Pass --config FILE or set TIDINGS_CONFIG=FILE to use another, \
                     or run `tidings init` to create config/tidings.toml and seeds/ here",
                    cwd.join(path).display()
                );
            }
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each once: the library's messages already end
/// with the I/O error they wrap, which `{:#}` would print a second time.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain().map(ToString::to_string) {
        if !text.ends_with(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let failed = match cli.command {
        Command::Init { dir } => {
            let created = init::init(&dir)?;
            eprintln!(
                "wrote {} and {}\nserve them with: tidings --config {} --seeds {} serve",
                created.config.display(),
                created.article.display(),
                created.config.display(),
                created.seeds.display()
            );
            false
        }
        Command::Serve { listen, base_url } => {
            let config = Config::from_file(&cli.config)?;
            let listen = listen.unwrap_or_else(|| config.http.listen.clone());
            let base_url = base_url
                .map(|url| Config::parse_base_url(&url))
                .transpose()
                .map_err(|m| anyhow::anyhow!("--base-url: {m}"))?;
            serve::runtime()
                .context("cannot start the async runtime")?
                .block_on(serve::run(config, cli.config, cli.seeds, listen, base_url))?;
            false
        }
        Command::Build {
            out,
            base_url,
            allow_rejected,
            compression,
            now,
        } => {
            let now = cli::publishing_time(now).map_err(anyhow::Error::msg)?;
            let mut config = Config::from_file(&cli.config)?;
            if let Some(base_url) = base_url {
                config
                    .set_base_url(&base_url)
                    .map_err(|m| anyhow::anyhow!("--base-url: {m}"))?;
            }
            let started = std::time::Instant::now();
            let built = build::build(&config, &cli.seeds, &out, compression.into(), now)?;
            diagnostic::print(&built.diagnostics);
            eprintln!(
                "{built} into {} in {:.1?}",
                out.display(),
                started.elapsed()
            );
            let rejected = built.rejected().count();
            if rejected > 0 && !allow_rejected {
                eprintln!(
                    "{rejected} seed file(s) rejected; fix them, or pass --allow-rejected to publish without them"
                );
            }
            rejected > 0 && !allow_rejected
        }
        Command::Ping {
            out,
            previous,
            all_if_no_previous,
        } => {
            let pinged = ping::ping(
                &out,
                previous.as_deref(),
                all_if_no_previous,
                &Default::default(),
            )?;
            eprintln!("{pinged}");
            pinged.failed > 0
        }
        Command::Readers { url } => {
            let url = match url {
                Some(url) => url,
                None => format!("http://{}", Config::from_file(&cli.config)?.http.listen),
            };
            print!("{}", serve::readers(&url).map_err(anyhow::Error::msg)?);
            false
        }
        Command::Check { now } => {
            let now = cli::publishing_time(now).map_err(anyhow::Error::msg)?;
            let config = Config::from_file(&cli.config)?;
            let checked = check::check(&config, &cli.seeds, now)?;
            diagnostic::print(&checked.catalog.diagnostics);
            for scheduled in &checked.scheduled {
                eprintln!("{scheduled}");
            }
            for problem in &checked.invalid {
                eprintln!("{problem}");
            }
            eprintln!("checked {}: {checked}", cli.seeds.display());
            checked.failed()
        }
    };
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
