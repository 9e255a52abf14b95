//! The interactive mode: `gradexplain` with no program on a terminal. A student
//! types a program, then `:at x=3,y=-4`, `:grad 2`, `:format json`, … and sees
//! the explanation again after every change.
//!
//! A [`Session`] holds the program and the options as they would be written on
//! the command line, and turns them into a [`Cli`] through the same clap parser
//! the binary uses, then renders through [`app::render`]. So every option of the
//! command line is a command here (`:NAME VALUE`, `:FLAG`), including those that
//! later versions add, and an option means the same in both places.
//!
//! [`Session::handle`] takes one line and returns what to print; it never reads
//! or writes a terminal, so the tests drive it line by line. [`main`] is the
//! thin loop around it with rustyline's history and line editing.

use crate::app;
use crate::cli::{self, Cli};
use crate::error::{Error, ErrorKind};
use crate::generate::REPL_COMMANDS;
use crate::input::parse_assignments;
use clap::CommandFactory;
use clap::parser::ValueSource;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

/// Options that are not commands of the session: the program comes from the
/// lines themselves (`:load` reads a file), and these act once.
const NOT_COMMANDS: &[&str] = &["file", "generate", "help", "version"];

/// Whether to open the interactive mode: no program, no file, nothing to
/// generate, and a person at standard input.
pub fn wanted(cli: &Cli) -> bool {
    cli.program.is_none()
        && cli.file.is_none()
        && cli.generate.is_none()
        && std::io::stdin().is_terminal()
}

/// What one line of input produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// For standard output: the explanation, a listing.
    pub out: String,
    /// For standard error: errors and notes.
    pub err: String,
    /// The session is over.
    pub quit: bool,
}

impl Reply {
    fn out(s: impl Into<String>) -> Reply {
        Reply {
            out: s.into(),
            ..Reply::default()
        }
    }

    fn err(s: impl Into<String>) -> Reply {
        Reply {
            err: s.into(),
            ..Reply::default()
        }
    }
}

/// An option as it is set: its long name and its value (`None`: a flag).
#[derive(Clone, Debug, PartialEq)]
struct Setting {
    name: String,
    value: Option<String>,
}

/// A session's state: the program and the options, as command-line text.
///
/// ```
/// use gradexplain::repl::Session;
/// let mut s = Session::new(["gradexplain", "--color", "never"]).unwrap();
/// s.handle("f(x,y) = x*y");
/// s.handle(":grad 2");
/// let reply = s.handle(":at x=3,y=-4");
/// assert!(reply.out.contains("dx = -8"), "{}", reply.out);
/// assert!(s.handle(":quit").quit);
/// ```
#[derive(Clone, Debug)]
pub struct Session {
    program: Option<String>,
    /// Every option but `--at`, in the order first given.
    settings: Vec<Setting>,
    /// `--at` values by name, as `(name, "name=value")`, so that a later
    /// `:at x=5` changes `x` and keeps the others.
    at: Vec<(String, String)>,
    /// Lines ended with `\`, waiting for the rest of the program.
    pending: String,
    /// The file the program was loaded from (`:load`), which no output may
    /// replace, as `-f`'s may not.
    file: Option<std::path::PathBuf>,
}

impl Session {
    /// A session that starts from a command line (the program's name first):
    /// `gradexplain --at x=3,y=-4` starts with those values set.
    pub fn new<I, T>(args: I) -> Result<Session, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = Cli::command()
            .try_get_matches_from(args)
            .map_err(|e| clap_message(&e))?;
        let mut s = Session {
            program: None,
            file: None,
            settings: Vec::new(),
            at: Vec::new(),
            pending: String::new(),
        };
        for arg in options() {
            let id = arg.get_id().as_str();
            if matches.value_source(id) != Some(ValueSource::CommandLine) {
                continue;
            }
            let name = long(&arg);
            if is_flag(&arg) {
                if matches.get_flag(id) {
                    s.set(&name, None);
                }
                continue;
            }
            let raw: Vec<String> = matches
                .get_raw(id)
                .into_iter()
                .flatten()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if name == "at" {
                for v in &raw {
                    s.merge_at(v).map_err(|e| e.render(false))?;
                }
            } else if let Some(v) = raw.last() {
                s.set(&name, Some(v.clone()));
            }
        }
        Ok(s)
    }

    /// Whether a line ended with `\` and the program goes on.
    pub fn continuing(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Forgets a half-typed program (Ctrl-C).
    pub fn cancel(&mut self) {
        self.pending.clear();
    }

    /// Handles one line: a program, or a `:command`. Errors are part of the
    /// reply; the session goes on.
    pub fn handle(&mut self, line: &str) -> Reply {
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(head) = line.strip_suffix('\\') {
            self.pending.push_str(head);
            self.pending.push('\n');
            return Reply::default();
        }
        if self.continuing() {
            let program = std::mem::take(&mut self.pending) + line;
            return self.set_program(program, None);
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Reply::default();
        }
        match trimmed.strip_prefix(':') {
            Some(command) => self.command(command.trim()),
            None => self.set_program(line.to_string(), None),
        }
    }

    fn command(&mut self, command: &str) -> Reply {
        let (name, arg) = match command.split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (command, ""),
        };
        let arg = (!arg.is_empty()).then_some(arg);
        match (name, arg) {
            ("q" | "quit" | "exit", _) => Reply {
                quit: true,
                ..Reply::default()
            },
            ("h" | "help" | "?", _) => Reply::out(help()),
            ("show", _) => Reply::out(self.command_line() + "\n"),
            ("reset", _) => {
                self.program = None;
                self.file = None;
                self.at.clear();
                self.settings.retain(|s| s.name == "color");
                Reply::out("forgot the program and the options\n")
            }
            ("load" | "file", Some(path)) => match crate::limits::read_file(path.as_ref()) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        self.set_program(text, Some(std::path::PathBuf::from(path.to_string())))
                    }
                    Err(_) => Reply::err(self.render_error(&Error::new(
                        ErrorKind::Syntax,
                        format!("`{path}` is not valid UTF-8 text"),
                    ))),
                },
                Err(e) => Reply::err(self.render_error(&Error::new(
                    ErrorKind::Io,
                    format!("cannot read `{path}`: {}", crate::limits::reason(&e)),
                ))),
            },
            ("unset", Some(option)) => self.unset(option),
            ("at", None) => Reply::out(if self.at.is_empty() {
                "no values: the explanation is symbolic\n".to_string()
            } else {
                format!("{}\n", self.at_arg())
            }),
            ("at", Some(values)) => {
                let before = self.at.clone();
                if let Err(e) = self.merge_at(values) {
                    self.at = before;
                    return Reply::err(self.render_error(&e));
                }
                self.update(|s| s.at = before)
            }
            (name, arg) => self.option(name, arg),
        }
    }

    /// `:NAME VALUE` or `:FLAG [on|off]`: any option of the command line.
    fn option(&mut self, name: &str, arg: Option<&str>) -> Reply {
        let Some(spec) = options().into_iter().find(|a| long(a) == name) else {
            let hint = match name {
                "load" | "file" | "unset" => format!("`:{name}` needs an argument"),
                _ => format!("unknown command `:{name}`: type :help for the list"),
            };
            return Reply::err(self.render_error(&Error::new(ErrorKind::Usage, hint)));
        };
        let value = if is_flag(&spec) {
            match arg {
                None | Some("on" | "true" | "yes") => None,
                Some("off" | "false" | "no") => return self.unset(name),
                Some(other) => {
                    return Reply::err(self.render_error(&Error::new(
                        ErrorKind::Usage,
                        format!(
                            "`:{name}` is a switch: write `:{name}` or `:{name} off`, not `{other}`"
                        ),
                    )));
                }
            }
        } else {
            match arg {
                Some(v) => Some(v.to_string()),
                None => {
                    let current = self
                        .settings
                        .iter()
                        .find(|s| s.name == name)
                        .and_then(|s| s.value.clone())
                        .or_else(|| {
                            spec.get_default_values()
                                .first()
                                .map(|v| v.to_string_lossy().into_owned())
                        })
                        .unwrap_or_else(|| "not set".into());
                    return Reply::out(format!("{name}: {current}\n"));
                }
            }
        };
        let before = self.settings.clone();
        self.set(name, value);
        if let Err(message) = self.cli() {
            self.settings = before;
            return Reply::err(message);
        }
        self.update(|s| s.settings = before)
    }

    fn unset(&mut self, name: &str) -> Reply {
        let name = name.trim_start_matches("--");
        if name == "at" {
            self.at.clear();
        } else if self.settings.iter().any(|s| s.name == name) {
            self.settings.retain(|s| s.name != name);
        } else {
            return Reply::out(format!("{name} is not set\n"));
        }
        self.update(|_| {})
    }

    fn set(&mut self, name: &str, value: Option<String>) {
        match self.settings.iter_mut().find(|s| s.name == name) {
            Some(s) => s.value = value,
            None => self.settings.push(Setting {
                name: name.to_string(),
                value,
            }),
        }
    }

    /// Adds `--at` values; a name given before takes its new value.
    fn merge_at(&mut self, arg: &str) -> Result<(), Error> {
        let parsed = parse_assignments(arg)?;
        for (a, piece) in parsed.iter().zip(top_level_pieces(arg)) {
            let piece = piece.trim().to_string();
            match self.at.iter_mut().find(|(n, _)| *n == a.name) {
                Some(slot) => slot.1 = piece,
                None => self.at.push((a.name.clone(), piece)),
            }
        }
        Ok(())
    }

    /// A new program, typed (`file` is `None`) or loaded from `file`.
    fn set_program(&mut self, program: String, file: Option<std::path::PathBuf>) -> Reply {
        // Parse first: a program with a syntax error leaves the old one in place.
        let params: Vec<String> = match crate::Analysis::new(&program) {
            Ok(a) => a.circuit.params.iter().map(|p| p.name.clone()).collect(),
            Err(e) => return Reply::err(self.render_error(&e)),
        };
        self.program = Some(program);
        self.file = file;
        // Values of the previous program's parameters that this one lacks
        // would only stop it: let them go, and say so.
        let (keep, drop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.at)
            .into_iter()
            .partition(|(n, _)| params.contains(n));
        self.at = keep;
        let mut reply = self.update(|_| {});
        if !drop.is_empty() {
            let names: Vec<&str> = drop.iter().map(|(n, _)| n.as_str()).collect();
            reply.err.push_str(&format!(
                "note: dropped the values of {}: not parameters of this program\n",
                names.join(", ")
            ));
        }
        reply
    }

    /// Renders after a change. A malformed option (a usage error) or a file
    /// that cannot be read or written undoes the change with `undo`; an
    /// evaluation error keeps it, since it may be a step on the way (`:at x=3`
    /// before `:at y=-4`).
    fn update(&mut self, undo: impl FnOnce(&mut Session)) -> Reply {
        let Some(program) = self.program.clone() else {
            return Reply::out("no program yet: type one, e.g. f(x,y) = x*y\n");
        };
        let cli = match self.cli() {
            Ok(cli) => cli,
            Err(message) => {
                undo(self);
                return Reply::err(message);
            }
        };
        let started = SystemTime::now();
        match app::render(&program, &cli) {
            Ok(out) => {
                let mut reply = Reply::out(out);
                reply.err = self.unwritten_files(started);
                reply
            }
            Err(e) => {
                let rendered = self.render_error(&e);
                // A file that cannot be read or written is the change's fault
                // as much as a malformed option: kept, it would fail every
                // command after it.
                if matches!(e.kind, ErrorKind::Usage | ErrorKind::Io) {
                    undo(self);
                    return Reply::err(rendered + "the last change was undone\n");
                }
                Reply::err(rendered)
            }
        }
    }

    /// The options as a command line, parsed by the binary's own parser.
    fn cli(&self) -> Result<Cli, String> {
        let mut cli = cli::parse_from(self.args()).map_err(|e| clap_message(&e))?;
        cli.file = self.file.clone();
        Ok(cli)
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["gradexplain".to_string()];
        if !self.at.is_empty() {
            args.push("--at".into());
            args.push(self.at_arg());
        }
        for s in &self.settings {
            args.push(format!("--{}", s.name));
            args.extend(s.value.clone());
        }
        args
    }

    fn at_arg(&self) -> String {
        let pieces: Vec<&str> = self.at.iter().map(|(_, p)| p.as_str()).collect();
        pieces.join(",")
    }

    /// The session as one command line, to paste into a shell.
    fn command_line(&self) -> String {
        let mut words = vec!["gradexplain".to_string()];
        match &self.program {
            Some(p) => words.push(shell_quote(p)),
            None => words.push("PROGRAM".into()),
        }
        words.extend(self.args().iter().skip(1).map(|a| shell_quote(a)));
        words.join(" ")
    }

    /// Notes for file options (`:svg f.svg`) that the render did not write: a
    /// build without the diagrams accepts the option but cannot honour it.
    fn unwritten_files(&self, since: SystemTime) -> String {
        let specs = options();
        let mut notes = String::new();
        for s in &self.settings {
            let Some(path) = &s.value else { continue };
            let Some(spec) = specs.iter().find(|a| long(a) == s.name) else {
                continue;
            };
            let is_dir = match spec.get_value_names().and_then(|n| n.first()) {
                Some(n) if n.as_str() == "FILE" => false,
                Some(n) if n.as_str() == "DIR" => true,
                _ => continue,
            };
            if !written_since(Path::new(path), is_dir, since) {
                notes.push_str(&format!(
                    "note: --{} is not available in this build: nothing was written to {path}\n",
                    s.name
                ));
            }
        }
        notes
    }

    fn render_error(&self, e: &Error) -> String {
        let color = self
            .cli()
            .map(|c| c.color.enabled(std::io::stderr().is_terminal()))
            .unwrap_or(false);
        e.render(color)
    }
}

fn written_since(path: &Path, is_dir: bool, since: SystemTime) -> bool {
    // A file's time comes from the kernel's coarse clock, which lags the
    // precise one by up to a tick: a file written just after `since` may be
    // stamped a few milliseconds before it (a `:dot` alone, written fast, was
    // reported as never written).
    let since = since - std::time::Duration::from_millis(100);
    let fresh = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since)
    };
    if !is_dir {
        return fresh(path);
    }
    std::fs::read_dir(path).is_ok_and(|entries| entries.flatten().any(|e| fresh(&e.path())))
}

fn help() -> String {
    let width = REPL_COMMANDS.iter().map(|(c, _)| c.chars().count()).max();
    let width = width.unwrap_or(0);
    let mut out = String::from("Type a program, then set values and options:\n");
    for (cmd, what) in REPL_COMMANDS {
        out.push_str(&format!("  {cmd:width$}  {what}\n"));
    }
    out.push_str("End a line with \\ to continue the program on the next line.\n");
    out
}

/// Where the history is kept: `GRADEXPLAIN_HISTORY` (empty: nowhere), or
/// `~/.gradexplain_history`.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("GRADEXPLAIN_HISTORY") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| Path::new(&h).join(".gradexplain_history")),
    }
}

/// Runs the interactive mode on the terminal until `:quit` or Ctrl-D. `args`
/// is the command line, whose options the session starts with.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    use rustyline::error::ReadlineError;
    let mut session = match Session::new(args) {
        Ok(s) => s,
        Err(message) => {
            write_to(std::io::stderr(), &message);
            return ExitCode::from(2);
        }
    };
    let mut editor = match rustyline::Editor::<completion::Helper, _>::new() {
        Ok(e) => e,
        Err(e) => {
            write_to(
                std::io::stderr(),
                &format!("error: cannot open the prompt: {e}\n"),
            );
            return ExitCode::from(1);
        }
    };
    editor.set_helper(Some(completion::Helper::default()));
    let history = history_path();
    if let Some(path) = &history {
        // No history yet is the usual first run, not an error.
        let _ = editor.load_history(path);
    }
    write_to(
        std::io::stdout(),
        &format!(
            "gradexplain {} — type a program, e.g. f(x,y) = x*y, then :at x=3,y=-4 (:help, :quit)\n",
            env!("CARGO_PKG_VERSION")
        ),
    );
    // Lines in a row that were not UTF-8: past a few, the terminal sends
    // nothing else, and the session ends rather than spin.
    let mut garbled = 0;
    let code = loop {
        let prompt = if session.continuing() {
            "  ..> "
        } else {
            "gx> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                garbled = 0;
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                let reply = session.handle(&line);
                write_to(std::io::stdout(), &reply.out);
                write_to(std::io::stderr(), &reply.err);
                if reply.quit {
                    break ExitCode::SUCCESS;
                }
            }
            Err(ReadlineError::Io(e))
                if e.kind() == std::io::ErrorKind::InvalidData && garbled < MAX_GARBLED =>
            {
                garbled += 1;
                write_to(
                    std::io::stderr(),
                    "error: the line was not valid UTF-8 text, and is dropped: type it again\n",
                );
                continue;
            }
            Err(ReadlineError::Interrupted) => session.cancel(),
            Err(ReadlineError::Eof) => break ExitCode::SUCCESS,
            Err(e) => {
                write_to(
                    std::io::stderr(),
                    &format!("error: cannot read the prompt: {e}\n"),
                );
                break ExitCode::from(1);
            }
        }
    };
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    code
}

/// Lines that are not UTF-8 in a row after which the session ends.
const MAX_GARBLED: u32 = 20;

/// Writes and flushes, ignoring failure: a terminal that has gone away cannot be
/// told so, and `print!` would panic.
fn write_to(mut w: impl std::io::Write, text: &str) {
    let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
}

mod completion;
mod words;
use words::{clap_message, is_flag, long, options, shell_quote, top_level_pieces};

#[cfg(test)]
mod tests;
