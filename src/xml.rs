//! The two text rules every document depends on: which characters XML 1.0
//! allows, and escaping text for XML and HTML.
//!
//! Ingest strips illegal characters once, so renderers can trust their input;
//! the hand-written documents (HTML pages, OPML) and the bodies ingest builds
//! from seed text escape through [`escape`] and [`escape_into`]. Both rules
//! run over every article at 100,000 articles, so each first scans bytes
//! many at a time for the few that matter (all of them are ASCII, or start
//! with 0xEF), and nearly all text passes untouched.

use std::borrow::Cow;

/// Whether `c` matches XML 1.0's `Char` production.
pub fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{9}' | '\u{A}' | '\u{D}'
        | '\u{20}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}'
        | '\u{10000}'..='\u{10FFFF}')
}

/// Removes every character XML 1.0 forbids (C0 controls but tab, LF and CR;
/// U+FFFE and U+FFFF). Returns the byte offset in `text` of the first one
/// removed, so the caller can report where it was.
pub fn strip_illegal(text: &str) -> (Cow<'_, str>, Option<usize>) {
    if !may_hold_illegal(text.as_bytes()) {
        return (Cow::Borrowed(text), None);
    }
    match text.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        None => (Cow::Borrowed(text), None),
        Some((first, _)) => (
            Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect()),
            Some(first),
        ),
    }
}

/// Whether `bytes` hold a C0 control other than tab, LF and CR, or 0xEF:
/// every character XML 1.0 forbids is one of those controls, or U+FFFE and
/// U+FFFF, whose UTF-8 starts with 0xEF. Checks 32 bytes at a time without
/// branching inside a chunk, which the compiler turns into vector compares.
fn may_hold_illegal(bytes: &[u8]) -> bool {
    fn suspect(byte: u8) -> bool {
        (byte < 0x20) & (byte != b'\t') & (byte != b'\n') & (byte != b'\r') | (byte == 0xEF)
    }
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        if chunk
            .iter()
            .fold(false, |found, &byte| found | suspect(byte))
        {
            return true;
        }
    }
    chunks.remainder().iter().any(|&byte| suspect(byte))
}

/// Escapes `&`, `<`, `>`, `"` and `'` so that text is safe in XML and HTML
/// content and in attribute values quoted either way.
pub fn escape(text: &str) -> Cow<'_, str> {
    if next_markup(text.as_bytes(), 0) == text.len() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    escape_into(&mut out, text);
    Cow::Owned(out)
}

/// Appends `text` to `out` escaped as [`escape`] does, without an
/// intermediate string: ingest builds whole bodies this way.
pub fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut from = 0;
    loop {
        let at = next_markup(bytes, from);
        // The markup characters are ASCII, so `at` is a character boundary.
        out.push_str(&text[from..at]);
        let entity = match bytes.get(at) {
            None => return,
            Some(b'&') => "&amp;",
            Some(b'<') => "&lt;",
            Some(b'>') => "&gt;",
            Some(b'"') => "&quot;",
            Some(_) => "&#39;", // the last markup character, `'`
        };
        out.push_str(entity);
        from = at + 1;
    }
}

/// The offset of the first byte at or after `from` that [`escape`] replaces,
/// or the length of `bytes` when there is none. Skips 16 bytes at a time
/// while none needs escaping (vector compares, no branch per byte).
fn next_markup(bytes: &[u8], from: usize) -> usize {
    fn markup(byte: u8) -> bool {
        (byte == b'&') | (byte == b'<') | (byte == b'>') | (byte == b'"') | (byte == b'\'')
    }
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 16) {
        if chunk
            .iter()
            .fold(false, |found, &byte| found | markup(byte))
        {
            break;
        }
        at += 16;
    }
    bytes[at..]
        .iter()
        .position(|&byte| markup(byte))
        .map_or(bytes.len(), |offset| at + offset)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn strips_controls_but_keeps_whitespace_and_astral_characters() {
        let (clean, first) = strip_illegal("a\u{1}b\tc\u{FFFE}d\u{1F600}\r\n");
        assert_eq!(clean, "ab\tcd\u{1F600}\r\n");
        assert_eq!(first, Some(1));
        assert_eq!(strip_illegal("clean").1, None);
        // Characters whose UTF-8 starts with 0xEF but are allowed.
        assert!(matches!(
            strip_illegal("\u{FEFF}\u{FF01}\u{FFFD}"),
            (Cow::Borrowed(_), None)
        ));
    }

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(
            escape("a & <b> \"c\" 'd'"),
            "a &amp; &lt;b&gt; &quot;c&quot; &#39;d&#39;"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        let long = format!("{}&{}<", "x".repeat(40), "é".repeat(20));
        assert_eq!(
            escape(&long),
            format!("{}&amp;{}&lt;", "x".repeat(40), "é".repeat(20))
        );
    }

    /// The rule as XML states it, one character at a time.
    fn escaped_char_by_char(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&#39;".to_owned(),
                c => c.to_string(),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn escape_is_the_rule_for_every_character(text in "(\\PC|[&<>\"'])*") {
            let expected = escaped_char_by_char(&text);
            let escaped = escape(&text);
            prop_assert_eq!(escaped.as_ref(), expected.as_str());
            let mut out = String::from("x");
            escape_into(&mut out, &text);
            prop_assert_eq!(&out[1..], expected.as_str());
        }

        #[test]
        fn strip_is_the_rule_for_every_character(
            text in "(\\PC|[\\u{0}-\\u{1f}\\u{fffe}\\u{ffff}\\u{feff}])*",
        ) {
            let (clean, first) = strip_illegal(&text);
            let expected: String = text.chars().filter(|&c| is_xml_char(c)).collect();
            prop_assert_eq!(clean.as_ref(), expected.as_str());
            prop_assert_eq!(first, text.char_indices().find(|&(_, c)| !is_xml_char(c)).map(|(at, _)| at));
        }
    }
}
