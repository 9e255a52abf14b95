//! From a validated command line to the bytes for standard output: read the
//! program, analyse it, render the chosen view. Nothing is written to standard
//! output until everything has succeeded, so an error leaves it empty.

use crate::analysis::Analysis;
use crate::cli::{Cli, Format};
use crate::error::{Error, ErrorKind, Result};
use crate::explain::{json, text};
use crate::input::{parse_assignments, parse_grad};
use crate::value::Value;
use std::io::{IsTerminal, Read};

/// Runs the tool; returns what to print on standard output.
pub fn run(cli: &Cli) -> Result<String> {
    if let Some(what) = cli.generate {
        return Ok(crate::generate::generate(what));
    }
    let source = read_program(cli)?;
    render(&source, cli)
}

/// Analyses `source` with the options of `cli` (the program and file in `cli`
/// are ignored) and renders the chosen view: the one-shot run and the
/// interactive mode share it, so every option works in both.
///
/// ```
/// let cli = gradexplain::cli::parse_from(["gradexplain", "--at", "x=3,y=-4", "--format", "json"]).unwrap();
/// let out = gradexplain::app::render("f(x,y) = x*y", &cli).unwrap();
/// assert!(out.contains("\"value\": -12"));
/// ```
pub fn render(source: &str, cli: &Cli) -> Result<String> {
    let mut analysis = Analysis::new(source)?;
    let mut at = Vec::new();
    for arg in &cli.at {
        at.extend(parse_assignments(arg)?);
    }
    let grad = match &cli.grad {
        Some(g) => parse_grad(g)?,
        None => Value::Scalar(1.0),
    };
    // Only the text explanation reads what flowed along each edge.
    let explain_edges = cli.format == Format::Text && !cli.summary;
    if !cli.at.is_empty() || analysis.circuit.params.is_empty() {
        if explain_edges {
            analysis.evaluate(&at, &grad)?;
        } else {
            analysis.evaluate_results(&at, &grad)?;
        }
    } else if cli.grad.is_some() {
        // Without values there is nothing to scale; the gradient is still checked above.
    }
    let color = cli.color.enabled(std::io::stdout().is_terminal());
    let opts = text::Options {
        summary: cli.summary,
        ..text::Options::default()
    };
    Ok(match cli.format {
        Format::Text => text::explain(&analysis, opts).render(color),
        Format::Json => {
            let extras = json::Extras {
                summary: cli.summary,
                ..json::Extras::default()
            };
            let mut s = serde_json::to_string_pretty(&json::report(&analysis, &extras))
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write the report: {e}")))?;
            s.push('\n');
            s
        }
        Format::Dot | Format::Latex => {
            return Err(Error::new(
                ErrorKind::Usage,
                "this --format is not available yet",
            ));
        }
    })
}

/// The program text: the argument, a file, or standard input.
fn read_program(cli: &Cli) -> Result<String> {
    let bytes = match (&cli.program, &cli.file) {
        (Some(_), Some(_)) => {
            return Err(Error::new(
                ErrorKind::Usage,
                "give the program either as an argument or with -f, not both",
            ));
        }
        (Some(p), None) => return Ok(p.clone()),
        (None, Some(path)) if path.as_os_str() == "-" => read_stdin()?,
        (None, Some(path)) => std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read `{}`: {}", path.display(), io_reason(&e)),
            )
        })?,
        (None, None) => {
            if std::io::stdin().is_terminal() {
                return Err(Error::new(ErrorKind::Usage, "no program given").help(
                    "pass one, as in: gradexplain \"f(x,y)=x*y\" --at x=3,y=-4 (see --help)",
                ));
            }
            read_stdin()?
        }
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Error::new(
            ErrorKind::Syntax,
            format!("the program is not valid UTF-8 text (invalid byte at offset {at})"),
        )
        .help("a program is text: check that the file is not binary")
    })
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read standard input: {}", io_reason(&e)),
        )
    })?;
    Ok(buf)
}

/// An I/O error's reason without Rust's "(os error 2)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
