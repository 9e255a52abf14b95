//! The explanation as data — lines of styled segments — and the views that
//! write it: the terminal text (color applied only here, at the edge) and the
//! JSON report.

pub mod derivatives;
pub mod json;
pub mod latex;
pub mod local;
pub mod tensor;
pub mod text;

use colored::Colorize;

/// The role a piece of text plays; the terminal writer maps roles to colors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Ordinary text.
    Plain,
    /// A section heading.
    Heading,
    /// A forward value: green, as the notes draw them.
    Forward,
    /// A gradient: red, as the notes draw them.
    Backward,
    /// The pattern a gate follows, and notes.
    Note,
}

/// A document: lines of styled segments.
#[derive(Clone, Debug, Default)]
pub struct Doc {
    lines: Vec<Vec<(Style, String)>>,
}

impl Doc {
    /// Starts a new section: a blank line, unless the document is still empty.
    pub fn gap(&mut self) -> &mut Self {
        if !self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
        self
    }

    /// Starts a new line.
    pub fn line(&mut self) -> &mut Self {
        self.lines.push(Vec::new());
        self
    }

    /// Appends a segment to the current line.
    pub fn push(&mut self, style: Style, text: impl Into<String>) -> &mut Self {
        if self.lines.is_empty() {
            self.lines.push(Vec::new());
        }
        if let Some(l) = self.lines.last_mut() {
            l.push((style, text.into()));
        }
        self
    }

    /// Appends another document's lines.
    pub fn append(&mut self, other: Doc) {
        self.lines.extend(other.lines);
    }

    /// Writes the document, with ANSI colors when `color` is set.
    pub fn render(&self, color: bool) -> String {
        if color {
            // `colored` would otherwise decide for itself from stdout's tty and
            // NO_COLOR; the caller has decided already (`--color always` in a pipe).
            colored::control::set_override(true);
        }
        let mut out = String::new();
        for line in &self.lines {
            for (style, text) in line {
                if !color {
                    out.push_str(text);
                    continue;
                }
                let styled = match style {
                    Style::Plain => text.normal(),
                    Style::Heading => text.bold(),
                    Style::Forward => text.green(),
                    Style::Backward => text.red(),
                    Style::Note => text.yellow(),
                };
                out.push_str(&styled.to_string());
            }
            out.push('\n');
        }
        out
    }
}
