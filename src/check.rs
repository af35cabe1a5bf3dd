//! `tidings check`: publish everything as the server would, then read our
//! own output back.
//!
//! Every XML document must be well-formed, RSS and Atom must parse with the
//! same crates that wrote them, and JSON Feed must be JSON with the 1.1
//! version string. A problem here is a bug in tidings, not in a seed, so it
//! is reported by document path.
//!
//! It also lists the articles that are scheduled (dated after the check's
//! `now`) with when they are due, so an editor can see that a future date
//! was meant; being scheduled is not a problem.

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::catalog::{Catalog, Compression};
use crate::config::Config;
use crate::error::Result;
use crate::index::SeedIndex;
use crate::ingest::{self, SeedParser};
use crate::layout::{self, Format};
use crate::publish;

/// What a check found.
#[derive(Debug)]
pub struct Checked {
    /// The catalog the server would serve (its diagnostics included).
    pub catalog: Catalog,
    /// Documents that do not read back, one line each.
    pub invalid: Vec<String>,
    /// Articles dated after the check's time, soonest first.
    pub scheduled: Vec<Scheduled>,
}

/// An article that is published later, when its date comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// The seed file, as diagnostics name it (`seeds/…`).
    pub path: String,
    /// `None` when the file changed or went away while it was checked.
    pub title: Option<String>,
    /// When it is published, in the site's time zone.
    pub due: DateTime<Tz>,
}

impl std::fmt::Display for Scheduled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: scheduled for {} ({})",
            self.path,
            self.due.format("%Y-%m-%d %H:%M:%S %:z"),
            self.due.timezone().name()
        )?;
        match &self.title {
            Some(title) => write!(f, ": {title}"),
            None => Ok(()),
        }
    }
}

impl Checked {
    /// Whether some seed was rejected or some document does not read back.
    pub fn failed(&self) -> bool {
        self.catalog.rejected().next().is_some() || !self.invalid.is_empty()
    }
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rejected = self.catalog.rejected().count();
        let warnings = self.catalog.diagnostics.len() - rejected;
        write!(
            f,
            "{} articles published, {rejected} file(s) rejected, {warnings} warning(s), {} document(s), {} invalid, {} scheduled",
            self.catalog.articles,
            self.catalog.len(),
            self.invalid.len(),
            self.scheduled.len()
        )
    }
}

/// Publishes `seeds_dir` the way `serve` does at `now` and reads every
/// document back.
pub fn check(config: &Config, seeds_dir: &Path, now: DateTime<Utc>) -> Result<Checked> {
    let mut index = SeedIndex::new(seeds_dir.to_path_buf()).as_of(now);
    index.rescan(config)?;
    // Compressed variants are the same bytes by construction; checking
    // reads the identity documents only.
    let catalog = publish::catalog(config, &mut index, 1, None, Compression::Off, now);
    let invalid = validate(&catalog);
    let scheduled = scheduled(config, &index);
    Ok(Checked {
        catalog,
        invalid,
        scheduled,
    })
}

/// The scheduled articles of `index`, soonest first, with their titles
/// (read again where the index holds only their heads).
fn scheduled(config: &Config, index: &SeedIndex) -> Vec<Scheduled> {
    let parser = SeedParser::new(config);
    index
        .scheduled()
        .map(|indexed| {
            let head = indexed.head();
            Scheduled {
                path: ingest::display_path(index.seeds_dir(), &head.source),
                title: index
                    .read_whole(config, &parser, indexed)
                    .map(|article| article.title.clone()),
                due: head.published.with_timezone(&config.site.timezone),
            }
        })
        .collect()
}

/// Problems found, one line each (`/feeds/x.atom: what is wrong`); empty
/// when every document reads back cleanly.
pub fn validate(catalog: &Catalog) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, document) in catalog.documents() {
        let body = &document.identity[..];
        let result = if document.content_type == Format::Rss.content_type() {
            well_formed(body).and_then(|()| {
                rss::Channel::read_from(body)
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
        } else if document.content_type == Format::Atom.content_type() {
            well_formed(body).and_then(|()| {
                atom_syndication::Feed::read_from(body)
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
        } else if document.content_type == Format::Json.content_type() {
            json_feed(body)
        } else if document.content_type == layout::OPML_CONTENT_TYPE {
            well_formed(body)
        } else {
            std::str::from_utf8(body)
                .map(drop)
                .map_err(|e| e.to_string())
        };
        if let Err(problem) = result {
            problems.push(format!("{path}: {problem}"));
        }
    }
    problems
}

fn well_formed(body: &[u8]) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(quick_xml::events::Event::Text(text)) => {
                text.decode().map_err(|e| e.to_string())?;
            }
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "not well-formed XML at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
        buf.clear();
    }
    if depth != 0 {
        return Err("not well-formed XML: unclosed element".into());
    }
    Ok(())
}

fn json_feed(body: &[u8]) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("version").and_then(|v| v.as_str()) {
        Some("https://jsonfeed.org/version/1.1") => Ok(()),
        other => Err(format!("JSON Feed version is {other:?}, not 1.1")),
    }
}
