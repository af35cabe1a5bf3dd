//! Where log lines go: standard error, written by a thread of their own so
//! that a slow reader of the log never holds up a request.
//!
//! Every event but the access log goes through `tracing-subscriber`'s own
//! formatter, text or JSON, and reaches standard error at once. The access
//! log is one line per request, so its cost is paid per request: through
//! that formatter and a channel per line, it took about 40% of `serve`'s
//! throughput for a `304` (BENCHMARKS.md, "Access log and metrics"). Its lines are
//! therefore written here, in the same shapes: `AccessLayer` formats the
//! few fields of `tidings::access` events straight into bytes, and the
//! writer thread gathers them for up to `GATHER` or `BATCH` bytes, so
//! under load one write carries hundreds of lines and the thread wakes once
//! per batch, not once per line.
//!
//! Memory is bounded whatever the reader of standard error does: past
//! `LIMIT` bytes waiting, lines are dropped and then counted in a line of
//! their own.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// The target of the access log's events.
pub const ACCESS_TARGET: &str = "tidings::access";

/// Bytes waiting that wake the writer at once.
const BATCH: usize = 64 * 1024;
/// How long access log lines may wait for more to join them.
const GATHER: Duration = Duration::from_millis(100);
/// Bytes waiting past which lines are dropped.
const LIMIT: usize = 4 * 1024 * 1024;

/// The shape of every line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `tracing-subscriber`'s text: `time LEVEL target: key=value …`.
    Text,
    /// One JSON object a line, as `tracing-subscriber` writes it.
    Json,
}

/// Installs the log as the global subscriber, filtered by `RUST_LOG`
/// (default `info`). Dropping the guard writes what is still waiting.
pub fn init(format: Format) -> LogGuard {
    let sink = Arc::new(Sink::default());
    let writer = {
        let sink = Arc::clone(&sink);
        std::thread::Builder::new()
            .name("log".into())
            .spawn(move || sink.write_out(&mut std::io::stderr()))
            .expect("spawning the log's thread")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let others = tracing_subscriber::fmt::layer()
        .with_writer(SinkWriter(Arc::clone(&sink)))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let others = match format {
        Format::Text => others.boxed(),
        Format::Json => others.json().boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(others.with_filter(filter_fn(|meta| meta.target() != ACCESS_TARGET)))
        .with(
            AccessLayer {
                sink: Arc::clone(&sink),
                format,
            }
            .with_filter(filter_fn(|meta| meta.target() == ACCESS_TARGET)),
        )
        .init();
    LogGuard {
        sink,
        writer: Some(writer),
    }
}

/// Keeps the log's thread; dropping it writes every waiting line.
#[derive(Debug)]
pub struct LogGuard {
    sink: Arc<Sink>,
    writer: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.sink.lock().closing = true;
        self.sink.ready.notify_one();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Lines waiting for the writer thread.
#[derive(Debug, Default)]
struct Sink {
    waiting: Mutex<Waiting>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct Waiting {
    bytes: Vec<u8>,
    /// Lines dropped since the last write.
    dropped: u64,
    /// A line that must not wait is among `bytes`.
    urgent: bool,
    closing: bool,
}

impl Sink {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues one line; `urgent` ones wake the writer at once, others when
    /// they are the first to wait or fill a batch.
    fn push(&self, line: &[u8], urgent: bool) {
        let mut waiting = self.lock();
        if waiting.bytes.len() + line.len() > LIMIT {
            waiting.dropped += 1;
            return;
        }
        let first = waiting.bytes.is_empty();
        waiting.bytes.extend_from_slice(line);
        waiting.urgent |= urgent;
        if first || urgent || waiting.bytes.len() >= BATCH {
            self.ready.notify_one();
        }
    }

    /// The writer thread: waits for lines, lets access log lines gather,
    /// and writes them to `out` until closing with nothing left.
    fn write_out(&self, out: &mut impl std::io::Write) {
        let mut spare = Vec::with_capacity(BATCH);
        loop {
            let (dropped, closing) = {
                let mut waiting = self.lock();
                while waiting.bytes.is_empty() && !waiting.closing {
                    waiting = self
                        .ready
                        .wait(waiting)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
                if !waiting.urgent && !waiting.closing && waiting.bytes.len() < BATCH {
                    waiting = self
                        .ready
                        .wait_timeout_while(waiting, GATHER, |waiting| {
                            !waiting.urgent && !waiting.closing && waiting.bytes.len() < BATCH
                        })
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
                spare.clear();
                std::mem::swap(&mut spare, &mut waiting.bytes);
                waiting.urgent = false;
                (std::mem::take(&mut waiting.dropped), waiting.closing)
            };
            // A log that cannot be written has nowhere to say so.
            let _ = out.write_all(&spare);
            let _ = out.flush();
            if dropped > 0 {
                // Queued like any line, and written on the next turn.
                tracing::warn!(
                    target: "tidings::log",
                    dropped,
                    "log lines dropped: standard error was not read fast enough"
                );
            }
            if closing && self.lock().bytes.is_empty() {
                return;
            }
        }
    }
}

/// `tracing-subscriber`'s formatter writes each event with one `write_all`
/// of the whole line, which goes out at once.
#[derive(Debug)]
struct SinkWriter(Arc<Sink>);

#[derive(Debug)]
struct Line<'a>(&'a Sink);

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line(&self.0)
    }
}

impl std::io::Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push(buf, true);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `tidings::access` events in the shape `tracing-subscriber` gives
/// every other event, without its general machinery.
struct AccessLayer {
    sink: Arc<Sink>,
    format: Format,
}

impl std::fmt::Debug for AccessLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLayer")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// The line being made, and the timestamp's whole second with the
    /// second it is for: most lines share it with the one before.
    static LINE: RefCell<(String, i64, String)> = RefCell::new((String::with_capacity(512), i64::MIN, String::new()));
}

impl<S: Subscriber> Layer<S> for AccessLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        LINE.with(|cell| {
            let Ok(mut cell) = cell.try_borrow_mut() else {
                return;
            };
            let (line, cached_second, second_text) = &mut *cell;
            line.clear();
            let now = Utc::now();
            if now.timestamp() != *cached_second {
                *cached_second = now.timestamp();
                *second_text = now.format("%Y-%m-%dT%H:%M:%S").to_string();
            }
            let micros = now.timestamp_subsec_micros().min(999_999);
            let mut digits = itoa::Buffer::new();
            let micros = digits.format(1_000_000 + micros);
            let timestamp = [second_text.as_str(), ".", &micros[1..], "Z"];
            match self.format {
                Format::Text => {
                    timestamp.iter().for_each(|part| line.push_str(part));
                    line.push_str("  INFO ");
                    line.push_str(ACCESS_TARGET);
                    line.push(':');
                    event.record(&mut TextFields(line));
                    line.push('\n');
                }
                Format::Json => {
                    line.push_str("{\"timestamp\":\"");
                    timestamp.iter().for_each(|part| line.push_str(part));
                    line.push_str("\",\"level\":\"INFO\",\"fields\":{");
                    let mut fields = JsonFields { line, first: true };
                    event.record(&mut fields);
                    line.push_str("},\"target\":\"");
                    line.push_str(ACCESS_TARGET);
                    line.push_str("\"}\n");
                }
            }
            self.sink.push(line.as_bytes(), false);
        });
    }
}

/// ` key=value` pairs as `tracing-subscriber` writes them: strings quoted
/// and escaped (`Debug`), everything else as it displays. Numbers, and
/// strings with nothing to escape (nearly all), skip `core::fmt`: it was
/// most of a line's cost.
struct TextFields<'a>(&'a mut String);

impl TextFields<'_> {
    fn key(&mut self, field: &Field) {
        self.0.push(' ');
        self.0.push_str(field.name());
        self.0.push('=');
    }
}

/// Whether `value` reads the same quoted as escaped, in text and JSON.
fn needs_no_escape(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

impl Visit for TextFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        if needs_no_escape(value) {
            self.0.push('"');
            self.0.push_str(value);
            self.0.push('"');
        } else {
            let _ = write!(self.0, "{value:?}");
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        self.0.push_str(itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.0.push_str(if value { "true" } else { "false" });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.key(field);
        let _ = write!(self.0, "{value:?}");
    }
}

/// `"key":value` members: numbers and booleans as JSON's, everything else
/// as a JSON string (escaped by `serde_json`).
struct JsonFields<'a> {
    line: &'a mut String,
    first: bool,
}

impl JsonFields<'_> {
    fn key(&mut self, field: &Field) {
        if !self.first {
            self.line.push(',');
        }
        self.first = false;
        self.line.push('"');
        self.line.push_str(field.name());
        self.line.push_str("\":");
    }

    fn string(&mut self, field: &Field, value: &str) {
        self.key(field);
        if needs_no_escape(value) {
            self.line.push('"');
            self.line.push_str(value);
            self.line.push('"');
        } else if let Ok(quoted) = serde_json::to_string(value) {
            // Serialising a str into a String cannot fail.
            self.line.push_str(&quoted);
        }
    }
}

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.string(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        self.line.push_str(itoa::Buffer::new().format(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.line.push_str(if value { "true" } else { "false" });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.string(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the writer thread over `sink` into a shared buffer.
    fn writer(sink: &Arc<Sink>) -> (JoinHandle<()>, Arc<Mutex<Vec<u8>>>) {
        let out = Captured::default();
        let written = Arc::clone(&out.0);
        let sink = Arc::clone(sink);
        let handle = std::thread::spawn(move || sink.write_out(&mut out.clone()));
        (handle, written)
    }

    fn close(sink: &Sink, handle: JoinHandle<()>) {
        sink.lock().closing = true;
        sink.ready.notify_one();
        handle.join().unwrap();
    }

    #[test]
    fn lines_come_out_in_order_and_all_of_them_at_close() {
        let sink = Arc::new(Sink::default());
        let (handle, written) = writer(&sink);
        sink.push(b"a\n", false);
        sink.push(b"b\n", true);
        for _ in 0..1000 {
            sink.push(b"c\n", false);
        }
        close(&sink, handle);
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        assert!(text.starts_with("a\nb\nc\n"), "{text:.20}");
        assert_eq!(text.matches("c\n").count(), 1000);
    }

    #[test]
    fn an_urgent_line_does_not_wait_for_the_batch() {
        let sink = Arc::new(Sink::default());
        let (handle, written) = writer(&sink);
        sink.push(b"started\n", true);
        let deadline = std::time::Instant::now() + GATHER / 2;
        while written.lock().unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the urgent line waited"
            );
            std::thread::yield_now();
        }
        close(&sink, handle);
    }

    /// A writer into a shared buffer, for the writer thread and for
    /// `tracing-subscriber`'s formatter.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line `tracing-subscriber` writes for one access event, and ours.
    fn both_lines(format: Format, user_agent: &str) -> (String, String) {
        let theirs = Captured::default();
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(theirs.clone())
            .with_ansi(false);
        let fmt = match format {
            Format::Text => fmt.boxed(),
            Format::Json => fmt.json().boxed(),
        };
        let sink = Arc::new(Sink::default());
        let subscriber = tracing_subscriber::registry().with(fmt).with(AccessLayer {
            sink: Arc::clone(&sink),
            format,
        });
        tracing::subscriber::with_default(subscriber, || {
            let peer: std::net::IpAddr = "2001:db8::7".parse().unwrap();
            tracing::info!(
                target: ACCESS_TARGET,
                client = tracing::field::display(peer),
                forwarded = None::<tracing::field::DisplayValue<std::net::IpAddr>>,
                method = %axum::http::Method::GET,
                path = "/feeds/all.atom",
                status = 304_u16,
                bytes = 0_u64,
                duration_us = 17_u64,
                encoding = "gzip",
                not_modified = true,
                user_agent,
            );
        });
        let theirs = String::from_utf8(theirs.0.lock().unwrap().clone()).unwrap();
        let ours = String::from_utf8(sink.lock().bytes.clone()).unwrap();
        (theirs, ours)
    }

    #[test]
    fn access_lines_have_the_shape_of_every_other_line() {
        for user_agent in [
            "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)",
            "odd \"agent\" \\ \u{7f} é",
        ] {
            let (theirs, ours) = both_lines(Format::Text, user_agent);
            // The same after the timestamp, which is the same length.
            assert_eq!(theirs.len(), ours.len(), "{theirs}{ours}");
            assert_eq!(theirs[27..], ours[27..]);
            assert!(ours.ends_with('\n') && ours.matches('\n').count() == 1);

            let (theirs, ours) = both_lines(Format::Json, user_agent);
            let mut theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
            let mut ours: serde_json::Value = serde_json::from_str(&ours).unwrap();
            for event in [&mut theirs, &mut ours] {
                let stamp = event["timestamp"].as_str().unwrap();
                assert!(
                    chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
                    "{stamp}"
                );
                event["timestamp"] = serde_json::Value::Null;
            }
            assert_eq!(theirs, ours);
        }
    }

    #[test]
    fn past_the_limit_lines_are_dropped_and_counted() {
        let sink = Sink::default();
        let line = vec![b'x'; 1023];
        for _ in 0..(LIMIT / line.len() + 10) {
            sink.push(&line, false);
        }
        let waiting = sink.lock();
        assert!(waiting.bytes.len() <= LIMIT);
        assert_eq!(waiting.dropped, 10);
    }
}
