//! Tab completion: `:commands`, the values of `:format` and friends, and
//! file names after `:load`, `:svg`, ….

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Result};

/// rustyline's helper: completion only.
#[derive(Default)]
pub struct Helper {
    files: FilenameCompleter,
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let Some(rest) = before.strip_prefix(':') else {
            return Ok((pos, Vec::new()));
        };
        let pair = |s: String| Pair {
            display: s.clone(),
            replacement: s,
        };
        let Some((name, arg)) = rest.split_once(' ') else {
            let mut names: Vec<String> = ["at", "help", "load", "quit", "reset", "show", "unset"]
                .into_iter()
                .map(String::from)
                .chain(super::options().iter().map(super::long))
                .filter(|n| n.starts_with(rest))
                .collect();
            names.sort();
            names.dedup();
            return Ok((1, names.into_iter().map(pair).collect()));
        };
        let spec = super::options()
            .into_iter()
            .find(|a| super::long(a) == name);
        let values: Vec<String> = spec
            .map(|a| a.get_possible_values())
            .unwrap_or_default()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() {
            let start = pos - arg.len();
            let hits = values.into_iter().filter(|v| v.starts_with(arg));
            return Ok((start, hits.map(pair).collect()));
        }
        if name == "load" || name == "file" {
            return self.files.complete(line, pos, ctx);
        }
        if name == "unset" {
            let start = pos - arg.len();
            let names = super::options().iter().map(super::long).collect::<Vec<_>>();
            let hits = names.into_iter().filter(|n| n.starts_with(arg));
            return Ok((start, hits.map(pair).collect()));
        }
        let takes_path = super::options().iter().any(|a| {
            super::long(a) == name
                && a.get_value_names()
                    .and_then(|n| n.first())
                    .is_some_and(|n| n.as_str() == "FILE" || n.as_str() == "DIR")
        });
        if takes_path {
            return self.files.complete(line, pos, ctx);
        }
        Ok((pos, Vec::new()))
    }
}

impl Hinter for Helper {
    type Hint = String;
}
impl Highlighter for Helper {}
impl Validator for Helper {}
impl rustyline::Helper for Helper {}
