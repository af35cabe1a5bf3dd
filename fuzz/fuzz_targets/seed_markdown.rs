//! Markdown seeds (`*.md`: `+++` TOML front matter, a CommonMark body
//! rendered by pulldown-cmark, then sanitized) through
//! `tidings::ingest::SeedParser`: arbitrary bytes must never panic, and what publishes must keep the
//! article promises of `tidings::model` (no XML-illegal character in any
//! field, http(s) URLs, id rules, allow-listed HTML, an error diagnostic for
//! every rejected file; see `tidings_fuzz::parse_and_check`).
//!
//! Also metamorphic: line ends and a byte order mark are decoded away, so a
//! file without CR written with CRLF and a BOM must parse to the same
//! article and diagnostics.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tidings::config::Config;
use tidings::ingest::SeedParser;
use tidings_fuzz::{parse_and_check, seed_config};

static CONFIG: LazyLock<Config> = LazyLock::new(seed_config);
static PARSER: LazyLock<SeedParser<'static>> = LazyLock::new(|| SeedParser::new(&CONFIG));

fuzz_target!(|data: &[u8]| {
    let parsed = parse_and_check(&PARSER, "world/fuzz.md", data);
    if let Some(windows) = tidings_fuzz::crlf_with_bom(data) {
        let again = parse_and_check(&PARSER, "world/fuzz.md", &windows);
        assert_eq!(parsed, again, "CRLF and a BOM changed the result");
    }
});
