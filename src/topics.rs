//! Sorting articles into topics: pure functions of an article and the
//! configured topics.
//!
//! A keyword is a whole word or phrase, matched case-insensitively in the
//! title and in any body paragraph: `Ukraine` matches "Ukraine's" but not
//! "Ukrainian", `Black Sea` matches "the black sea" but not "Black Seas".
//! A front-matter tag equal to the slug also places an article in a topic.
//! Any `exclude` match keeps it out, tag or not.

use std::collections::HashMap;

use crate::config::Topic;
use crate::model::Article;

/// Lower-cased words of `text`: maximal runs of letters and digits. Every
/// other character (space, punctuation, apostrophes) separates words.
pub fn words(text: &str) -> Vec<String> {
    split_words(&text.to_lowercase())
        .map(str::to_owned)
        .collect()
}

/// The words of already lower-cased text, borrowed.
fn split_words(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// One keyword or exclude phrase, filed under its first word.
#[derive(Debug)]
struct Rule {
    topic: usize,
    /// The words after the first.
    rest: Vec<String>,
    exclude: bool,
}

/// The keyword rules of every topic, compiled once per config so that an
/// article is read once whatever the number of topics and keywords: each of
/// its words is looked up among the first words of all phrases.
#[derive(Debug)]
pub struct Matcher {
    rules: HashMap<String, Vec<Rule>>,
    slugs: Vec<String>,
}

impl Matcher {
    pub fn new(topics: &[Topic]) -> Self {
        let mut rules: HashMap<String, Vec<Rule>> = HashMap::new();
        for (topic, t) in topics.iter().enumerate() {
            let phrases = t.keywords.iter().map(|k| (k, false));
            for (phrase, exclude) in phrases.chain(t.exclude.iter().map(|k| (k, true))) {
                let mut words = words(phrase).into_iter();
                if let Some(first) = words.next() {
                    rules.entry(first).or_default().push(Rule {
                        topic,
                        rest: words.collect(),
                        exclude,
                    });
                }
            }
        }
        Self {
            rules,
            slugs: topics.iter().map(|t| t.slug.clone()).collect(),
        }
    }

    /// The indexes of the topics `article` belongs in, in config order.
    /// (Every article is also in the reserved `all` feed, not listed.)
    pub fn classify(&self, article: &Article) -> Vec<usize> {
        let mut chosen = vec![false; self.slugs.len()];
        let mut excluded = vec![false; self.slugs.len()];
        for tag in &article.tags {
            let tag = tag.to_lowercase();
            for (index, slug) in self.slugs.iter().enumerate() {
                chosen[index] |= *slug == tag;
            }
        }
        // Title and paragraphs separately, so a phrase never spans two.
        for text in std::iter::once(&article.title).chain(&article.paragraphs) {
            let lower = text.to_lowercase();
            let run: Vec<&str> = split_words(&lower).collect();
            for (at, word) in run.iter().enumerate() {
                let Some(rules) = self.rules.get(*word) else {
                    continue;
                };
                for rule in rules {
                    let following = &run[at + 1..];
                    let whole = following.len() >= rule.rest.len()
                        && rule.rest.iter().zip(following).all(|(a, b)| a == b);
                    if whole {
                        if rule.exclude {
                            excluded[rule.topic] = true;
                        } else {
                            chosen[rule.topic] = true;
                        }
                    }
                }
            }
        }
        (0..self.slugs.len())
            .filter(|&index| chosen[index] && !excluded[index])
            .collect()
    }
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
        Matcher::new(topics)
            .classify(article)
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
