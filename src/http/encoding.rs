//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3): which of the catalog's
//! precompressed variants a request gets.
//!
//! The catalog holds every document as identity, gzip and brotli bytes, so
//! negotiation only picks one; nothing is compressed per request. The rules:
//!
//! - no `Accept-Encoding` at all: identity. The RFC allows any coding then,
//!   but a client that sends nothing may not be able to decode anything;
//! - each coding gets its own q-value, else the q-value of `*`; else br and
//!   gzip are not acceptable, and identity is acceptable (unless excluded by
//!   `identity;q=0`, or by `*;q=0` without an `identity` entry) but ranks
//!   below every listed coding (q=0.001), so `gzip;q=0.5` still gets gzip;
//! - the highest q-value above 0 wins; at equal q-values br beats gzip beats
//!   identity, because smaller is better for everyone;
//! - when nothing is acceptable (`identity;q=0` alone, `*;q=0`), identity is
//!   sent anyway: the RFC allows that or `406`, and a feed reader is better
//!   served by a body it may be able to read than by an error it cannot fix;
//! - names are case-insensitive, `x-gzip` is gzip (RFC 9110 §8.4.1.3),
//!   unknown codings are ignored, and so is an entry whose q-value is not a
//!   valid qvalue (`q=abc`, `q=2`, `q=0.1234`);
//! - several `Accept-Encoding` lines are one list; the first entry for a
//!   coding counts;
//! - a coding the document does not have yet (brotli, for a moment after a
//!   reload) is left out of the choice, so `br, gzip;q=0.5` gets gzip.

use axum::http::HeaderValue;

use crate::catalog::Encoding;

/// The variant to send, given every `Accept-Encoding` value of a request
/// (none when the header is absent) and whether the document has its
/// brotli variant yet.
pub fn negotiate<'a>(values: impl IntoIterator<Item = &'a HeaderValue>, brotli: bool) -> Encoding {
    let mut present = false;
    let (mut br, mut gzip, mut identity, mut star) = (None, None, None, None);
    for value in values {
        present = true;
        for element in value.as_bytes().split(|&b| b == b',') {
            let Some((coding, q)) = parse_element(element) else {
                continue;
            };
            let slot = if coding.eq_ignore_ascii_case(b"br") {
                &mut br
            } else if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
            {
                &mut gzip
            } else if coding.eq_ignore_ascii_case(b"identity") {
                &mut identity
            } else if coding == b"*" {
                &mut star
            } else {
                continue;
            };
            slot.get_or_insert(q);
        }
    }
    if !present {
        return Encoding::Identity;
    }
    let br = if brotli { br.or(star).unwrap_or(0) } else { 0 };
    let gzip = gzip.or(star).unwrap_or(0);
    let identity = identity.or(star).unwrap_or(1);
    // Ties go to the first of this list: smallest variant first.
    let mut best = (Encoding::Identity, 0);
    for (encoding, q) in [
        (Encoding::Brotli, br),
        (Encoding::Gzip, gzip),
        (Encoding::Identity, identity),
    ] {
        if q > best.1 {
            best = (encoding, q);
        }
    }
    best.0
}

/// One list element: the coding and its q-value in thousandths, or `None`
/// for an empty element or an invalid q-value.
fn parse_element(element: &[u8]) -> Option<(&[u8], u16)> {
    let mut parts = element.split(|&b| b == b';');
    let coding = trim(parts.next()?);
    if coding.is_empty() {
        return None;
    }
    let mut q = 1000;
    for parameter in parts {
        let parameter = trim(parameter);
        let Some(eq) = parameter.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = (trim(&parameter[..eq]), trim(&parameter[eq + 1..]));
        if name.eq_ignore_ascii_case(b"q") {
            q = parse_qvalue(value)?;
        }
    }
    Some((coding, q))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in
/// thousandths.
fn parse_qvalue(text: &[u8]) -> Option<u16> {
    let (&first, rest) = text.split_first()?;
    let fraction = match rest {
        [] => &[][..],
        [b'.', digits @ ..] if digits.len() <= 3 => digits,
        _ => return None,
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, &digit) in fraction.iter().enumerate() {
        thousandths += u16::from(digit - b'0') * [100, 10, 1][i];
    }
    match first {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::{Brotli as Br, Gzip, Identity as Id};

    fn pick(lines: &[&str]) -> Encoding {
        let values: Vec<HeaderValue> = lines
            .iter()
            .map(|l| HeaderValue::from_str(l).unwrap())
            .collect();
        negotiate(&values, true)
    }

    #[test]
    fn negotiation_table() {
        #[rustfmt::skip]
        let rows: &[(&str, &[&str], Encoding)] = &[
            ("no header: identity", &[], Id),
            ("empty header: identity", &[""], Id),
            ("browser default", &["gzip, deflate, br, zstd"], Br),
            ("gzip only", &["gzip"], Gzip),
            ("br only", &["br"], Br),
            ("identity only", &["identity"], Id),
            ("unknown codings only: identity", &["deflate, zstd, compress"], Id),
            ("equal q prefers br over gzip", &["gzip;q=0.8, br;q=0.8"], Br),
            ("equal q prefers compressed over identity", &["identity, gzip"], Gzip),
            ("unlisted identity ranks below a listed coding", &["gzip;q=0.5"], Gzip),
            ("higher q wins", &["br;q=0.5, gzip;q=0.9"], Gzip),
            ("identity preferred by q", &["gzip;q=0.5, identity;q=1"], Id),
            ("br;q=0 refuses br", &["br;q=0, gzip"], Gzip),
            ("br;q=0 alone: identity", &["br;q=0"], Id),
            ("gzip;q=0 and br;q=0: identity", &["gzip;q=0, br;q=0"], Id),
            ("star accepts br", &["*"], Br),
            ("star with explicit refusal of br", &["br;q=0, *"], Gzip),
            ("star with lower q than gzip", &["*;q=0.1, gzip"], Gzip),
            ("star q=0 refuses everything unlisted", &["gzip, *;q=0"], Gzip),
            ("star q=0 alone: nothing acceptable, identity anyway", &["*;q=0"], Id),
            ("identity q=0 alone: identity anyway", &["identity;q=0"], Id),
            ("identity q=0 with gzip", &["identity;q=0, gzip;q=0.1"], Gzip),
            ("case-insensitive names", &["GZIP, BR;Q=0.5"], Gzip),
            ("x-gzip is gzip", &["x-gzip"], Gzip),
            ("whitespace and tabs", &["  br ; q = 0.2 ,\tgzip\t;q=0.3 "], Gzip),
            ("empty elements", &[",,gzip,,"], Gzip),
            ("q with three decimals", &["br;q=0.001, gzip;q=0.002"], Gzip),
            ("q=1.000", &["br;q=1.000, gzip;q=0.999"], Br),
            ("invalid q ignores the entry", &["br;q=abc, gzip;q=0.1"], Gzip),
            ("q above 1 ignores the entry", &["br;q=2, gzip;q=0.1"], Gzip),
            ("q=1.5 ignores the entry", &["br;q=1.5"], Id),
            ("too many decimals ignores the entry", &["br;q=0.1234"], Id),
            ("negative q ignores the entry", &["br;q=-1"], Id),
            ("other parameters are ignored", &["br;level=5;q=0.4, gzip;q=0.3"], Br),
            ("parameter without value is ignored", &["br;foo"], Br),
            ("first entry for a coding counts", &["br;q=0, br"], Id),
            ("several header lines are one list", &["br;q=0", "gzip"], Gzip),
            ("garbage: identity", &[";;;==,;q=,"], Id),
            ("junk tokens", &["g z i p, brr, b r"], Id),
        ];
        for (name, lines, expected) in rows {
            assert_eq!(pick(lines), *expected, "{name}: {lines:?}");
        }
    }

    #[test]
    fn a_document_without_brotli_yet_is_offered_as_gzip_or_identity() {
        #[rustfmt::skip]
        let rows: &[(&str, Encoding)] = &[
            ("gzip, deflate, br, zstd", Gzip),
            ("br, gzip;q=0.5", Gzip),
            ("br", Id),
            ("*", Gzip),
            ("br;q=1, identity;q=0.5", Id),
            ("gzip", Gzip),
        ];
        for (line, expected) in rows {
            let value = HeaderValue::from_str(line).unwrap();
            assert_eq!(negotiate([&value], false), *expected, "{line}");
        }
    }

    #[test]
    fn non_ascii_bytes_do_not_panic() {
        let value = HeaderValue::from_bytes(b"gz\xffip, br;q=0.\xe9").unwrap();
        assert_eq!(negotiate([&value], true), Id);
    }

    #[test]
    fn qvalues_parse_to_thousandths() {
        for (text, expected) in [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.005", Some(5)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.0", Some(1000)),
            ("1.001", None),
            ("", None),
            (".5", None),
            ("0,5", None),
        ] {
            assert_eq!(parse_qvalue(text.as_bytes()), expected, "{text}");
        }
    }
}
