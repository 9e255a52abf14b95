//! Tokens, recognised with nom. The lexer is a loop over nom parsers, one token
//! at a time, so its work and stack stay flat whatever the input.

use crate::error::{Error, Result, Span};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char, digit1, one_of, satisfy};
use nom::combinator::{opt, recognize, value};
use nom::sequence::pair;
use nom::{IResult, Parser};

/// A token's kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tok {
    /// A number literal; [`number_value`] converts its text.
    Num,
    /// A name; its text is the token's span.
    Name,
    /// `+`
    Plus,
    /// `-` or `−`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `·` or `@`
    Dot,
    /// `^` or `**`
    Caret,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBrack,
    /// `]`
    RBrack,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// A line break.
    Newline,
    /// `=`
    Eq,
    /// The end of the text.
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(self, text: &str) -> String {
        match self {
            Tok::Num => format!("the number `{text}`"),
            Tok::Name => format!("the name `{text}`"),
            Tok::Newline => "the end of the line".into(),
            Tok::Eof => "the end of the program".into(),
            _ => format!("`{text}`"),
        }
    }
}

/// A token and its place: 12 bytes, so that the token list of a million-stage
/// program stays small (a number's value is read from its text when parsed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// True for a character that may start a name: a letter (Greek included) or `_`.
pub fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// True for a character that may continue a name.
pub fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The value of a [`Tok::Num`]'s text; a literal too large for a 64-bit float
/// is infinite.
pub fn number_value(text: &str) -> f64 {
    text.parse().unwrap_or(f64::INFINITY)
}

/// `3`, `0.5`, `.5`, `3.`, `1e-3`, `2.5E+4`.
fn number(i: &str) -> IResult<&str, &str> {
    let mantissa = alt((
        // `opt(digit1)`, not `digit0`: nom 8.0.0's digit0 misreports what it
        // consumed inside `recognize` ("0.5" came back as "0.").
        (digit1, opt((char('.'), opt(digit1)))).map(|_| ()),
        (char('.'), digit1).map(|_| ()),
    ));
    let exponent = (one_of("eE"), opt(one_of("+-")), digit1);
    recognize((mantissa, opt(exponent))).parse(i)
}

fn name(i: &str) -> IResult<&str, &str> {
    recognize(pair(satisfy(is_name_start), take_while(is_name_char))).parse(i)
}

fn punct(i: &str) -> IResult<&str, Tok> {
    alt((
        value(Tok::Caret, tag("**")),
        value(Tok::Plus, char('+')),
        value(Tok::Minus, one_of("-−")),
        value(Tok::Star, char('*')),
        value(Tok::Slash, char('/')),
        value(Tok::Dot, one_of("·@")),
        value(Tok::Caret, char('^')),
        value(Tok::LParen, char('(')),
        value(Tok::RParen, char(')')),
        value(Tok::LBrack, char('[')),
        value(Tok::RBrack, char(']')),
        value(Tok::Comma, char(',')),
        value(Tok::Semi, char(';')),
        value(Tok::Newline, char('\n')),
        value(Tok::Eq, char('=')),
    ))
    .parse(i)
}

/// Splits `src` into tokens, ending with [`Tok::Eof`]. Spaces, tabs, carriage
/// returns and `#` comments are skipped.
pub fn tokenize(src: &str) -> Result<Vec<Token>> {
    let mut lexer = Lexer::new(src);
    let mut tokens = Vec::new();
    loop {
        let t = lexer.next_token()?;
        tokens.push(t);
        if t.tok == Tok::Eof {
            return Ok(tokens);
        }
    }
}

/// Byte classes of the lexer's fast path: space, punctuation, a letter or `_`
/// (a name's first byte), a digit (a name's later byte); 0 for the rest, which
/// `Lexer::other` handles (numbers, non-ASCII text, comments, errors).
const SPACE: u8 = 1;
const PUNCT: u8 = 2;
const NAME_START: u8 = 3;
const NAME_DIGIT: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b' ' | b'\t' | b'\r' => SPACE,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => NAME_START,
            b'0'..=b'9' => NAME_DIGIT,
            b'+' | b'-' | b'*' | b'/' | b'@' | b'^' | b'(' | b')' | b'[' | b']' | b',' | b';'
            | b'\n' | b'=' => PUNCT,
            _ => 0,
        };
        b += 1;
    }
    t
};

/// True for the bytes the lexer skips between tokens: space, tab, carriage
/// return (a line break is a token).
#[inline(always)]
pub(crate) fn is_space(b: u8) -> bool {
    CLASS[b as usize] == SPACE
}

/// True for the bytes that start an ASCII name: a letter or `_`.
#[inline(always)]
pub(crate) fn is_ascii_name_start(b: u8) -> bool {
    CLASS[b as usize] == NAME_START
}

/// The end of the ASCII name that starts at `start` (with a letter or `_`),
/// or `None` when it goes on in non-ASCII letters (`xσ`), which only the
/// lexer's slow path reads.
#[inline(always)]
pub(crate) fn ascii_name_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut end = start + 1;
    while let Some(&c) = bytes.get(end)
        && CLASS[c as usize] >= NAME_START
    {
        end += 1;
    }
    bytes.get(end).is_none_or(u8::is_ascii).then_some(end)
}

/// The end of the plain decimal (`3`, `0.25`, `12.`) that starts at `start`
/// (with a digit), or `None` for anything more (an exponent, a second `.`, a
/// letter or non-ASCII text glued on), which only the lexer's slow path
/// reads, and reports if it is wrong.
#[inline(always)]
pub(crate) fn plain_number_end(bytes: &[u8], start: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    let mut end = digits(start + 1);
    if bytes.get(end) == Some(&b'.') {
        end = digits(end + 1);
    }
    match bytes.get(end) {
        Some(&c)
            if c == b'.'
                || c == b'e'
                || c == b'E'
                || CLASS[c as usize] >= NAME_START
                || !c.is_ascii() =>
        {
            None
        }
        _ => Some(end),
    }
}

/// The token of each one-byte punctuation mark (`*` alone; `**` is looked
/// for apart); [`Tok::Eof`] for every other byte.
static PUNCT_TOK: [Tok; 256] = {
    let mut t = [Tok::Eof; 256];
    t[b'+' as usize] = Tok::Plus;
    t[b'-' as usize] = Tok::Minus;
    t[b'*' as usize] = Tok::Star;
    t[b'/' as usize] = Tok::Slash;
    t[b'@' as usize] = Tok::Dot;
    t[b'^' as usize] = Tok::Caret;
    t[b'(' as usize] = Tok::LParen;
    t[b')' as usize] = Tok::RParen;
    t[b'[' as usize] = Tok::LBrack;
    t[b']' as usize] = Tok::RBrack;
    t[b',' as usize] = Tok::Comma;
    t[b';' as usize] = Tok::Semi;
    t[b'\n' as usize] = Tok::Newline;
    t[b'=' as usize] = Tok::Eq;
    t
};

/// The tokens of a text, one at a time: the parser pulls them as it goes, so a
/// million-stage program never holds its whole token list.
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    src: &'a str,
    /// The byte where the next token (or the space before it) starts.
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    /// A lexer at byte `pos` of `src` (a character boundary, or the end).
    pub fn at(src: &'a str, pos: usize) -> Lexer<'a> {
        Lexer {
            src,
            pos: pos.min(src.len()),
        }
    }

    /// The next token; [`Tok::Eof`] at the end, again and again.
    ///
    /// Split in two for speed: ASCII names, punctuation and spaces (nearly
    /// every byte of a generated program) are recognised here, byte by byte;
    /// numbers, non-ASCII text and errors go to `Lexer::other`.
    #[inline]
    pub fn next_token(&mut self) -> Result<Token> {
        let bytes = self.src.as_bytes();
        let mut start = self.pos;
        while let Some(&b) = bytes.get(start)
            && CLASS[b as usize] == SPACE
        {
            start += 1;
        }
        let Some(&b) = bytes.get(start) else {
            self.pos = start;
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let (end, tok) = match CLASS[b as usize] {
            // A name that goes on in non-ASCII letters (`xσ`) takes the slow path.
            NAME_START => match ascii_name_end(bytes, start) {
                Some(end) => (end, Tok::Name),
                None => return self.other(start),
            },
            // A plain decimal (`3`, `0.25`, `12.`): what generated programs are
            // full of. Exponents, `.5`, and anything glued on go the long way.
            NAME_DIGIT => match plain_number_end(bytes, start) {
                Some(end) => (end, Tok::Num),
                None => return self.other(start),
            },
            PUNCT if b == b'*' && bytes.get(start + 1) == Some(&b'*') => (start + 2, Tok::Caret),
            PUNCT => (start + 1, PUNCT_TOK[b as usize]),
            _ => return self.other(start),
        };
        self.pos = end;
        // Spans are 32-bit: a text past 4 GiB has its offsets clamped by `Span::new`.
        let span = if end <= u32::MAX as usize {
            Span {
                start: start as u32,
                end: end as u32,
            }
        } else {
            Span::new(start, end)
        };
        Ok(Token { tok, span })
    }

    /// Lexes tokens into `out` from its start, up to its end or a [`Tok::Eof`],
    /// whichever comes first: how many it wrote, and the error that stopped
    /// it early, if one did (the tokens before it are written).
    ///
    /// The same tokens as [`Lexer::next_token`] called again and again, with
    /// its commonest tokens (ASCII names and one-byte punctuation) recognised
    /// in this loop: a parser that takes its tokens a window at a time then
    /// spends about 53 instructions a token, where calling `next_token` for
    /// each and shifting its tokens along took about 85.
    pub fn fill(&mut self, out: &mut [Token]) -> (usize, Result<()>) {
        let bytes = self.src.as_bytes();
        // Spans are 32-bit: a text past 4 GiB takes `next_token`, which clamps.
        let short = bytes.len() <= u32::MAX as usize;
        let mut n = 0;
        while n < out.len() {
            let mut pos = self.pos;
            while let Some(&b) = bytes.get(pos)
                && CLASS[b as usize] == SPACE
            {
                pos += 1;
            }
            let start = pos;
            let quick = match bytes.get(pos) {
                // A name that goes on in non-ASCII letters is `next_token`'s.
                Some(&b) if short && CLASS[b as usize] == NAME_START => ascii_name_end(bytes, pos)
                    .map(|end| {
                        pos = end;
                        Tok::Name
                    }),
                Some(&b)
                    if short
                        && CLASS[b as usize] == PUNCT
                        && !(b == b'*' && bytes.get(pos + 1) == Some(&b'*')) =>
                {
                    pos += 1;
                    Some(PUNCT_TOK[b as usize])
                }
                _ => None,
            };
            let t = match quick {
                Some(tok) => {
                    self.pos = pos;
                    Token {
                        tok,
                        span: Span {
                            start: start as u32,
                            end: pos as u32,
                        },
                    }
                }
                None => match self.next_token() {
                    Ok(t) => t,
                    Err(e) => return (n, Err(e)),
                },
            };
            out[n] = t;
            n += 1;
            if t.tok == Tok::Eof {
                break;
            }
        }
        (n, Ok(()))
    }

    /// Everything but the common case: byte-order marks and comments (then
    /// the next token), numbers, non-ASCII names and operators, errors.
    #[inline(never)]
    fn other(&mut self, mut start: usize) -> Result<Token> {
        let src = self.src;
        let bytes = src.as_bytes();
        loop {
            match bytes.get(start) {
                Some(b' ' | b'\t' | b'\r') => start += 1,
                Some(0xEF) if bytes[start..].starts_with("\u{feff}".as_bytes()) => start += 3,
                Some(b'#') => {
                    start = bytes[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |n| start + n);
                }
                _ => break,
            }
        }
        if start != self.pos
            && !bytes
                .get(start)
                .is_some_and(|&b| b >= 0x80 || b.is_ascii_digit() || b == b'.')
        {
            // Only space and comments were skipped: the rest is the common case.
            self.pos = start;
            return self.next_token();
        }
        let rest = &src[start..];
        if rest.is_empty() {
            self.pos = start;
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        }
        let (next, tok) = if let Ok((next, text)) = number(rest) {
            // A letter glued to a number is a missing operator, or a malformed
            // exponent: say which instead of a vague "expected an operator".
            if let Some(c) = next.chars().next().filter(|&c| is_name_char(c) || c == '.') {
                let here = src.len() - next.len();
                let e = if matches!(c, 'e' | 'E') {
                    Error::syntax(
                        Span::new(start, here + 1),
                        "malformed number: the exponent has no digits",
                    )
                    .label("an exponent needs digits, as in `1e-3`")
                } else if c == '.' {
                    // `1.2.3`: a second decimal point, not a product.
                    Error::syntax(
                        Span::new(here, here + 1),
                        format!("malformed number: a second `.` after `{text}`"),
                    )
                    .label("a number has at most one decimal point")
                } else {
                    Error::syntax(
                        Span::new(here, here + c.len_utf8()),
                        format!("expected an operator after the number `{text}`"),
                    )
                    .label("a name cannot follow a number directly")
                    .help(format!("write `{text}*{c}…` for a product"))
                };
                return Err(e);
            }
            (next, Tok::Num)
        } else if let Ok((next, _)) = name(rest) {
            (next, Tok::Name)
        } else if let Ok((next, t)) = punct(rest) {
            (next, t)
        } else {
            let c = rest.chars().next().unwrap_or('\0');
            let shown = if c.is_control() || c.is_whitespace() {
                format!("{:?}", c).trim_matches('\'').to_string()
            } else {
                c.to_string()
            };
            return Err(Error::syntax(
                Span::new(start, start + c.len_utf8()),
                format!("unexpected character `{shown}`"),
            )
            .label("not part of the language")
            .help("operators are + - * / ^ ** · @; names are letters, digits and _"));
        };
        let end = src.len() - next.len();
        self.pos = end;
        Ok(Token {
            tok,
            span: Span::new(start, end),
        })
    }
}

#[cfg(test)]
mod tests;
