//! Writes a deterministic corpus of seed articles for benchmarks and load
//! tests: `cargo run --release --example gen-corpus -- N DIR`.
//!
//! Articles are in the seed text format (title, date, optional caption,
//! 4 to 12 paragraphs, a related link, the `Original url:` footer), dated over
//! 2020-2025, with typographic punctuation, inline links and placeholders,
//! and the words of the shipped topics in roughly a quarter of the articles
//! each. The same N always gives the same files.

use std::fmt::Write as _;
use std::path::Path;

/// SplitMix64: tiny, and its output is fixed forever, unlike the `rand`
/// crate's standard generator whose stream may change between versions; the
/// corpus must stay the same so benchmark figures stay comparable.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SUBJECTS: &[&str] = &[
    "The city council",
    "Officials",
    "A group of researchers",
    "The ministry",
    "Local residents",
    "The central bank",
    "Analysts",
    "The committee",
    "Regional authorities",
    "Farmers",
    "The health agency",
    "Engineers",
    "Teachers’ unions",
    "The port operator",
    "Economists",
];
const VERBS: &[&str] = &[
    "announced",
    "rejected",
    "welcomed",
    "criticized",
    "postponed",
    "approved",
    "questioned",
    "reviewed",
    "defended",
    "proposed",
    "outlined",
    "delayed",
];
const OBJECTS: &[&str] = &[
    "a new budget for public transport",
    "plans to expand the grain corridor",
    "the reform of the pension system",
    "a deal on energy prices",
    "the long-awaited report",
    "new rules for data protection",
    "an agreement on fishing quotas",
    "the election timetable",
    "emergency funding for hospitals",
    "the construction of a second bridge",
    "tighter controls on exports",
    "a programme to rebuild schools",
];
const TAILS: &[&str] = &[
    "on Tuesday",
    "after months of talks",
    "despite strong objections",
    "— for now",
    "according to people familiar with the matter",
    "in a statement late on Friday",
    "citing “serious concerns”",
    "amid growing pressure",
    "without giving details",
    "as talks stalled",
    "in a surprise move",
];
const UKRAINE: &[&str] = &[
    "Ukraine",
    "Kyiv",
    "Ukrainian officials",
    "Zelensky",
    "Kharkiv",
    "the Ukrainian army",
    "Crimea",
];
const RUSSIA: &[&str] = &[
    "Russia",
    "the Kremlin",
    "Moscow",
    "Putin",
    "Russian forces",
    "Peskov",
];
const QUOTES: &[&str] = &[
    "“We will not accept this,” one official said.",
    "“It’s a step in the right direction,” a spokeswoman told reporters.",
    "“Nobody expected it to happen so quickly,” said a resident.",
    "“The numbers speak for themselves — and they aren’t good.”",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn sentence(rng: &mut SplitMix, topics: &[&[&str]]) -> String {
    let mut subject = rng.pick(SUBJECTS).to_string();
    if !topics.is_empty() && rng.chance(50) {
        let words = topics[rng.below(topics.len())];
        subject = format!("{} in {}", subject, rng.pick(words));
    }
    let object = rng.pick(OBJECTS);
    let linked = if rng.chance(10) {
        let slug = rng.next() % 100_000;
        format!("[{object}](https://example.org/reports/{slug})")
    } else if rng.chance(5) {
        format!("[{object}](#)")
    } else {
        object.to_string()
    };
    format!(
        "{subject} {} {linked} {}.",
        rng.pick(VERBS),
        rng.pick(TAILS)
    )
}

fn article(rng: &mut SplitMix, index: usize) -> (String, String) {
    let mut topics: Vec<&[&str]> = Vec::new();
    if rng.chance(25) {
        topics.push(UKRAINE);
    }
    if rng.chance(22) {
        topics.push(RUSSIA);
    }
    let year = 2020 + rng.below(6);
    let month = rng.below(12);
    let day = 1 + rng.below(28);
    let title_topic = topics.first().map_or("", |t| t[0]);
    let title = format!(
        "{} {} {}{} – Report #{index}",
        rng.pick(SUBJECTS),
        rng.pick(VERBS),
        rng.pick(OBJECTS),
        if title_topic.is_empty() {
            String::new()
        } else {
            format!(" in {title_topic}")
        }
    );
    let mut text = String::with_capacity(4096);
    let _ = write!(text, "{title}\n\n{} {day}, {year}", MONTHS[month]);
    if rng.chance(30) {
        let _ = write!(text, " {:02}:{:02}", rng.below(24), rng.below(60));
    }
    text.push_str("\n\n");
    if rng.chance(40) {
        text.push_str("A view of the harbour at dawn. Photo: press service\n\n");
    }
    let paragraphs = 4 + rng.below(9);
    for p in 0..paragraphs {
        let sentences = 2 + rng.below(4);
        for s in 0..sentences {
            if s > 0 {
                text.push(' ');
            }
            text.push_str(&sentence(rng, &topics));
        }
        if rng.chance(20) {
            text.push(' ');
            text.push_str(rng.pick(QUOTES));
        }
        text.push_str("\n\n");
        if p == 1 && rng.chance(30) {
            let _ = write!(text, "Related article: [More on this story](#)\n\n");
        }
    }
    let _ = write!(
        text,
        "Original url:\n\n<https://news.example.org/{year}/{:02}/{day:02}/report-{index}>",
        month + 1
    );
    let path = format!("{year}/{:02}/report-{index:06}.txt", month + 1);
    (path, text)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(count), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: gen-corpus N DIR");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("N is a number of articles");
    let dir = Path::new(&dir);
    let mut rng = SplitMix(0x0074_6964_696E_6773);
    for index in 0..count {
        let (path, text) = article(&mut rng, index);
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).expect("create the corpus folder");
        std::fs::write(&file, text).expect("write a corpus file");
    }
    eprintln!("wrote {count} articles under {}", dir.display());
}
