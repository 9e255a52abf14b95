//! From a validated command line to the bytes for standard output: read the
//! program, analyse it, render the chosen view. Nothing is written to standard
//! output until everything has succeeded, so an error leaves it empty.

use crate::analysis::Analysis;
use crate::cli::{Cli, Format};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::explain::{Doc, derivatives, json, latex, text};
use crate::input::{parse_assignments, parse_grad};
use crate::symbolic::Symbolic;
use crate::value::Value;
use std::io::{IsTerminal, Write};

/// Circuits larger than this get no symbolic derivatives in the text view.
const TEXT_SYMBOLIC_LIMIT: usize = 200_000;

/// The most statements and header names the report's derivative programs may
/// hold in all, whatever the circuit: a few tens of megabytes of text.
const MAX_SYMBOLIC_ITEMS: usize = 4_000_000;

/// Past [`MAX_SYMBOLIC_ITEMS`], the items allowed per gate: derivative programs
/// that grow linearly with the circuit (a million-stage chain's) are always
/// written; only the quadratic case (thousands of parameters that each repeat
/// a header of thousands of names) is left out.
const SYMBOLIC_ITEMS_PER_GATE: usize = 8;

/// What the derivative programs would hold: for each, its statements and its
/// header's names (the parameters and `grad`).
fn symbolic_items(a: &Analysis, s: &Symbolic) -> usize {
    let header = a.circuit.params.len() + 2;
    s.layouts
        .iter()
        .flatten()
        .map(|l| l.statements.len() + header)
        .fold(0usize, usize::saturating_add)
}

/// Runs the tool; returns what to print on standard output.
pub fn run(cli: &Cli) -> Result<String> {
    Ok(prepare(cli)?.into_string())
}

/// What a run has to say, ready to be written: every error has happened by the
/// time a `Rendered` exists, so writing it is all that is left (nothing reaches
/// standard output before then). A JSON report is kept as the analysis it is
/// written from, and streamed out gate by gate by [`Rendered::write_to`].
pub struct Rendered {
    view: View,
    /// The analysis a text view was rendered from, kept until the `Rendered`
    /// goes: the binary leaks it at exit instead of freeing a large circuit
    /// piece by piece.
    _analysis: Option<Box<Analysis>>,
}

enum View {
    Text(String),
    Json(Box<Analysis>, json::Extras),
}

impl Rendered {
    /// Writes the output.
    pub fn write_to(&self, w: &mut dyn Write) -> std::io::Result<()> {
        match &self.view {
            View::Text(s) => w.write_all(s.as_bytes()),
            View::Json(a, extras) => json::write_report(w, a, extras),
        }
    }

    /// The output as a string.
    pub fn into_string(self) -> String {
        match self.view {
            View::Text(s) => s,
            View::Json(..) => {
                let mut out = Vec::new();
                // Writing to memory cannot fail, and serde_json writes UTF-8.
                let _ = self.write_to(&mut out);
                String::from_utf8(out).unwrap_or_default()
            }
        }
    }
}

/// Runs the tool up to its output: reads and analyses the program, writes any
/// files, and returns what standard output is to receive.
pub fn prepare(cli: &Cli) -> Result<Rendered> {
    if let Some(what) = cli.generate {
        return Ok(Rendered {
            view: View::Text(crate::generate::generate(what)),
            _analysis: None,
        });
    }
    let source = read_program(cli)?;
    prepare_source(source, cli)
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
    Ok(prepare_source(source.to_string(), cli)?.into_string())
}

fn prepare_source(source: String, cli: &Cli) -> Result<Rendered> {
    if let Some(program) = &cli.file {
        let outputs = [&cli.dot, &cli.svg, &cli.png, &cli.html].map(Option::as_deref);
        crate::output::refuse_program(program, &outputs)?;
    }
    // The views read the circuit and the source, never the syntax tree.
    let mut analysis = Analysis::lowered(source)?;
    let mut at = Vec::new();
    for arg in &cli.at {
        at.extend(parse_assignments(arg)?);
    }
    let grad = match &cli.grad {
        Some(g) => parse_grad(g)?,
        None => Value::Scalar(1.0),
    };
    let draw = crate::draw::Request::from_cli(cli);
    let drawing = cli.format == Format::Dot || draw.wanted();
    // Only the text explanation and the diagrams read what flowed along each edge.
    let explain_edges = (cli.format == Format::Text && !cli.summary) || drawing;
    // --check compares numbers, so it needs values: without them, evaluating
    // reports the missing one.
    let evaluate = !cli.at.is_empty() || analysis.circuit.params.is_empty() || cli.check;
    if evaluate {
        let evaluated = if explain_edges {
            analysis.evaluate(&at, &grad)
        } else if cli.summary
            && !cli.check
            && !drawing
            && matches!(cli.format, Format::Json | Format::Text)
        {
            // Nothing reads a gate's numbers (LaTeX's derivatives take the
            // parameters' shapes from them): keep the results alone.
            analysis.evaluate_summary(&at, &grad)
        } else {
            analysis.evaluate_results(&at, &grad)
        };
        evaluated.map_err(|e| match &cli.grad {
            // The backward pass knows the shapes, the command line knows the text.
            Some(g) if e.span.is_none() && e.message.contains("(--grad)") => e
                .at(crate::error::Span::new(0, g.len()))
                .with_source("--grad", g),
            _ => e,
        })?;
    }
    // Without values there is nothing to scale (the gradient is still checked
    // above); a JSON report has no `upstream` then, so the note says why.
    let ignored_grad = cli.grad.is_some() && !evaluate;
    let color = cli.color.enabled(std::io::stdout().is_terminal());
    let opts = text::Options {
        summary: cli.summary,
        ..text::Options::default()
    };
    let check = if cli.check {
        Some(crate::check::check(&analysis)?)
    } else {
        None
    };
    if cli.format == Format::Json && !drawing {
        // Every error that needs the program text has happened, and the report
        // does not print it: free it before the derivatives take their memory.
        analysis.source = String::new();
    }
    // The symbolic derivatives are in every view except the summaries; the text
    // shows a few lines of each, so for a huge circuit it leaves them to JSON.
    let gates = analysis.circuit.len();
    let symbolic = match cli.format {
        Format::Json => !cli.summary,
        Format::Text => !cli.summary && gates <= TEXT_SYMBOLIC_LIMIT,
        Format::Latex => true,
        Format::Dot => false,
    }
    .then(|| match cli.format {
        // The report prints its programs as it is written.
        Format::Json => Symbolic::for_report(&analysis),
        _ => Symbolic::new(&analysis),
    });
    let mut notes: Vec<String> = Vec::new();
    if ignored_grad {
        notes.push(
            "--grad has no effect without values: give them with --at to run the backward pass"
                .to_string(),
        );
    }
    // Each derivative program repeats the header and the statements it needs:
    // with many parameters that share little (a sum or a product of 20 000
    // names) the report would grow with their square, to gigabytes. Past a
    // stated size the programs are left out, each `null`, and a note says why.
    let symbolic = match symbolic {
        Some(s)
            if cli.format == Format::Json
                && symbolic_items(&analysis, &s)
                    > MAX_SYMBOLIC_ITEMS.max(SYMBOLIC_ITEMS_PER_GATE * gates) =>
        {
            notes.push(format!(
                "the derivative programs of the {} parameters would hold {} statements and header names, more than the report writes for {gates} gates: they are left out (null)",
                analysis.circuit.params.len(),
                symbolic_items(&analysis, &s)
            ));
            None
        }
        other => other,
    };
    if cli.format == Format::Text && !cli.summary && symbolic.is_none() {
        notes.push(format!(
            "the circuit has {gates} gates: the text leaves out its symbolic derivatives (--format json has them)"
        ));
    }
    if let Some(s) = &symbolic {
        notes.extend(s.notes.iter().cloned());
    }
    if let Some(k) = &check {
        notes.extend(k.notes.iter().cloned());
    }
    let text = match cli.format {
        Format::Text => {
            let mut extra = Doc::default();
            if let Some(s) = &symbolic {
                derivatives::derivatives(&mut extra, &analysis, s);
            }
            if let Some(k) = &check {
                derivatives::check(&mut extra, &analysis, k, !cli.summary);
            }
            Some(text::explain_with(&analysis, opts, extra, &notes).render(color))
        }
        Format::Latex => {
            let made;
            let s = match &symbolic {
                Some(s) => s,
                None => {
                    made = Symbolic::new(&analysis);
                    &made
                }
            };
            let mut out = latex::document(&analysis, s);
            // Notes and the check's verdict travel as comments: the fragment still compiles.
            for n in text::notes(&analysis).iter().chain(&notes) {
                out.push_str(&format!("% note: {n}\n"));
            }
            if let Some(k) = &check {
                out.push_str(&format!(
                    "% gradient check: max relative error {} — {}\n",
                    derivatives::rel(k.max_rel_error),
                    if k.ok { "ok" } else { "NOT ok" }
                ));
            }
            Some(out)
        }
        Format::Dot => Some(crate::draw::dot_text(&analysis, &draw.options)?),
        // Streamed from the analysis once every file is written.
        Format::Json => None,
    };
    // Files last: every view has succeeded, and they are written all or none.
    crate::draw::write_files(&analysis, &draw)?;
    let nulls = (symbolic.is_none() && !cli.summary).then(|| {
        let c = &analysis.circuit;
        c.params.iter().map(|p| (p.name.clone(), None)).collect()
    });
    let view = match text {
        Some(t) => {
            return Ok(Rendered {
                view: View::Text(t),
                _analysis: Some(Box::new(analysis)),
            });
        }
        None => View::Json(
            Box::new(analysis),
            json::Extras {
                summary: cli.summary,
                // Left out for size (above): every parameter's program is null.
                symbolic: nulls,
                derivatives: symbolic.map(Box::new),
                check: check.as_ref().map(json::CheckSummary::from),
                notes,
            },
        ),
    };
    Ok(Rendered {
        view,
        _analysis: None,
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
        (None, Some(path)) => crate::limits::read_file(path)
            .map_err(|e| read_error(&format!("`{}`", path.display()), e))?,
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
        // Shown with the bad bytes replaced by U+FFFD (3 bytes), all after
        // `at`: the caret goes under the first, at the line and column it has.
        let shown = String::from_utf8_lossy(e.as_bytes());
        Error::syntax(
            Span::new(at, at + '\u{FFFD}'.len_utf8()),
            format!("the program is not valid UTF-8 text (invalid byte at offset {at})"),
        )
        .label("not UTF-8")
        .help("a program is text: check that the file is not binary")
        .with_source("program", &shown)
    })
}

fn read_stdin() -> Result<Vec<u8>> {
    crate::limits::read_all(std::io::stdin().lock()).map_err(|e| read_error("standard input", e))
}

/// `cannot read WHAT: REASON`, an I/O error (exit 1).
fn read_error(what: &str, e: crate::limits::ReadError) -> Error {
    let why = crate::limits::reason(&e);
    Error::new(ErrorKind::Io, format!("cannot read {what}: {why}"))
}

/// An I/O error's reason without Rust's "(os error 2)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
