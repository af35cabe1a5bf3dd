//! Diagnostics about seed files, in the `seeds/PATH:LINE: message` form.
//!
//! A broken seed never stops a build: ingest turns every problem into a
//! diagnostic, skips what cannot be published, and carries on. `check`,
//! `build` and `/healthz` all show the same list.
//!
//! It is a leaf module (nothing of tidings below it), so the config reader
//! can use `line_of` too and name lines the same way seeds do.

use std::fmt;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The article was published, with something cleaned up or ignored.
    Warning,
    /// The file was not published.
    Error,
}

/// One finding about one seed file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// The file as the user names it: the seeds folder joined with the path
    /// under it, e.g. `seeds/world/kyiv.txt`.
    pub path: String,
    /// 1-based line the problem is on (1 when it concerns the whole file).
    pub line: usize,
    pub severity: Severity,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(path: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line,
            severity: Severity::Warning,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "{}:{}: {}", self.path, self.line, self.message),
            Severity::Warning => {
                write!(f, "{}:{}: warning: {}", self.path, self.line, self.message)
            }
        }
    }
}

/// Prints every diagnostic on standard error, one per line, in the
/// `seeds/PATH:LINE: message` form editors and CI logs link to.
pub fn print(diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        eprintln!("{diagnostic}");
    }
}

/// Logs every diagnostic (a running server has a log, not a terminal).
pub fn log(diagnostics: &[Diagnostic]) {
    for diagnostic in diagnostics {
        if diagnostic.is_error() {
            tracing::warn!("rejected: {diagnostic}");
        } else {
            tracing::warn!("{diagnostic}");
        }
    }
}

/// The 1-based line of byte `offset` in `text` (an offset past the end
/// counts as the end), for messages that name a line.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_newlines_before_the_offset() {
        let text = "a\nbc\n\nd";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 1), 1);
        assert_eq!(line_of(text, 2), 2);
        assert_eq!(line_of(text, 6), 4);
        assert_eq!(line_of(text, 1000), 4);
        assert_eq!(line_of("", 3), 1);
    }
}
