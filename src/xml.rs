//! The two text rules every document depends on: which characters XML 1.0
//! allows, and escaping text for XML and HTML.
//!
//! Ingest strips illegal characters once, so renderers can trust their input;
//! the hand-written documents (HTML pages, OPML) escape through [`escape`].

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
    match text.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        None => (Cow::Borrowed(text), None),
        Some((first, _)) => (
            Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect()),
            Some(first),
        ),
    }
}

/// Escapes `&`, `<`, `>`, `"` and `'` so that text is safe in XML and HTML
/// content and in attribute values quoted either way.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_but_keeps_whitespace_and_astral_characters() {
        let (clean, first) = strip_illegal("a\u{1}b\tc\u{FFFE}d\u{1F600}\r\n");
        assert_eq!(clean, "ab\tcd\u{1F600}\r\n");
        assert_eq!(first, Some(1));
        assert_eq!(strip_illegal("clean").1, None);
    }

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(
            escape("a & <b> \"c\" 'd'"),
            "a &amp; &lt;b&gt; &quot;c&quot; &#39;d&#39;"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }
}
