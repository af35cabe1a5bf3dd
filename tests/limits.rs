//! The limits of `tidings serve` against misbehaving clients, end to end:
//! the built binary on a real socket, spoken to over raw TCP (a client
//! library would neither dawdle nor leave out `Host`). Timeouts are set
//! small in the config so that every test stays within a few seconds;
//! every wait is bounded and every child is killed.

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{collect_stderr, listening_address, raw_client, Site, TIMEOUT};

/// How long a limit may take to act, well past the limits set here.
const ACTS_WITHIN: Duration = Duration::from_secs(5);

/// A `tidings serve` started for these tests; killed when dropped.
struct Running {
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
    site: Site,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.address).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream
    }
}

/// How to start the server.
#[derive(Default)]
struct Options<'a> {
    /// Lines added to `[http]`.
    http: &'a str,
    /// Pass the seeds folder as an absolute path.
    absolute_seeds: bool,
    /// Start under `ulimit -n` of this many open files (soft and hard).
    open_files: Option<u32>,
}

fn start(site: Site, options: Options<'_>) -> Running {
    let config = site.config_file();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("[http]\n"), "{text}");
    let text = text.replacen("[http]\n", &format!("[http]\n{}\n", options.http), 1);
    std::fs::write(&config, text).unwrap();

    let binary = Path::new(env!("CARGO_BIN_EXE_tidings"));
    let seeds = if options.absolute_seeds {
        site.seeds().canonicalize().unwrap()
    } else {
        "seeds".into()
    };
    let mut command = match options.open_files {
        // `exec` keeps the process id, so killing the child kills the server.
        Some(limit) => {
            let mut command = Command::new("sh");
            command
                .arg("-c")
                .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                .arg(binary);
            command
        }
        None => Command::new(binary),
    };
    command
        .current_dir(site.dir.path())
        .args(["--config", "config/tidings.toml", "--seeds"])
        .arg(&seeds)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("TIDINGS_CONFIG")
        .env_remove("TIDINGS_SEEDS")
        .env_remove("TIDINGS_LISTEN")
        .env("RUST_LOG", "info,tidings=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let (log, lines) = collect_stderr(&mut child);
    let address = listening_address(&mut child, &lines, &log);
    Running {
        child,
        address,
        log,
        site,
    }
}

/// One response read off `stream`: status, head, body (by
/// `Content-Length`).
fn read_response(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert!(
            n > 0,
            "closed mid-head: {:?}",
            String::from_utf8_lossy(&data)
        );
        data.push(byte[0]);
    }
    let head = String::from_utf8(data).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, head, body)
}

/// Whether the server closed `stream` (without waiting: the stream must be
/// in non-blocking mode or have a short read timeout).
fn is_closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("unexpected bytes"),
        Err(error) => !matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

/// Waits, at most [`ACTS_WITHIN`], for the server to close `stream`.
fn closed_within_bound(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let deadline = Instant::now() + ACTS_WITHIN;
    while Instant::now() < deadline {
        if is_closed(stream) {
            return true;
        }
    }
    false
}

#[test]
fn a_head_sent_byte_by_byte_is_cut_off_after_the_header_timeout() {
    let server = start(
        Site::new(),
        Options {
            http: "header_timeout_secs = 1",
            ..Options::default()
        },
    );
    let mut stream = server.connect();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let request = format!(
        "GET /feeds/all.atom HTTP/1.1\r\nHost: {}\r\n{}",
        server.address,
        "X-Slow: a\r\n".repeat(100)
    );
    let started = Instant::now();
    let mut closed = false;
    for byte in request.as_bytes() {
        if stream.write_all(&[*byte]).is_err() || is_closed(&mut stream) {
            closed = true;
            break;
        }
        if started.elapsed() > ACTS_WITHIN {
            break;
        }
    }
    let took = started.elapsed();
    assert!(closed, "still open after {took:?}\n{}", server.log());
    // Not cut before its time either.
    assert!(took >= Duration::from_millis(800), "{took:?}");
    assert!(server.log().contains("header timeout"), "{}", server.log());
}

#[test]
fn an_idle_keepalive_connection_is_closed_after_the_idle_timeout() {
    // The idle timeout is longer than the header timeout: the wait between
    // requests is timed by the first alone.
    let server = start(
        Site::new(),
        Options {
            http: "header_timeout_secs = 1\nkeepalive_timeout_secs = 2",
            ..Options::default()
        },
    );
    let mut stream = server.connect();
    let request = format!(
        "GET /feeds.opml HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.address
    );
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).0, 200);
    std::thread::sleep(Duration::from_millis(1_500));
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(
        read_response(&mut stream).0,
        200,
        "kept alive past the header timeout"
    );
    let idle = Instant::now();
    assert!(
        closed_within_bound(&mut stream),
        "still open {:?} after the last response\n{}",
        idle.elapsed(),
        server.log()
    );
    assert!(idle.elapsed() >= Duration::from_millis(1_500));
    assert!(
        server.log().contains("keep-alive timeout"),
        "{}",
        server.log()
    );
}

#[test]
fn oversized_headers_get_431() {
    let server = start(Site::new(), Options::default());
    for (size, expected) in [(12_000, 200), (20_000, 431)] {
        let mut stream = server.connect();
        let request = format!(
            "GET /feeds/all.atom HTTP/1.1\r\nHost: {}\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
            server.address,
            "a".repeat(size)
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        // The server may close before reading all that was sent; what it
        // answered first is what counts.
        let _ = stream.read_to_end(&mut response);
        let text = String::from_utf8_lossy(&response);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {expected} ")),
            "{size} bytes of header: {text:?}"
        );
    }
}

#[test]
fn a_missing_or_repeated_host_is_400() {
    let server = start(Site::new(), Options::default());
    let host = format!("Host: {}\r\n", server.address);
    for (version, hosts, expected) in [
        ("HTTP/1.1", String::new(), 400),
        ("HTTP/1.1", host.repeat(2), 400),
        ("HTTP/1.1", format!("{host}host: other\r\n"), 400),
        ("HTTP/1.0", host.repeat(2), 400),
        // HTTP/1.0 predates Host.
        ("HTTP/1.0", String::new(), 200),
        ("HTTP/1.1", host.clone(), 200),
    ] {
        let mut stream = server.connect();
        let request = format!("GET /feeds/all.atom {version}\r\n{hosts}\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let (status, head, body) = read_response(&mut stream);
        assert_eq!(status, expected, "{request:?}: {head}");
        if expected == 400 {
            let head = head.to_ascii_lowercase();
            assert!(head.contains("cache-control: no-store"), "{head}");
            assert!(head.contains("connection: close"), "{head}");
            assert!(!body.is_empty() && body.len() < 100, "{body:?}");
            let mut rest = Vec::new();
            assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0, "closed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_is_answered_while_2000_connections_are_held() {
    // The test holds 2000 sockets itself.
    rlimit::increase_nofile_limit(4_096).unwrap();
    let server = start(
        Site::new(),
        Options {
            open_files: Some(1024),
            ..Options::default()
        },
    );
    let address = server.address.parse().unwrap();
    let mut held = Vec::with_capacity(2_000);
    for i in 0..2_000 {
        let mut stream = TcpStream::connect_timeout(&address, ACTS_WITHIN)
            .unwrap_or_else(|error| panic!("connection {i}: {error}\n{}", server.log()));
        // Half dawdle over a head, half say nothing at all.
        if i % 2 == 0 {
            stream
                .write_all(b"GET /feeds/all.atom HTTP/1.1\r\nX-")
                .unwrap();
        }
        held.push(stream);
    }
    let client = raw_client();
    for _ in 0..5 {
        let response = tokio::time::timeout(
            ACTS_WITHIN,
            client
                .get(format!("http://{}/feeds/all.atom", server.address))
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer in {ACTS_WITHIN:?}\n{}", server.log()))
        .unwrap();
        assert_eq!(response.status(), 200);
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let log = server.log();
    assert!(!log.contains("accept failed"), "{log}");
    assert!(log.contains("closed to make room"), "{log}");
    drop(held);
}

#[tokio::test]
async fn healthz_stays_small_with_many_rejected_files() {
    let site = Site::new();
    for i in 0..2_000 {
        std::fs::write(
            site.seeds().join(format!("broken-{i:04}.txt")),
            "A title\n\nsecret-token-in-the-file\n",
        )
        .unwrap();
    }
    let server = start(
        site,
        Options {
            absolute_seeds: true,
            ..Options::default()
        },
    );
    let response = raw_client()
        .get(format!("http://{}/healthz", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "{:?}",
        response.headers()
    );
    let body = response.bytes().await.unwrap();
    assert!(body.len() < 4_096, "{} bytes", body.len());
    let text = std::str::from_utf8(&body).unwrap();
    let root = server.site.dir.path().canonicalize().unwrap();
    assert!(!text.contains(root.to_str().unwrap()), "{text}");
    assert!(!text.contains("secret-token"), "{text}");
    let json: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(json["rejected"], 2_000, "{json}");
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 10, "{json}");
    for problem in problems {
        assert!(
            problem["path"]
                .as_str()
                .unwrap()
                .starts_with("seeds/broken-"),
            "{problem}"
        );
        assert_eq!(problem["line"], 3, "{problem}");
    }
    // The log keeps every file, with what is wrong in it.
    let log = server.log();
    assert!(log.contains("broken-1999.txt:3:"), "{log}");
    assert!(log.contains("secret-token"), "{log}");
}
