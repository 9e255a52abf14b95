//! Headers, `f(x, y) =`: found by reading ahead from their name, for the
//! parser and for lowering (a header on the last line fixes the parameter
//! order of a program streamed before it), and the error for what looks like
//! one but lists something other than names.

use super::{Build, Parser};
use crate::error::{Error, Span};
use crate::gate;
use crate::syntax::lexer::{Lexer, Tok};

impl<B: Build> Parser<'_, B> {
    /// If a header `NAME ( NAME, … ) =` starts here, the parameters' spans and
    /// how many tokens it takes, its `=` included. Line breaks inside the brackets are space.
    pub(super) fn header_params(&self) -> Option<(Vec<Span>, usize)> {
        if self.peek().tok != Tok::Name || self.peek_at(1) != Tok::LParen {
            return None;
        }
        // A lexer of its own reads ahead: a header may list thousands of names.
        // Token 2 is the first it reads: tokens 0 and 1 are the current and next.
        let after_next = self.window[self.at + 1].span.end as usize;
        let (params, read) = header_rest(&mut Lexer::at(self.src, after_next))?;
        Some((params, read + 2))
    }

    /// Where such a statement would start, if one starts here: its name,
    /// and where its brackets' contents start. Taken before the statement is
    /// parsed, for [`Parser::malformed_header`] once it fails.
    pub(super) fn header_like(&self) -> Option<(Span, usize)> {
        let name = self.peek().span;
        let like = self.peek().tok == Tok::Name
            && self.peek_at(1) == Tok::LParen
            && gate::function_at(self.src.as_bytes(), name).is_none();
        like.then(|| (name, self.window[self.at + 1].span.end as usize))
    }

    /// The error for a statement that reads like a header, `NAME ( … ) =`, of
    /// a name that is no built-in function, but whose brackets hold something
    /// other than names separated by commas: at the first thing that is not,
    /// rather than "unknown function". `None` if it does not read like one.
    /// `at` is what [`Parser::header_like`] found.
    pub(super) fn malformed_header(&self, at: (Span, usize)) -> Option<Error> {
        let (name, inside) = at;
        let mut lexer = Lexer::at(self.src, inside);
        let (mut depth, mut params, mut expect_name) = (1u32, 0usize, true);
        let mut first_bad = None;
        loop {
            let t = lexer.next_token().ok()?;
            if depth == 1 && first_bad.is_none() {
                match t.tok {
                    Tok::Newline => {}
                    Tok::Name if expect_name => (params, expect_name) = (params + 1, false),
                    Tok::Comma if !expect_name => expect_name = true,
                    Tok::RParen if !expect_name || params == 0 => {}
                    _ => first_bad = Some(t),
                }
            }
            match t.tok {
                Tok::LParen | Tok::LBrack => depth += 1,
                Tok::RParen | Tok::RBrack => depth -= 1,
                Tok::Eof | Tok::Semi => return None,
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
        let t = first_bad?;
        if lexer.next_token().ok()?.tok != Tok::Eq {
            return None;
        }
        let expected = if expect_name {
            "a parameter's name"
        } else {
            "`,` or `)`"
        };
        let found = t.tok.describe(self.text(t.span));
        let header = self.text(name);
        Some(
            Error::syntax(t.span, format!("expected {expected}, found {found}"))
                .label(format!("in the header `{header}(…) =`"))
                .help(format!(
                    "a header lists its parameters' names: `{header}(x, y) = …`"
                )),
        )
    }
}

/// The rest of a header whose `NAME (` has been read: its parameters' spans,
/// and how many tokens it took, `)` and `=` included; `None` if it is not one.
fn header_rest(lexer: &mut Lexer<'_>) -> Option<(Vec<Span>, usize)> {
    let mut params = Vec::new();
    let mut read = 0;
    let mut expect_name = true;
    loop {
        let t = lexer.next_token().ok()?;
        read += 1;
        match t.tok {
            Tok::Newline => {}
            Tok::Name if expect_name => {
                params.push(t.span);
                expect_name = false;
            }
            Tok::Comma if !expect_name => expect_name = true,
            Tok::RParen if !expect_name || params.is_empty() => break,
            _ => return None,
        }
    }
    (lexer.next_token().ok()?.tok == Tok::Eq).then_some((params, read + 1))
}

/// A header on the program's last line (`f(x, y) = h9`, naming the output),
/// found without parsing what comes before: its name's span and its
/// parameters' spans. A guess — the caller checks it against the statement
/// the parser finds there.
pub(crate) fn trailing_header(src: &str) -> Option<(Span, Vec<Span>)> {
    // The start of the last line with something on it besides a comment.
    let mut end = src.len();
    let start = loop {
        let line_start = src[..end].rfind('\n').map_or(0, |k| k + 1);
        let line = src[line_start..end].trim_start();
        if !(line.trim().is_empty() || line.starts_with('#')) {
            break line_start;
        }
        if line_start == 0 {
            return None;
        }
        end = line_start - 1;
    };
    let mut lexer = Lexer::at(src, start);
    let name = lexer.next_token().ok()?;
    if name.tok != Tok::Name || lexer.next_token().ok()?.tok != Tok::LParen {
        return None;
    }
    let (params, _) = header_rest(&mut lexer)?;
    Some((name.span, params))
}
