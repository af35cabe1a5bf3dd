//! From a seed file's bytes to clean text, or a diagnostic saying why not.
//!
//! Both seed formats share these checks, in this order, so that a file gets
//! the most useful single complaint:
//!
//! 1. size: over `seeds.max_file_bytes` is rejected (the loader checks the
//!    file's metadata before reading, this checks the bytes again);
//! 2. binary: any NUL byte rejects the file, naming its line (UTF-16 text
//!    lands here too, and the message says to save it as UTF-8);
//! 3. encoding: invalid UTF-8 is rejected, naming the line of the first
//!    invalid byte;
//! 4. a leading UTF-8 byte order mark is dropped;
//! 5. line ends: CRLF and a lone CR both become LF, so each counts as one
//!    line break, in line numbers as in parsing;
//! 6. characters XML 1.0 forbids (C0 controls but tab and LF, U+FFFE,
//!    U+FFFF) are removed, with one warning naming the lines they were on.

use std::borrow::Cow;

use crate::xml;

use super::FileContext;

/// Clean text with LF line ends, or `None` after an error diagnostic. Text
/// that needs no change (UTF-8 with LF line ends and no forbidden
/// character, nearly every file) is borrowed, not copied.
pub(super) fn decode<'b>(bytes: &'b [u8], cx: &mut FileContext<'_>) -> Option<Cow<'b, str>> {
    let max = cx.config.seeds.max_file_bytes;
    if bytes.len() as u64 > max {
        cx.error(1, too_big(bytes.len() as u64, max));
        return None;
    }
    // `contains` on bytes is a fast `memchr`; the position only on failure.
    if let Some(nul) = bytes
        .contains(&0)
        .then(|| bytes.iter().position(|&b| b == 0))
        .flatten()
    {
        cx.error(
            line_at(bytes, nul),
            "this is a binary file (it contains a NUL byte), not text: save it as UTF-8 text \
             (UTF-16 files look binary too) or move it out of the seeds folder",
        );
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            cx.error(
                line_at(bytes, at),
                format!(
                    "the file is not UTF-8 (byte 0x{:02X} here is not valid UTF-8): save it with UTF-8 encoding",
                    bytes[at]
                ),
            );
            return None;
        }
    };
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let text = if text.as_bytes().contains(&b'\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    let (clean, first) = xml::strip_illegal(&text);
    let Some(first) = first else {
        return Some(text);
    };
    let clean = clean.into_owned();
    report_illegal(&text, first, cx);
    Some(Cow::Owned(clean))
}

/// The message for a file over the size limit.
pub(super) fn too_big(len: u64, max: u64) -> String {
    format!(
        "the file is {len} bytes, over the limit of {max} bytes: split the article, \
         or raise seeds.max_file_bytes in the config"
    )
}

/// One warning for every character XML 1.0 forbids, listing their lines.
fn report_illegal(text: &str, first: usize, cx: &mut FileContext<'_>) {
    let mut count = 0usize;
    let mut lines: Vec<usize> = Vec::new();
    let mut kinds: Vec<char> = Vec::new();
    for (i, line) in text[first..].split('\n').enumerate() {
        let mut here = false;
        for c in line.chars().filter(|&c| !xml::is_xml_char(c)) {
            count += 1;
            here = true;
            if kinds.len() < 3 && !kinds.contains(&c) {
                kinds.push(c);
            }
        }
        if here {
            lines.push(line_at(text.as_bytes(), first) + i);
        }
    }
    let shown: Vec<String> = kinds
        .iter()
        .map(|c| format!("U+{:04X}", *c as u32))
        .collect();
    let mut where_ = lines
        .iter()
        .take(5)
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > 5 {
        where_.push_str(&format!(" and {} more", lines.len() - 5));
    }
    cx.warning(
        lines[0],
        format!(
            "removed {count} character{} that XML 1.0 does not allow ({}) on line{} {where_}: \
             delete them from the file to silence this warning",
            if count == 1 { "" } else { "s" },
            shown.join(", "),
            if lines.len() == 1 { "" } else { "s" },
        ),
    );
}

/// 1-based line of byte `offset`, counting LF, CRLF and a lone CR as one
/// line break each.
pub(super) fn line_at(bytes: &[u8], offset: usize) -> usize {
    let head = &bytes[..offset.min(bytes.len())];
    let mut line = 1;
    for (i, &b) in head.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            line += 1;
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_at_counts_every_kind_of_line_end() {
        assert_eq!(line_at(b"a\nb\r\nc\rd", 0), 1);
        assert_eq!(line_at(b"a\nb\r\nc\rd", 2), 2);
        assert_eq!(line_at(b"a\nb\r\nc\rd", 5), 3);
        assert_eq!(line_at(b"a\nb\r\nc\rd", 7), 4);
    }
}
