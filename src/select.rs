//! Choosing every feed's entries, and the view renderers get of them.
//!
//! A feed lists its articles newest first (ties broken by id) and cuts at
//! `max_entries`; an article dated after the moment of publishing is
//! scheduled and in no feed yet. The [`SeedIndex`](crate::index::SeedIndex) keeps that
//! choice up to date file by file and hands out a [`Selection`]; [`select`]
//! makes the same choice by a plain pass over every article, which is how
//! the tests check the index. [`view`] turns a selection into the
//! [`SiteView`] that the plan and the renderers read.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, Utc};

use crate::archive::Paging;
use crate::config::{Config, ALL_SLUG};
use crate::model::{Article, ArticleHead};
use crate::render::{Category, Entry, FeedView, Place, SiteView};
use crate::topics::Matcher;

/// Which articles every feed shows, by position in an article list: `all`
/// first, then the configured topics in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub feeds: Vec<Chosen>,
    /// The newest `updated` of every published article (the date of an
    /// empty feed), or the Unix epoch when there is none.
    pub newest: DateTime<FixedOffset>,
}

/// The entries of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// Newest first (ties broken by id), at most `max_entries`.
    pub positions: Vec<usize>,
    /// Articles in the feed before the cut.
    pub total: usize,
}

/// Newest published first; ties broken by id so the order never depends on
/// the order files were read in.
pub fn newest_first(a: &ArticleHead, b: &ArticleHead) -> Ordering {
    b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id))
}

/// Chooses every feed's entries among all `heads` (`topics` are theirs,
/// as indexes into the configured topics) by one plain pass: the reference
/// the index's running selection is checked against. Articles published
/// after `now` are scheduled: in no feed, and not in `newest`.
///
/// Only the newest `max_entries` are sorted: selecting them is linear, so a
/// feed of an archive of 100,000 articles costs little more than one of 50.
pub fn select(
    config: &Config,
    heads: &[&ArticleHead],
    topics: &[&[usize]],
    now: DateTime<Utc>,
) -> Selection {
    let due = |position: usize| heads[position].published <= now;
    let newest = (0..heads.len())
        .filter(|&position| due(position))
        .map(|position| heads[position].updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
    let choose = |member: &dyn Fn(&[usize]) -> bool| {
        let mut positions: Vec<usize> = (0..heads.len())
            .filter(|&position| due(position) && member(topics[position]))
            .collect();
        let total = positions.len();
        let order = |a: &usize, b: &usize| newest_first(heads[*a], heads[*b]);
        let max = config.site.max_entries;
        if positions.len() > max {
            positions.select_nth_unstable_by(max - 1, order);
            positions.truncate(max);
        }
        positions.sort_by(order);
        Chosen { positions, total }
    };
    let mut feeds = vec![choose(&|_| true)];
    for index in 0..config.topics.len() {
        feeds.push(choose(&|topics| topics.contains(&index)));
    }
    Selection { feeds, newest }
}

/// The feeds of `selection`, ready to plan and render. For the article at a
/// position, `head` gives its dates, `article` what the entries hold (a
/// whole [`Article`] to render, or its head where only the documents' frames
/// are needed) and `topics` its topics. An entry whose article is `None`
/// (its file went away since it was ranked) is left out.
pub fn view<'a, 'h, A>(
    config: &'a Config,
    selection: &Selection,
    head: impl Fn(usize) -> &'h ArticleHead,
    article: impl Fn(usize) -> Option<&'a A>,
    topics: impl Fn(usize) -> Cow<'a, [usize]>,
) -> SiteView<'a, A> {
    let feeds = selection
        .feeds
        .iter()
        .enumerate()
        .map(|(index, chosen)| {
            let entries: Vec<Entry<'a, A>> = chosen
                .positions
                .iter()
                .filter_map(|&position| {
                    Some(Entry {
                        article: article(position)?,
                        position,
                        categories: categories(config, &topics(position)),
                    })
                })
                .collect();
            let updated = entries
                .iter()
                .map(|entry| head(entry.position).updated)
                .max()
                .unwrap_or(selection.newest);
            let place = Place::Current {
                pages: Paging::new(chosen.total, config.site.max_entries).pages(),
            };
            feed_view(config, index, entries, chosen.total, updated, place)
        })
        .collect();
    SiteView {
        site: &config.site,
        feeds,
    }
}

/// The view of feed `index` (`0` is `all`, then the configured topics)
/// holding `entries`: its titles and links, for any place in its history.
pub fn feed_view<'a, A>(
    config: &'a Config,
    index: usize,
    entries: Vec<Entry<'a, A>>,
    total: usize,
    updated: DateTime<FixedOffset>,
    place: Place,
) -> FeedView<'a, A> {
    let site = &config.site;
    let (slug, name, title, description) = match index.checked_sub(1) {
        None => (
            ALL_SLUG,
            site.title.clone(),
            site.title.clone(),
            if site.description.is_empty() {
                format!("Every article of {}", site.title)
            } else {
                site.description.clone()
            },
        ),
        Some(topic) => {
            let topic = &config.topics[topic];
            (
                topic.slug.as_str(),
                topic.title.clone(),
                format!("{} – {}", topic.title, site.title),
                if topic.description.is_empty() {
                    format!("{} articles from {}", topic.title, site.title)
                } else {
                    topic.description.clone()
                },
            )
        }
    };
    FeedView {
        site,
        slug,
        name,
        title,
        description,
        entries,
        total,
        updated,
        place,
    }
}

/// The configured topics at `indexes`, as entry categories.
pub fn categories<'a>(config: &'a Config, indexes: &[usize]) -> Vec<Category<'a>> {
    indexes
        .iter()
        .map(|&index| Category {
            slug: &config.topics[index].slug,
            title: &config.topics[index].title,
        })
        .collect()
}

/// The view of whole `articles`, classified and chosen by a plain pass: for
/// rendering a known set of articles without an index (render tests, the
/// micro-benchmarks). Every article given is shown, whatever its date.
pub fn site_view<'a>(config: &'a Config, articles: &'a [Article]) -> SiteView<'a> {
    let matcher = Matcher::new(&config.topics);
    let topics: Vec<Vec<usize>> = articles.iter().map(|a| matcher.classify(a)).collect();
    let heads: Vec<ArticleHead> = articles.iter().map(Article::head).collect();
    let selection = select(
        config,
        &heads.iter().collect::<Vec<_>>(),
        &topics.iter().map(Vec::as_slice).collect::<Vec<_>>(),
        DateTime::<Utc>::MAX_UTC,
    );
    view(
        config,
        &selection,
        |position| &heads[position],
        |position| articles.get(position),
        |position| Cow::Owned(topics[position].clone()),
    )
}
