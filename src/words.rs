//! Words as tidings sees them: maximal runs of letters and digits, compared
//! case-insensitively. Keywords in the config and the text of articles are
//! cut into words the same way, so a keyword the config accepts is one the
//! classifier can match.

/// Lower-cased words of `text`: maximal runs of letters and digits. Every
/// other character (space, punctuation, apostrophes) separates words.
pub fn words(text: &str) -> Vec<String> {
    split_words(text).map(|w| lower(w).collect()).collect()
}

/// The words of `text`, as written.
fn split_words(text: &str) -> impl Iterator<Item = &str> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let word = next_word(text, at)?;
        at = word.end;
        Some(&text[word.start..word.end])
    })
}

/// A word found by [`next_word`]: its byte range, and whether it is all
/// ASCII.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub ascii: bool,
}

/// The first word of `text` at or after byte `at` (a char boundary). ASCII
/// bytes are classified by a byte test, other characters by
/// `char::is_alphanumeric`, with a shortcut for the punctuation and spaces
/// of U+2000..U+203F (typographic quotes and dashes), none of which is a
/// letter or digit.
pub(crate) fn next_word(text: &str, mut at: usize) -> Option<Span> {
    let bytes = text.as_bytes();
    // Skip to the start of a word.
    loop {
        let byte = *bytes.get(at)?;
        match CLASS[usize::from(byte)] {
            WORD => break,
            OTHER => at += 1,
            _ => {
                let (is_word, width) = non_ascii_char(text, at);
                if is_word {
                    break;
                }
                at += width;
            }
        }
    }
    let start = at;
    let mut ascii = true;
    loop {
        while at < bytes.len() && CLASS[usize::from(bytes[at])] == WORD {
            at += 1;
        }
        if at == bytes.len() || CLASS[usize::from(bytes[at])] == OTHER {
            break;
        }
        let (is_word, width) = non_ascii_char(text, at);
        if !is_word {
            break;
        }
        ascii = false;
        at += width;
    }
    Some(Span {
        start,
        end: at,
        ascii,
    })
}

/// [`CLASS`] of an ASCII letter or digit.
const WORD: u8 = 0;
/// [`CLASS`] of any other ASCII byte.
const OTHER: u8 = 1;
/// [`CLASS`] of a byte of a non-ASCII character.
const HIGH: u8 = 2;

/// The class of every byte, for the scanner's inner loops.
static CLASS: [u8; 256] = {
    let mut class = [HIGH; 256];
    let mut byte = 0;
    while byte < 0x80 {
        class[byte] = if (byte as u8).is_ascii_alphanumeric() {
            WORD
        } else {
            OTHER
        };
        byte += 1;
    }
    class
};

/// Whether the non-ASCII character at byte `at` of `text` is part of a word,
/// and its width in bytes.
#[inline]
fn non_ascii_char(text: &str, at: usize) -> (bool, usize) {
    let bytes = text.as_bytes();
    // U+2000..U+203F is E2 80 xx: spaces, dashes, quotes, bullets.
    if bytes[at] == 0xE2 && bytes.get(at + 1) == Some(&0x80) {
        return (false, 3);
    }
    let c = text[at..].chars().next().expect("at is a char boundary");
    (c.is_alphanumeric(), c.len_utf8())
}

/// The characters of `word` in lower case, one by one, so that matching
/// never allocates a lower-cased copy of an article.
pub(crate) fn lower(word: &str) -> impl Iterator<Item = char> + '_ {
    word.chars().flat_map(char::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_punctuation_shortcut_holds_no_word_character() {
        for code in 0x2000..=0x203F {
            let c = char::from_u32(code).unwrap();
            assert!(!c.is_alphanumeric(), "U+{code:04X}");
            let text = c.to_string();
            assert_eq!(non_ascii_char(&text, 0), (false, 3), "U+{code:04X}");
        }
        // Just past it, superscripts are digits and letters.
        assert!(non_ascii_char("\u{2070}", 0).0);
        assert!(non_ascii_char("\u{2071}", 0).0);
    }
}
