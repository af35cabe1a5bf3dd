//! Sorting articles into topics: pure functions of an article and the
//! configured topics.
//!
//! A keyword is a whole word or phrase, matched case-insensitively in the
//! title and in any body paragraph: `Ukraine` matches "Ukraine's" but not
//! "Ukrainian", `Black Sea` matches "the black sea" but not "Black Seas".
//! A front-matter tag equal to the slug also places an article in a topic.
//! Any `exclude` match keeps it out, tag or not.

use std::hash::{Hash, Hasher};

use hashbrown::{Equivalent, HashMap};

use crate::config::Topic;
use crate::model::Article;

/// Lower-cased words of `text`: maximal runs of letters and digits. Every
/// other character (space, punctuation, apostrophes) separates words.
pub fn words(text: &str) -> Vec<String> {
    split_words(text).map(|w| lower(w).collect()).collect()
}

/// The words of `text`, as written. ASCII bytes are classified by a byte
/// test, other characters by `char::is_alphanumeric`.
fn split_words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = word_boundary(rest, false)?;
        rest = &rest[start..];
        let end = word_boundary(rest, true).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        rest = after;
        Some(word)
    })
}

/// Byte offset of the first character of `text` that is (`inside` false)
/// or is not (`inside` true) part of a word.
fn word_boundary(text: &str, inside: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let (is_word, width) = if byte.is_ascii() {
            (byte.is_ascii_alphanumeric(), 1)
        } else {
            let c = text[at..].chars().next().expect("at is a char boundary");
            (c.is_alphanumeric(), c.len_utf8())
        };
        if is_word != inside {
            return Some(at);
        }
        at += width;
    }
    None
}

/// The characters of `word` in lower case, one by one, so that matching
/// never allocates a lower-cased copy of an article.
fn lower(word: &str) -> impl Iterator<Item = char> + '_ {
    word.chars().flat_map(char::to_lowercase)
}

/// The first word of a phrase, stored lower-cased; hashed and compared by
/// its characters, so that [`Folded`] finds it.
#[derive(Debug, PartialEq, Eq)]
struct Word(String);

impl Hash for Word {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_lower(&self.0, state);
    }
}

/// A word of an article, looked up as its lower-case form.
struct Folded<'a>(&'a str);

impl Hash for Folded<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_lower(self.0, state);
    }
}

impl Equivalent<Word> for Folded<'_> {
    fn equivalent(&self, key: &Word) -> bool {
        if self.0.is_ascii() {
            self.0.eq_ignore_ascii_case(&key.0)
        } else {
            lower(self.0).eq(key.0.chars())
        }
    }
}

/// Hashes the UTF-8 of `word` lower-cased, equal for a word and its stored
/// lower-case form. Short ASCII words, nearly all of them, are lower-cased
/// into a stack buffer; the rest into a `String`.
fn hash_lower<H: Hasher>(word: &str, state: &mut H) {
    let mut buffer = [0u8; 32];
    if word.is_ascii() && word.len() <= buffer.len() {
        let lowered = &mut buffer[..word.len()];
        for (to, from) in lowered.iter_mut().zip(word.bytes()) {
            *to = from.to_ascii_lowercase();
        }
        state.write(lowered);
    } else {
        state.write(lower(word).collect::<String>().as_bytes());
    }
    state.write_u8(0xff);
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
    rules: HashMap<Word, Vec<Rule>>,
    slugs: Vec<String>,
}

impl Matcher {
    pub fn new(topics: &[Topic]) -> Self {
        let mut rules: HashMap<Word, Vec<Rule>> = HashMap::new();
        for (topic, t) in topics.iter().enumerate() {
            let phrases = t.keywords.iter().map(|k| (k, false));
            for (phrase, exclude) in phrases.chain(t.exclude.iter().map(|k| (k, true))) {
                let mut words = words(phrase).into_iter();
                if let Some(first) = words.next() {
                    rules.entry(Word(first)).or_default().push(Rule {
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
        let mut run: Vec<&str> = Vec::new();
        for text in std::iter::once(&article.title).chain(&article.paragraphs) {
            run.clear();
            run.extend(split_words(text));
            for (at, word) in run.iter().enumerate() {
                let Some(rules) = self.rules.get(&Folded(word)) else {
                    continue;
                };
                for rule in rules {
                    let following = &run[at + 1..];
                    let whole = following.len() >= rule.rest.len()
                        && rule
                            .rest
                            .iter()
                            .zip(following)
                            .all(|(want, word)| lower(word).eq(want.chars()));
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
    fn non_ascii_keywords_match_in_any_case() {
        let topics = [topic("kyiv", &["Київ", "Straße"], &[])];
        assert_eq!(
            classify(&article("x", &["У КИЇВІ та КИЇВ."], &[]), &topics),
            ["kyiv"]
        );
        assert_eq!(
            classify(&article("STRASSE? no: STRAßE", &["y"], &[]), &topics),
            ["kyiv"]
        );
        assert!(classify(&article("x", &["Київщина"], &[]), &topics).is_empty());
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
