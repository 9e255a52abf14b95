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

/// Program text made safe to echo: a comment may hold anything, and a control
/// character written raw would act on the terminal (`ESC [2J` clears it), end a
/// LaTeX comment early (a carriage return) or reorder the line (a bidi
/// override). Each is shown as its Unicode picture (`␛`, `␍`) or `�`, as the
/// error renderer does; a tab stays a tab.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
    };
    if !s.chars().any(unsafe_char) {
        return s.into();
    }
    s.chars()
        .map(|c| match c {
            c if !unsafe_char(c) => c,
            '\u{7f}' => '\u{2421}',
            c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            _ => '\u{fffd}',
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_not_obeyed() {
        use super::printable;
        assert_eq!(
            printable("x # \u{1b}[2J\r\u{7f}\u{202e}\t"),
            "x # \u{241b}[2J\u{240d}\u{2421}\u{fffd}\t"
        );
        assert!(matches!(
            printable("σ = x # ok"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
