//! tidings publishes news articles as feeds.
//!
//! It reads seed articles (plain text or Markdown with TOML front matter)
//! from a folder, sorts them into the topics of `config/tidings.toml`, and
//! renders every topic as RSS 2.0, Atom 1.0 and JSON Feed 1.1, with HTML
//! pages and an OPML list. The result is a [`Catalog`](catalog::Catalog) of
//! documents, which `tidings serve` answers HTTP requests from and
//! `tidings build` writes to disk.
//!
//! ```text
//! seeds/ --ingest+topics--> SeedIndex --publish: feed views, render--> Catalog
//!              ^                                                       |- http
//!              '-- reload (watch seeds/ and config, swap the Catalog) -+- write
//! ```
//!
//! The index keeps parsed, classified articles between builds, so a reload
//! re-reads only what changed, and keeps whole only the articles some feed
//! shows, so memory does not grow with the archive.

pub mod build;
pub mod catalog;
pub mod config;
pub mod diagnostic;
pub mod error;
pub mod http;
pub mod index;
pub mod ingest;
pub mod layout;
pub mod model;
pub mod publish;
pub mod reload;
pub mod render;
pub mod topics;
pub mod validate;
pub mod write;
pub mod xml;
