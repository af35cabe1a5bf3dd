//! tidings publishes news articles as feeds.
//!
//! It reads seed articles (plain text or Markdown with TOML front matter)
//! from a folder, sorts them into the topics of `config/tidings.toml`, and
//! renders every topic as RSS 2.0, Atom 1.0 and JSON Feed 1.1, with HTML
//! pages and an OPML list. `tidings serve` answers HTTP requests from a
//! [`Catalog`](catalog::Catalog) of those documents held in memory;
//! `tidings build` streams the same bytes into files.
//!
//! ```text
//! seeds/ --ingest--> index --select--> SiteView --plan--> [Planned] --render--> Catalog --> http
//!                      ^                                      '--render, streamed--> files (build)
//!                      '-- reload: watch seeds/ and the config, swap the Catalog
//! ```
//!
//! The index keeps parsed, classified articles between builds and every
//! feed's ranking, so a reload re-reads and re-ranks only what changed, and
//! keeps whole only the articles some feed shows, so memory does not grow
//! with the archive. [`plan`] lists every document once for both outlets.
//! Entries are rendered once per format and spliced into every document
//! that lists them. `ARCHITECTURE.md` shows the modules floor by floor.

pub mod archive;
pub mod build;
pub mod catalog;
pub mod check;
pub mod config;
mod cores;
pub mod diagnostic;
pub mod error;
pub mod http;
pub mod index;
pub mod ingest;
pub mod init;
pub mod layout;
pub mod logging;
pub mod model;
pub mod ping;
pub mod plan;
pub mod publish;
pub mod reload;
pub mod render;
pub mod select;
pub mod serve;
pub mod shelf;
pub mod statics;
pub mod topics;
pub mod websub;
pub mod words;
pub mod write;
pub mod xml;
