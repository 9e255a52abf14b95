//! The words of a session's commands: which options are commands, their names,
//! clap's messages without usage, `--at` split at its top-level commas, and
//! shell quoting for the equivalent command line.

use super::NOT_COMMANDS;
use crate::cli::Cli;
use clap::{Arg, CommandFactory};

/// The options that are commands: every long option but [`NOT_COMMANDS`].
pub(super) fn options() -> Vec<Arg> {
    Cli::command()
        .get_arguments()
        .filter(|a| a.get_long().is_some_and(|l| !NOT_COMMANDS.contains(&l)))
        .cloned()
        .collect()
}

pub(super) fn long(arg: &Arg) -> String {
    arg.get_long().unwrap_or_default().to_string()
}

pub(super) fn is_flag(arg: &Arg) -> bool {
    !arg.get_action().takes_values()
}

/// clap's message without its usage block: in a session there is no command
/// line to correct, only the last command.
pub(super) fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut out = String::new();
    for line in text.lines().take_while(|l| !l.trim().is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Splits an `--at` argument at commas outside brackets, as
/// [`crate::input::parse_assignments`] does.
pub(super) fn top_level_pieces(arg: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in arg.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                pieces.push(&arg[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&arg[start..]);
    pieces
}

/// Quotes a word for a POSIX shell when it needs it.
pub(super) fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+=,./:@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
