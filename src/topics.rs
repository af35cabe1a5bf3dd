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
use crate::words::{lower, next_word, words};

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

/// The longest word length [`Matcher::lengths`] tells apart; longer words
/// share its bit.
const LONG: usize = 63;

/// The keyword rules of every topic, compiled once per config so that an
/// article is read once whatever the number of topics and keywords: each of
/// its words is looked up among the first words of all phrases.
///
/// Nearly every word of an article is no keyword's first word. An ASCII
/// word (its lower-case form is ASCII, and so must be the keyword it
/// equals) is only looked up when some first word has its first letter and
/// its length (`Matcher::lengths`); a word with other characters is
/// always looked up, since case folding can turn it into ASCII (the Kelvin
/// sign `K` is a `k`).
#[derive(Debug)]
pub struct Matcher {
    rules: HashMap<Word, Vec<Rule>>,
    /// By lower-case ASCII first byte: bit `n` is set when an ASCII first
    /// word of that letter has `n` bytes (`LONG` for `LONG` or more).
    lengths: [u64; 128],
    /// By lower-case ASCII first byte: a bit for the second byte of every
    /// ASCII first word of that letter ([`second_bit`]).
    seconds: [u64; 128],
    /// Whether any rule is an exclude: without one, matching can stop once
    /// every topic is chosen.
    excludes: bool,
    slugs: Vec<String>,
}

impl Matcher {
    pub fn new(topics: &[Topic]) -> Self {
        let mut rules: HashMap<Word, Vec<Rule>> = HashMap::new();
        let mut lengths = [0u64; 128];
        let mut seconds = [0u64; 128];
        let mut excludes = false;
        for (topic, t) in topics.iter().enumerate() {
            let phrases = t.keywords.iter().map(|k| (k, false));
            for (phrase, exclude) in phrases.chain(t.exclude.iter().map(|k| (k, true))) {
                let mut words = words(phrase).into_iter();
                if let Some(first) = words.next() {
                    if first.is_ascii() {
                        let letter = usize::from(first.as_bytes()[0]);
                        lengths[letter] |= 1 << first.len().min(LONG);
                        seconds[letter] |= second_bit(first.as_bytes());
                    }
                    excludes |= exclude;
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
            lengths,
            seconds,
            excludes,
            slugs: topics.iter().map(|t| t.slug.clone()).collect(),
        }
    }

    /// Whether an ASCII word can be some phrase's first word: one of
    /// them has its first letter, its length and its second letter.
    #[inline]
    fn may_start(&self, word: &[u8]) -> bool {
        let letter = usize::from(word[0].to_ascii_lowercase());
        self.lengths[letter] & (1 << word.len().min(LONG)) != 0
            && self.seconds[letter] & second_bit(word) != 0
    }

    /// The indexes of the topics `article` belongs in, in config order.
    /// (Every article is also in the reserved `all` feed, not listed.)
    pub fn classify(&self, article: &Article) -> Vec<usize> {
        let topics = self.slugs.len();
        let mut chosen = vec![false; topics];
        let mut excluded = vec![false; topics];
        let mut left = topics;
        for tag in &article.tags {
            let tag = tag.to_lowercase();
            for (index, slug) in self.slugs.iter().enumerate() {
                if *slug == tag && !chosen[index] {
                    chosen[index] = true;
                    left -= 1;
                }
            }
        }
        // Title and paragraphs separately, so a phrase never spans two.
        for text in std::iter::once(&article.title).chain(&article.paragraphs) {
            if left == 0 && !self.excludes {
                break;
            }
            let mut at = 0;
            while let Some(word) = next_word(text, at) {
                at = word.end;
                let written = &text[word.start..word.end];
                if word.ascii && !self.may_start(written.as_bytes()) {
                    continue;
                }
                let Some(rules) = self.rules.get(&Folded(written)) else {
                    continue;
                };
                for rule in rules {
                    if !follows(text, word.end, &rule.rest) {
                        continue;
                    }
                    if rule.exclude {
                        excluded[rule.topic] = true;
                    } else if !chosen[rule.topic] {
                        chosen[rule.topic] = true;
                        left -= 1;
                    }
                }
                if left == 0 && !self.excludes {
                    break;
                }
            }
        }
        (0..topics)
            .filter(|&index| chosen[index] && !excluded[index])
            .collect()
    }
}

/// The bit of [`Matcher::seconds`] for an ASCII word (letters and digits).
#[inline]
fn second_bit(word: &[u8]) -> u64 {
    match word.get(1).map(u8::to_ascii_lowercase) {
        Some(digit @ b'0'..=b'9') => 1 << (digit - b'0'),
        Some(letter @ b'a'..=b'z') => 1 << (letter - b'a' + 10),
        // Not in a word (the first word of a phrase is all letters and
        // digits): never set for a keyword.
        Some(_) => 1 << 62,
        None => 1 << 63,
    }
}

/// Whether the words of `text` from byte `at` on start with `rest` (lower
/// case).
fn follows(text: &str, mut at: usize, rest: &[String]) -> bool {
    rest.iter().all(|want| match next_word(text, at) {
        Some(word) => {
            at = word.end;
            lower(&text[word.start..word.end]).eq(want.chars())
        }
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::model::ArticleId;

    fn article(title: &str, body: &[&str], tags: &[&str]) -> Article {
        let when = DateTime::parse_from_rfc3339("2024-05-24T00:00:00Z").unwrap();
        Article {
            id: ArticleId::Urn("urn:uuid:0".into()),
            source: "a.txt".into(),
            slug: "a".into(),
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

    #[test]
    fn case_folding_to_ascii_still_matches() {
        // KELVIN SIGN lower-cases to an ASCII `k`.
        let topics = [
            topic("kyiv", &["Kyiv"], &[]),
            topic("k", &["\u{212A}harkiv"], &[]),
        ];
        assert_eq!(
            classify(&article("x", &["In \u{212A}YIV today"], &[]), &topics),
            ["kyiv"]
        );
        assert_eq!(
            classify(&article("x", &["In kharkiv today"], &[]), &topics),
            ["k"]
        );
    }

    #[test]
    fn words_split_at_typographic_punctuation_but_not_letters() {
        assert_eq!(
            words("Ukraine’s “war”—now\u{A0}Київ café ²x ⁱ"),
            ["ukraine", "s", "war", "now", "київ", "café", "²x", "ⁱ"]
        );
    }

    #[test]
    fn long_keywords_and_words() {
        let long = "a".repeat(70);
        let topics = [topic("long", &[&long], &[])];
        assert_eq!(
            classify(
                &article("x", &[&format!("b {} c", long.to_uppercase())], &[]),
                &topics
            ),
            ["long"]
        );
        assert!(classify(&article("x", &[&"a".repeat(71)], &[]), &topics).is_empty());
    }

    /// The matcher as first written: every word of every text lower-cased
    /// and compared with every phrase. The fast one must agree with it.
    fn reference(article: &Article, topics: &[Topic]) -> Vec<usize> {
        let mut chosen = vec![false; topics.len()];
        let mut excluded = vec![false; topics.len()];
        for (index, topic) in topics.iter().enumerate() {
            chosen[index] = article.tags.iter().any(|t| t.to_lowercase() == topic.slug);
        }
        for text in std::iter::once(&article.title).chain(&article.paragraphs) {
            let run: Vec<String> = reference_words(text);
            for (index, topic) in topics.iter().enumerate() {
                let phrases = topic.keywords.iter().map(|k| (k, false));
                for (phrase, exclude) in phrases.chain(topic.exclude.iter().map(|k| (k, true))) {
                    let want = reference_words(phrase);
                    if want.is_empty() || !run.windows(want.len()).any(|w| w == want) {
                        continue;
                    }
                    if exclude {
                        excluded[index] = true;
                    } else {
                        chosen[index] = true;
                    }
                }
            }
        }
        (0..topics.len())
            .filter(|&i| chosen[i] && !excluded[i])
            .collect()
    }

    fn reference_words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().flat_map(char::to_lowercase).collect())
            .collect()
    }

    /// Pieces of text: keywords in various cases, near misses, separators
    /// (ASCII and typographic), and non-ASCII letters that glue to words.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Ukraine".to_string()),
            Just("UKRAINE".to_string()),
            Just("ukrainian".to_string()),
            Just("Black".to_string()),
            Just("sea".to_string()),
            Just("Київ".to_string()),
            Just("КИЇВ".to_string()),
            Just("Straße".to_string()),
            Just("STRASSE".to_string()),
            Just("\u{212A}yiv".to_string()),
            Just("kyiv".to_string()),
            Just("fantasy".to_string()),
            Just("é".to_string()),
            Just("İ".to_string()),
            Just(" ".to_string()),
            Just("’".to_string()),
            Just("—".to_string()),
            Just("\u{A0}".to_string()),
            Just("-".to_string()),
            Just("2".to_string()),
            "[a-zA-Z]{1,3}",
            "\\PC{1,2}",
        ]
    }

    proptest! {
        #[test]
        fn fast_matcher_agrees_with_the_reference(
            title in proptest::collection::vec(piece(), 0..8),
            body in proptest::collection::vec(proptest::collection::vec(piece(), 0..20), 0..4),
            tags in proptest::collection::vec("sea|kyiv|SPORT|x", 0..2),
            keywords in proptest::collection::vec(
                proptest::collection::vec(
                    "Ukraine|ukrainian|Black Sea|black|Київ|Straße|strasse|Kyiv|\u{212A}yiv|İ|é|sea 2|[a-z]{1,2}|\\PC{1,2}",
                    1..4,
                ),
                1..4,
            ),
            exclude in proptest::collection::vec("fantasy|Black sea|é|[a-z]{1,2}", 0..2),
        ) {
            let slugs = ["sea", "kyiv", "sport"];
            let topics: Vec<Topic> = keywords
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let k: Vec<&str> = k
                        .iter()
                        .map(String::as_str)
                        .filter(|k| !words(k).is_empty())
                        .collect();
                    let x: Vec<&str> = if i == 0 {
                        exclude.iter().map(String::as_str).collect()
                    } else {
                        Vec::new()
                    };
                    topic(slugs[i % slugs.len()], &k, &x)
                })
                .collect();
            let body: Vec<String> = body.iter().map(|p| p.concat()).collect();
            let body: Vec<&str> = body.iter().map(String::as_str).collect();
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            let a = article(&title.concat(), &body, &tags);
            prop_assert_eq!(Matcher::new(&topics).classify(&a), reference(&a, &topics));
        }
    }
}
