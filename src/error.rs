//! Errors as typed values with a place, rendered as rustc renders its own
//! (`error:`, `--> line:column`, the source line, a caret) by annotate-snippets.
//!
//! Every stage returns [`Error`]; the binary maps [`ErrorKind`] to the contract's
//! exit code. The source text is attached where it is known (the program, an
//! `--at` argument) so that the stages themselves only carry spans.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use std::fmt;

/// A byte range in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: clamp(start),
            end: clamp(end.max(start)),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// As a `Range<usize>`.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn clamp(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// What went wrong, in the contract's terms; it decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A malformed program: `x + * y`, `foo(x)`, `exp(x, y)`, `(x`. Exit 2.
    Syntax,
    /// A malformed command line: `--at x=abc`, `--grad [1,`. Exit 2.
    Usage,
    /// A well-formed program that cannot be evaluated: a missing input value, a
    /// shape mismatch, `log(-1)`, an index out of range. Exit 1.
    Eval,
    /// A file that cannot be read or written. Exit 1.
    Io,
}

impl ErrorKind {
    /// The contract's exit code for this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Syntax | ErrorKind::Usage => 2,
            ErrorKind::Eval | ErrorKind::Io => 1,
        }
    }
}

/// An error with its place: one message, optionally a span in a named source, a
/// label under the caret and a help line. Its fields are [`ErrorInfo`]'s, read
/// and written through it (`e.message`, `e.span = …`).
///
/// Boxed, so that a `Result` is hardly larger than its success value: the
/// parser and the lexer return one per token, and an error inline made each a
/// hundred bytes to copy.
#[derive(Clone, PartialEq)]
pub struct Error(Box<ErrorInfo>);

/// What an [`Error`] holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorInfo {
    /// Decides the exit code.
    pub kind: ErrorKind,
    /// What is wrong, in one line.
    pub message: String,
    /// Where, in the source the error is attached to.
    pub span: Option<Span>,
    /// Text written under the caret.
    pub label: Option<String>,
    /// A hint on how to fix it.
    pub help: Option<String>,
    /// The source text and its name (`program`, `--at`), once attached.
    pub source: Option<Box<(String, String)>>,
}

impl std::ops::Deref for Error {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        f.debug_struct("Error")
            .field("kind", &e.kind)
            .field("message", &e.message)
            .field("span", &e.span)
            .field("label", &e.label)
            .field("help", &e.help)
            .field("source", &e.source)
            .finish()
    }
}

impl Error {
    /// A new error of `kind` with `message` and no place yet.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(ErrorInfo {
            kind,
            message: message.into(),
            span: None,
            label: None,
            help: None,
            source: None,
        }))
    }

    /// A syntax error at `span`.
    pub fn syntax(span: Span, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Syntax, message).at(span)
    }

    /// An evaluation error at `span`.
    pub fn eval(span: Span, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Eval, message).at(span)
    }

    /// Places the error at `span`.
    pub fn at(mut self, span: Span) -> Error {
        self.span = Some(span);
        self
    }

    /// Adds the text written under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Error {
        self.label = Some(label.into());
        self
    }

    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    /// Attaches the source text the span points into, unless one is attached already.
    pub fn with_source(mut self, name: &str, text: &str) -> Error {
        if self.source.is_none() && self.span.is_some() {
            self.source = Some(Box::new((name.to_string(), text.to_string())));
        }
        self
    }

    /// The 1-based line and column (in characters) of the error's place.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let (span, text) = (self.span?, &self.source.as_ref()?.1);
        Some(line_col(text, span.start as usize))
    }

    /// Renders the full diagnostic: `error: …`, the place, the source line with a
    /// caret, and the help line; styled with color when `color` is set.
    pub fn render(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut title = Level::ERROR.primary_title(self.message.as_str());
        let mut group: Option<Group<'_>> = None;
        if let (Some(span), Some(src)) = (self.span, &self.source) {
            let (name, text) = &**src;
            let range = clamp_range(text, span);
            let mut ann = AnnotationKind::Primary.span(range);
            if let Some(label) = &self.label {
                ann = ann.label(label.as_str());
            }
            let snippet = Snippet::source(text.as_str())
                .path(name.as_str())
                .annotation(ann);
            let g = title.element(snippet);
            group = Some(match &self.help {
                Some(h) => g.element(Level::HELP.message(h.as_str())),
                None => g,
            });
            title = Level::ERROR.primary_title("");
        }
        let group = group.unwrap_or_else(|| {
            let g = Group::with_title(title);
            match &self.help {
                Some(h) => g.element(Level::HELP.message(h.as_str())),
                None => g,
            }
        });
        let mut out = renderer.render(&[group]);
        out.push('\n');
        out
    }
}

/// Keeps a span inside the text and on character boundaries, so rendering never
/// panics whatever span a bug or junk input produced.
fn clamp_range(text: &str, span: Span) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (s, e) = (fix(span.start as usize), fix(span.end as usize));
    s..e.max(s)
}

/// 1-based line and column (counted in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = clamp_range(text, Span::new(offset, offset)).start;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some((line, col)) = self.line_col() {
            write!(f, " (at {line}:{col})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The result type of every stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rustc_style_with_a_caret() {
        let e = Error::syntax(Span::new(4, 5), "expected a value, found `*`")
            .label("expected a value here")
            .help("an operator needs a value on each side")
            .with_source("program", "x + * y");
        let text = e.render(false);
        assert!(
            text.starts_with("error: expected a value, found `*`"),
            "{text}"
        );
        assert!(text.contains("program:1:5"), "{text}");
        assert!(text.contains("x + * y"), "{text}");
        assert!(text.contains("    ^ expected a value here"), "{text}");
        assert!(text.contains("help: an operator needs a value"), "{text}");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("a\nσ + b", 5), (2, 3));
        assert_eq!(line_col("abc", 99), (1, 4));
    }

    #[test]
    fn renders_without_a_place() {
        let e = Error::new(ErrorKind::Io, "cannot read `nope.gx`: not found");
        assert!(e.render(false).starts_with("error: cannot read"));
    }
}
