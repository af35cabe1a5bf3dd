//! `tidings::config::Config::parse` on arbitrary text: never a panic; an
//! error names `tidings.toml` and a line inside the text; an accepted
//! config keeps what the rest of tidings relies on (an absolute http(s)
//! `base_url` ending in `/` without query or fragment, `max_entries` >= 1,
//! topic slugs `[a-z0-9-]+`, unique, never `all`, a `Cache-Control` value
//! that is a valid header). The accepted config then builds a sanitizer and
//! parses a small Markdown seed with relative links, so odd base URLs reach
//! the URL rewriting too.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tidings::config::{Config, ALL_SLUG};
use tidings::error::Error;
use tidings::ingest::SeedParser;
use tidings_fuzz::parse_and_check;

const SEED: &[u8] = b"+++\ntitle = \"T\"\ndate = 2024-05-24\nimage = \"img/lead.jpg\"\n+++\n\
[rel](a/b?c=1#d) ![img](../up.png) [abs](/root) <a href=\"//proto.rel/x\">p</a>\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match Config::parse(text, Path::new("config/tidings.toml")) {
        Ok(config) => config,
        Err(error) => {
            let Error::Config {
                path,
                line,
                message,
            } = &error
            else {
                panic!("parsing text gave a non-config error: {error}");
            };
            assert_eq!(path, Path::new("config/tidings.toml"));
            let lines = text.lines().count().max(1);
            assert!(
                (1..=lines + 1).contains(line),
                "error on line {line} of {lines}: {message}"
            );
            assert!(!message.is_empty());
            let _ = error.to_string();
            return;
        }
    };

    let base = &config.site.base_url;
    assert!(matches!(base.scheme(), "http" | "https"), "base_url {base}");
    assert!(base.host().is_some(), "base_url {base} has no host");
    assert!(
        base.path().ends_with('/'),
        "base_url {base} does not end in /"
    );
    assert!(
        base.query().is_none() && base.fragment().is_none(),
        "base_url {base}"
    );
    for hub in &config.site.hubs {
        assert!(matches!(hub.scheme(), "http" | "https"), "hub {hub}");
    }
    assert!(config.site.max_entries >= 1);
    for (i, topic) in config.topics.iter().enumerate() {
        assert_ne!(topic.slug, ALL_SLUG);
        assert!(
            !topic.slug.is_empty()
                && topic
                    .slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "slug {:?}",
            topic.slug
        );
        assert!(
            config.topics[..i].iter().all(|t| t.slug != topic.slug),
            "slug {:?} twice",
            topic.slug
        );
    }
    let cache_control = config.http.cache_control();
    assert!(
        http::HeaderValue::from_str(&cache_control).is_ok(),
        "Cache-Control {cache_control:?} is not a header value"
    );

    let parser = SeedParser::new(&config);
    let (article, _) = parse_and_check(&parser, "fuzz.md", SEED);
    assert!(
        article.is_some(),
        "the fixed seed did not publish under {base}"
    );
});
