//! What the end-to-end tests of `tidings serve` share: a temporary copy of
//! the repository's seeds and config, the built binary running on a free
//! port over it (killed when dropped), and a client that leaves bodies as
//! sent. Every wait is bounded.

// Each test file compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Start-up publishes the catalog (brotli at quality 11, in a debug build).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A copy of `seeds/` and `config/` that the server reads.
#[derive(Debug)]
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    pub fn new() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        for folder in ["seeds", "config"] {
            copy_dir(&root.join(folder), &dir.path().join(folder));
        }
        Self { dir }
    }

    pub fn seeds(&self) -> PathBuf {
        self.dir.path().join("seeds")
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config/tidings.toml")
    }

    pub fn command(&self, listen: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
        command
            .current_dir(self.dir.path())
            .args(["--config", "config/tidings.toml", "--seeds", "seeds"])
            .args(["serve", "--listen", listen])
            .env_remove("TIDINGS_CONFIG")
            .env_remove("TIDINGS_SEEDS")
            .env_remove("TIDINGS_LISTEN")
            .env_remove("TIDINGS_BASE_URL")
            .env("RUST_LOG", "info,tidings=debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A running `tidings serve`; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT`
    pub address: String,
    log: Arc<Mutex<Vec<String>>>,
    pub site: Site,
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(Site::new())
    }

    pub fn start_with(site: Site) -> Self {
        Self::start_calling(site, |_| {})
    }

    /// Starts the server and calls `on_listening` with its process id the
    /// moment it says it listens, before anything else.
    pub fn start_calling(site: Site, on_listening: impl FnOnce(u32)) -> Self {
        let mut child = site.command("127.0.0.1:0").spawn().unwrap();
        let (log, lines) = collect_stderr(&mut child);
        let address = listening_address(&mut child, &lines, &log);
        on_listening(child.id());
        Self {
            child,
            base: format!("http://{address}"),
            address,
            log,
            site,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// How many lines of the log so far contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(text))
            .count()
    }

    /// Sends a signal (`HUP`, `TERM`, …) and returns at once.
    pub fn send_signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// Sends a signal and waits (bounded) for the exit.
    pub fn signal(&mut self, signal: &str) -> ExitStatus {
        self.send_signal(signal);
        wait_bounded(&mut self.child, TIMEOUT)
            .unwrap_or_else(|| panic!("no exit after SIG{signal}"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the child's stderr on a thread: every line into the shared log and
/// down the channel.
/// The address a started server logs that it listens on (in text or JSON
/// logs), read off its log lines; the server is killed, and the test fails
/// with its log, when none comes in time.
pub fn listening_address(
    child: &mut Child,
    lines: &mpsc::Receiver<String>,
    log: &Mutex<Vec<String>>,
) -> String {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no `listening on` line in time; log:\n{}",
                log.lock().unwrap().join("\n")
            );
        };
        if let Some(rest) = line.split("listening on http://").nth(1) {
            return rest.split([' ', '"']).next().unwrap().to_string();
        }
    }
}

pub fn collect_stderr(child: &mut Child) -> (Arc<Mutex<Vec<String>>>, mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let shared = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            shared.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    (log, rx)
}

pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A client that leaves bodies as sent (no decompression, no
/// Accept-Encoding of its own).
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .unwrap()
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

pub fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}
