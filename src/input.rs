//! Values given on the command line: `--at x=3,v=[1, 2],M=[[1, 2], [3, 4]]`
//! and `--grad 2`. Errors point into the argument itself, with a caret.

use crate::error::{Error, ErrorKind, Result, Span};
use crate::syntax::lexer::{is_name_char, is_name_start};
use crate::value::Value;
use ndarray::{Array1, Array2};

/// One `NAME=VALUE` of an `--at` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The parameter's name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// The whole `--at` argument it came from, for error messages; shared by
    /// the assignments of one argument (an unrolled model passes thousands of
    /// values in one, and a copy each took a gigabyte).
    pub source: std::sync::Arc<str>,
    /// Where the name sits in that argument.
    pub span: Span,
}

fn usage(src: &str, span: Span, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Usage, message)
        .at(span)
        .with_source("--at", src)
}

/// Parses one `--at` argument: `NAME=VALUE` pairs separated by commas outside brackets.
///
/// ```
/// let a = gradexplain::input::parse_assignments("x=3,v=[1, 2]").unwrap();
/// assert_eq!(a[0].name, "x");
/// assert_eq!(a[1].value.shape(), gradexplain::Shape::Vector(2));
/// ```
pub fn parse_assignments(arg: &str) -> Result<Vec<Assignment>> {
    let mut out = Vec::new();
    let shared: std::sync::Arc<str> = arg.into();
    let mut depth = 0i32;
    let mut start = 0;
    let mut pieces = Vec::new();
    for (i, c) in arg.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                pieces.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((start, arg.len()));
    for (s, e) in pieces {
        let piece = &arg[s..e];
        let lead = piece.len() - piece.trim_start().len();
        let piece_t = piece.trim();
        let ps = s + lead;
        if piece_t.is_empty() {
            return Err(usage(
                arg,
                Span::new(s, e.max(s + 1).min(arg.len())),
                "malformed --at value: an empty assignment",
            )
            .label("expected `NAME=VALUE` here")
            .help("write --at x=3,y=-4"));
        }
        let Some(eq) = piece_t.find('=') else {
            return Err(usage(
                arg,
                Span::new(ps, ps + piece_t.len()),
                format!("malformed --at value `{piece_t}`: expected `NAME=VALUE`"),
            )
            .label("no `=` here")
            .help("write --at x=3,y=-4"));
        };
        let name = piece_t[..eq].trim_end();
        let valid =
            name.chars().next().is_some_and(is_name_start) && name.chars().all(is_name_char);
        if !valid {
            return Err(usage(
                arg,
                Span::new(ps, ps + eq.max(1)),
                format!("malformed --at value: `{name}` is not a name"),
            )
            .label("a name is a letter or `_`, then letters, digits and `_`"));
        }
        let vstart = ps + eq + 1;
        let vend = ps + piece_t.len();
        let value = match arg[vstart..vend].trim_start().strip_prefix('@') {
            Some(path) => read_file(arg, Span::new(vstart, vend), name, path.trim())?,
            None => parse_value_at(arg, vstart, vend)?,
        };
        out.push(Assignment {
            name: name.to_string(),
            value,
            source: shared.clone(),
            span: Span::new(ps, ps + name.len()),
        });
    }
    Ok(out)
}

/// `--at NAME=@FILE`: a value from a `.npy` or `.json` file (see [`crate::datafile`]).
/// An unreadable file is an I/O error (exit 1); a file that holds no value the
/// tool takes is a malformed `--at` value (exit 2).
fn read_file(arg: &str, span: Span, name: &str, path: &str) -> Result<Value> {
    use crate::datafile::{FileError, read};
    if path.is_empty() {
        return Err(
            usage(arg, span, "malformed --at value: `@` needs a file name")
                .label("expected `@FILE` here")
                .help("write --at W=@weights.npy"),
        );
    }
    read(std::path::Path::new(path)).map_err(|e| match e {
        FileError::Unreadable(why) => Error::new(
            ErrorKind::Io,
            format!("cannot read `{path}` for `{name}`: {why}"),
        )
        .at(span)
        .with_source("--at", arg)
        .label("this file"),
        FileError::Malformed(why) => usage(
            arg,
            span,
            format!("malformed --at value: `{path}` for `{name}`: {why}"),
        )
        .label("this file")
        .help("a file holds a number, a vector or a matrix: numpy's .npy, or JSON like [[1, 2], [3, 4]]"),
    })
}

/// Parses a value as `--grad` takes it: `2`, `[1, 2]`, `[[1, 0], [0, 1]]`.
///
/// Like `--at`, it also takes `@FILE`.
pub fn parse_grad(arg: &str) -> Result<Value> {
    let parsed = match arg.trim_start().strip_prefix('@') {
        Some(path) => read_file(arg, Span::new(0, arg.len()), "grad", path.trim()),
        None => parse_value_at(arg, 0, arg.len()),
    };
    parsed.map_err(|mut e| {
        e.message = e.message.replace("--at value", "--grad value");
        e.source = Some(Box::new(("--grad".into(), arg.to_string())));
        e
    })
}

/// Parses the value in `src[start..end]`: a number, a vector or a matrix.
fn parse_value_at(src: &str, start: usize, end: usize) -> Result<Value> {
    let mut p = ValueParser {
        src,
        pos: start,
        end,
    };
    p.ws();
    let v = if p.peek() == Some('[') {
        p.tensor()?
    } else {
        Value::Scalar(p.number()?)
    };
    p.ws();
    if p.pos < p.end {
        return Err(p.err(
            "malformed --at value: unexpected text after the value",
            "unexpected",
        ));
    }
    Ok(v)
}

struct ValueParser<'a> {
    src: &'a str,
    pos: usize,
    end: usize,
}

impl ValueParser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..self.end].chars().next()
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
    }

    fn err(&self, message: &str, label: &str) -> Error {
        let w = self.peek().map_or(0, char::len_utf8);
        usage(self.src, Span::new(self.pos, self.pos + w), message).label(label.to_string())
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// `-4.5`, `1e-3`, `.5`, `inf`; `nan` is refused: it has no gradient to explain.
    fn number(&mut self) -> Result<f64> {
        self.ws();
        let rest = &self.src[self.pos..self.end];
        let len = rest
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphanumeric()
                    || c == '.'
                    || ((c == '-' || c == '+') && (i == 0 || rest[..i].ends_with(['e', 'E']))))
            })
            .map_or(rest.len(), |(i, _)| i);
        let text = &rest[..len];
        let body = text.trim_start_matches(['+', '-']);
        let numeric = !body.is_empty()
            && body
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_digit() || b == b'.')
            && text.parse::<f64>().is_ok();
        let special = matches!(body.to_ascii_lowercase().as_str(), "inf" | "infinity");
        if !(numeric || special) {
            let shown = if text.is_empty() {
                rest.chars().next().map(String::from).unwrap_or_default()
            } else {
                text.to_string()
            };
            let what = if shown.is_empty() {
                "nothing".to_string()
            } else {
                format!("`{shown}`")
            };
            return Err(self.err(&format!("malformed --at value: expected a number, found {what}"), "expected a number here")
                .help("a value is a number (3, -4.5, 1e-3), a vector [1, 2, 3] or a matrix [[1, 2], [3, 4]]"));
        }
        self.pos += len;
        Ok(text.parse::<f64>().unwrap_or(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }))
    }

    /// `[1, 2, 3]` or `[[1, 2], [3, 4]]`; nothing deeper, so no recursion is needed.
    fn tensor(&mut self) -> Result<Value> {
        let open = self.pos;
        self.eat('[');
        self.ws();
        if self.peek() == Some('[') {
            let mut rows: Vec<Vec<f64>> = Vec::new();
            loop {
                self.ws();
                let row_start = self.pos;
                if !self.eat('[') {
                    return Err(self.err(
                        "malformed --at value: expected `[` to start a matrix row",
                        "expected a row here",
                    ));
                }
                if self.peek() == Some('[') {
                    return Err(self.err("malformed --at value: only vectors and matrices are supported, not deeper arrays", "a third level of brackets"));
                }
                let row = self.numbers(']')?;
                if row.is_empty() {
                    return Err(usage(
                        self.src,
                        Span::new(row_start, self.pos),
                        "malformed --at value: an empty matrix row",
                    )
                    .label("a row needs at least one element"));
                }
                if let Some(first) = rows.first().filter(|f| f.len() != row.len()) {
                    return Err(usage(
                        self.src,
                        Span::new(row_start, self.pos),
                        format!(
                            "malformed --at value: matrix rows differ in length ({} and {})",
                            first.len(),
                            row.len()
                        ),
                    )
                    .label("this row"));
                }
                rows.push(row);
                if self.eat(',') {
                    continue;
                }
                if self.eat(']') {
                    break;
                }
                return Err(self.err(
                    "malformed --at value: expected `,` or `]` after a matrix row",
                    "here",
                ));
            }
            let (r, c) = (rows.len(), rows[0].len());
            let flat: Vec<f64> = rows.into_iter().flatten().collect();
            let m = Array2::from_shape_vec((r, c), flat)
                .map_err(|_| self.err("malformed matrix", "here"))?;
            Ok(m.into())
        } else {
            let items = self.numbers(']')?;
            if items.is_empty() {
                return Err(usage(
                    self.src,
                    Span::new(open, self.pos),
                    "malformed --at value: an empty vector",
                )
                .label("a vector needs at least one element"));
            }
            Ok(Array1::from(items).into())
        }
    }

    /// Numbers separated by commas, up to and including `close`; at least one.
    fn numbers(&mut self, close: char) -> Result<Vec<f64>> {
        let mut items = Vec::new();
        self.ws();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.number()?);
            if self.eat(',') {
                continue;
            }
            if self.eat(close) {
                return Ok(items);
            }
            self.ws();
            return Err(self.err(
                &format!("malformed --at value: expected `,` or `{close}`"),
                "here",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_vectors_matrices() {
        let a = parse_assignments("x=3,y=-4.5, v=[1, 2,3],M=[[1, 2], [3, 4]],z=1e-3,w=.5").unwrap();
        let names: Vec<_> = a.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["x", "y", "v", "M", "z", "w"]);
        assert_eq!(a[1].value, Value::Scalar(-4.5));
        assert_eq!(a[3].value, ndarray::array![[1.0, 2.0], [3.0, 4.0]].into());
        assert_eq!(parse_grad("-2").unwrap(), Value::Scalar(-2.0));
        assert_eq!(parse_assignments("σ=2").unwrap()[0].name, "σ");
    }

    #[test]
    fn malformed_values_are_usage_errors_with_a_place() {
        for bad in [
            "x",
            "x=",
            "x=abc",
            "=3",
            "x=3,",
            "x=[1,2",
            "x=[[1,2],[3]]",
            "x=[[[1]]]",
            "x=[[]]",
            "x=[[1],[]]",
            "x=[]",
            "x=3 4",
            "1x=2",
            "x=nan",
            "x=1e",
        ] {
            let e = parse_assignments(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Usage, "{bad}");
            assert!(
                e.message.starts_with("malformed --at value"),
                "{bad}: {}",
                e.message
            );
            assert!(e.span.is_some() && e.source.is_some(), "{bad}");
        }
        assert!(parse_grad("two").unwrap_err().message.contains("--grad"));
    }
}
