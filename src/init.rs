//! `tidings init [DIR]`: a starter site that works at once.
//!
//! A new user's first command should publish something, not fail on a
//! missing file. `init` writes `DIR/config/tidings.toml` (commented, two
//! topics) and one Markdown article in `DIR/seeds/` that both topics pick
//! up, so `tidings serve` run from `DIR` shows feeds with an entry in them.
//! It never overwrites: if either file exists, nothing is written and the
//! error names the file, because a config someone has edited is worth more
//! than a starter one.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The starter config, relative to the folder given to `init`.
pub const CONFIG_PATH: &str = "config/tidings.toml";
/// The seeds folder, relative to the folder given to `init`.
pub const SEEDS_DIR: &str = "seeds";
const ARTICLE_NAME: &str = "2024-06-01-riverside-library.md";

const STARTER_CONFIG: &str = r#"# tidings configuration, written by `tidings init`.
# Every key is listed in tidings' README; an unknown key is an error.
# Edit and save: a running `tidings serve` picks the change up by itself.

[site]
title = "Riverside News"
description = "News from Riverside, as RSS, Atom and JSON Feed."
# Every link in every feed is built from this: set it to the address
# readers reach the site at (`tidings build --base-url` overrides it).
base_url = "http://127.0.0.1:8080/"
language = "en"
# Seed dates written without an offset are in this IANA time zone.
timezone = "UTC"
author = "Riverside newsroom"
# Entries per feed document.
max_entries = 50

[http]
# `tidings serve --listen ADDR` overrides it; use 0.0.0.0:8080 in a container.
listen = "127.0.0.1:8080"
# Cache-Control for feed readers and caches in front, in seconds.
max_age = 300
stale_while_revalidate = 60
stale_if_error = 86400

# Each topic gets /feeds/SLUG.rss, .atom and .json and a page at
# /topics/SLUG/. An article belongs to a topic when one of its keywords
# (whole words or phrases, any case) is in its title or in one paragraph,
# or when its front matter tags name the slug. The feed `all` has every
# article.

[[topic]]
slug = "city"
title = "City"
description = "The council, schools, libraries and streets of Riverside."
keywords = ["council", "mayor", "library", "school", "schools"]

[[topic]]
slug = "weather"
title = "Weather"
description = "Storms, floods and heat in and around Riverside."
keywords = ["weather", "storm", "storms", "flood", "floods", "heatwave"]
# Words that keep an article out even when a keyword matches.
exclude = ["forecast quiz"]
"#;

const STARTER_ARTICLE: &str = r#"+++
# A sample article written by `tidings init`. Add your own as *.md files like
# this one, or as plain *.txt seed text (title, blank line, date, blank
# line, paragraphs); delete this one when you have some.
title = "Riverside library reopens after flood repairs"
date = 2024-06-01T09:30:00+01:00
authors = ["Riverside newsroom"]
# A tag equal to a topic slug places the article in that topic.
tags = ["city"]
# url = "https://news.example.org/library-reopens"   # canonical link and id
+++

The Riverside library opened its doors again on Saturday, four months after
the spring **flood** filled its basement with water.

Volunteers moved 12,000 books to the upper floor before the river peaked;
the children's room and the archive are back where they were.
"#;

/// What `init` wrote.
#[derive(Debug)]
pub struct Created {
    pub config: PathBuf,
    pub seeds: PathBuf,
    pub article: PathBuf,
}

/// Writes the starter config and article under `dir` (created if needed).
/// Fails with [`Error::Exists`] before writing anything when either file is
/// already there.
pub fn init(dir: &Path) -> Result<Created> {
    let config = dir.join(CONFIG_PATH);
    let seeds = dir.join(SEEDS_DIR);
    let article = seeds.join(ARTICLE_NAME);
    for path in [&config, &article] {
        if path.exists() || path.is_symlink() {
            return Err(Error::Exists { path: path.clone() });
        }
    }
    write_new(&config, STARTER_CONFIG)?;
    write_new(&article, STARTER_ARTICLE)?;
    Ok(Created {
        config,
        seeds,
        article,
    })
}

/// Creates `path` and its parents; `create_new` so that a file appearing
/// between the check above and here is still never overwritten.
fn write_new(path: &Path, text: &str) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Exists {
                path: path.to_owned(),
            },
            _ => fail(source),
        })?;
    file.write_all(text.as_bytes()).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn starter_config_is_valid_and_has_two_topics() {
        let config = Config::parse(STARTER_CONFIG, Path::new(CONFIG_PATH)).unwrap();
        assert_eq!(config.topics.len(), 2);
    }

    #[test]
    fn refuses_to_overwrite_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let article = dir.path().join(SEEDS_DIR).join(ARTICLE_NAME);
        std::fs::create_dir_all(article.parent().unwrap()).unwrap();
        std::fs::write(&article, "mine").unwrap();
        let err = init(dir.path()).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if *path == article),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&article).unwrap(), "mine");
        assert!(!dir.path().join(CONFIG_PATH).exists());
    }
}
