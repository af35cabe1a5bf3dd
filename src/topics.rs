//! Sorting articles into topics: pure functions of an article and the
//! configured topics.
//!
//! A keyword is a whole word or phrase, matched case-insensitively in the
//! title and in any body paragraph: `Ukraine` matches "Ukraine's" but not
//! "Ukrainian", `Black Sea` matches "the black sea" but not "Black Seas".
//! A front-matter tag equal to the slug also places an article in a topic.
//! Any `exclude` match keeps it out, tag or not.

use std::collections::HashSet;

use crate::config::Topic;
use crate::model::Article;

/// Lower-cased words of `text`: maximal runs of letters and digits. Every
/// other character (space, punctuation, apostrophes) separates words.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The words of an article, prepared once for matching against every topic.
#[derive(Debug)]
pub struct ArticleWords {
    /// Title and paragraphs separately, so a phrase never spans two of them.
    runs: Vec<Vec<String>>,
    /// Every word, for single-word keywords.
    all: HashSet<String>,
    tags: Vec<String>,
}

impl ArticleWords {
    pub fn new(article: &Article) -> Self {
        let runs: Vec<Vec<String>> = std::iter::once(article.title.as_str())
            .chain(article.paragraphs.iter().map(String::as_str))
            .map(words)
            .collect();
        let all = runs.iter().flatten().cloned().collect();
        let tags = article.tags.iter().map(|t| t.to_lowercase()).collect();
        Self { runs, all, tags }
    }

    /// Whether the whole phrase occurs in the title or in one paragraph.
    pub fn contains(&self, phrase: &str) -> bool {
        let wanted = words(phrase);
        match wanted.as_slice() {
            [] => false,
            [word] => self.all.contains(word),
            _ => self
                .runs
                .iter()
                .any(|run| run.windows(wanted.len()).any(|w| w == wanted.as_slice())),
        }
    }

    /// Whether the article belongs in `topic`.
    pub fn belongs_in(&self, topic: &Topic) -> bool {
        let chosen =
            self.tags.contains(&topic.slug) || topic.keywords.iter().any(|k| self.contains(k));
        chosen && !topic.exclude.iter().any(|k| self.contains(k))
    }
}

/// The indexes in `topics` of the configured topics `article` belongs in,
/// in config order. (Every article is also in the reserved `all` feed, which
/// is not listed.)
pub fn classify(article: &Article, topics: &[Topic]) -> Vec<usize> {
    let words = ArticleWords::new(article);
    topics
        .iter()
        .enumerate()
        .filter(|(_, t)| words.belongs_in(t))
        .map(|(index, _)| index)
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::model::ArticleId;

    fn article(title: &str, body: &[&str], tags: &[&str]) -> Article {
        let when = DateTime::parse_from_rfc3339("2024-05-24T00:00:00Z").unwrap();
        Article {
            id: ArticleId::Urn("urn:uuid:0".into()),
            source: "a.txt".into(),
            title: title.into(),
            url: None,
            published: when,
            updated: when,
            caption: None,
            paragraphs: body.iter().map(|s| s.to_string()).collect(),
            related: vec![],
            content_html: String::new(),
            summary: String::new(),
            authors: vec![],
            tags: tags.iter().map(|s| s.to_string()).collect(),
            image: None,
        }
    }

    /// The slugs `classify` picks, for readable assertions.
    fn classify<'t>(article: &Article, topics: &'t [Topic]) -> Vec<&'t str> {
        super::classify(article, topics)
            .into_iter()
            .map(|index| topics[index].slug.as_str())
            .collect()
    }

    fn topic(slug: &str, keywords: &[&str], exclude: &[&str]) -> Topic {
        Topic {
            slug: slug.into(),
            title: slug.into(),
            description: String::new(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let topics = [topic("ukraine", &["ukraine"], &[])];
        let a = article("News", &["Russia’s war on UKRAINE’s east."], &[]);
        assert_eq!(classify(&a, &topics), ["ukraine"]);
        let b = article("Ukrainian civilians", &["Evacuated."], &[]);
        assert!(classify(&b, &topics).is_empty());
    }

    #[test]
    fn phrases_match_as_a_sequence_within_one_paragraph() {
        let topics = [topic("sea", &["Black Sea"], &[])];
        assert_eq!(
            classify(&article("x", &["On the black  sea coast"], &[]), &topics),
            ["sea"]
        );
        assert!(classify(&article("x", &["sea black"], &[]), &topics).is_empty());
        assert!(classify(&article("x", &["It was black.", "Sea."], &[]), &topics).is_empty());
        assert!(classify(&article("x", &["Black Seas"], &[]), &topics).is_empty());
    }

    #[test]
    fn title_counts_as_well_as_body() {
        let topics = [topic("russia", &["Putin"], &[])];
        assert_eq!(
            classify(&article("Putin speaks", &["Nothing."], &[]), &topics),
            ["russia"]
        );
    }

    #[test]
    fn tags_place_and_excludes_remove() {
        let topics = [topic("sport", &["football"], &["fantasy football"])];
        assert_eq!(
            classify(&article("x", &["y"], &["Sport"]), &topics),
            ["sport"]
        );
        assert!(classify(&article("Fantasy football tips", &["y"], &[]), &topics).is_empty());
        assert!(classify(&article("fantasy football", &["y"], &["sport"]), &topics).is_empty());
    }
}
