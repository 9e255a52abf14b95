//! The command line, as the contract fixes it.

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  # The multiply gate of the notes: f = -12, dx = y·grad = -8, dy = x·grad = 6
  gradexplain \"f(x,y)=x*y\" --at x=3,y=-4 --grad 2

  # Stages keep their names; q is a fork-free intermediate
  gradexplain \"q = x + y; f = q * z\" --at x=-2,y=5,z=-4

  # The sigmoid neuron, as JSON
  gradexplain \"1/(1+exp(-(w0*x0+w1*x1+w2)))\" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 --format json

  # Symbolic only: no --at
  gradexplain \"f(x) = x * sigmoid(x)\"

  # From a file, or standard input
  gradexplain -f examples/sigmoid-neuron.gx --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3
  echo 'max(x, y) * 2' | gradexplain -f - --at x=1,y=3";

/// Explains backpropagation through any expression, the way the CS231n notes do:
/// the gate circuit, the forward values, the backward gradients and why.
#[derive(Parser, Debug, Clone)]
#[command(name = "gradexplain", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The program, as one argument: `f(x,y) = x*y`, `q = x + y; f = q * z`, …
    #[arg(value_name = "PROGRAM", allow_hyphen_values = true)]
    pub program: Option<String>,

    /// Read the program from FILE (`-`: standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Input values, `NAME=VALUE,…`; VALUE is `3`, `[1, 2]` or `[[1, 2], [3, 4]]`.
    /// May be repeated. Without it, the explanation is symbolic only.
    #[arg(long = "at", value_name = "NAME=VALUE,…", action = clap::ArgAction::Append, allow_hyphen_values = true)]
    pub at: Vec<String>,

    /// The upstream gradient arriving at the output (default 1).
    #[arg(long = "grad", value_name = "VALUE", allow_hyphen_values = true)]
    pub grad: Option<String>,

    /// What goes to standard output.
    #[arg(long = "format", value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the annotated diagram as Graphviz DOT to FILE.
    #[arg(long = "dot", value_name = "FILE")]
    pub dot: Option<PathBuf>,

    /// Also write the annotated diagram as SVG to FILE.
    #[arg(long = "svg", value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Also write the annotated diagram as PNG to FILE (needs Graphviz).
    #[arg(long = "png", value_name = "FILE")]
    pub png: Option<PathBuf>,

    /// Compare the backward pass with centered finite differences.
    #[arg(long = "check")]
    pub check: bool,

    /// When to use color.
    #[arg(long = "color", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write one numbered SVG per step of the backward pass into DIR.
    #[arg(long = "steps", value_name = "DIR")]
    pub steps: Option<PathBuf>,

    /// Write a self-contained HTML page that steps through the backward pass.
    #[arg(long = "html", value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Draw a worksheet: the diagram with these numbers left blank.
    #[arg(long = "blank", value_enum, value_name = "WHAT")]
    pub blank: Option<Blank>,

    /// Also write each wire's local gradient ∂gate/∂input on the diagrams.
    #[arg(long = "local-grads")]
    pub local_grads: bool,

    /// Results only: the output's value and the gradients.
    #[arg(long = "summary")]
    pub summary: bool,

    /// Print shell completions or the man page, then exit.
    #[arg(long = "generate", value_enum, value_name = "WHAT")]
    pub generate: Option<Generate>,
}

/// `--format`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The explanation, for people.
    Text,
    /// The contract's JSON report.
    Json,
    /// The annotated circuit as Graphviz DOT.
    Dot,
    /// The derivation as LaTeX, for slides.
    Latex,
}

/// `--color`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color on a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

impl ColorChoice {
    /// Whether to color a stream, given whether it is a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// `--blank`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Blank {
    /// Leave the gradients blank.
    Grads,
    /// Leave the forward values blank.
    Values,
    /// Leave both blank.
    All,
}

/// `--generate`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// Bash completions.
    CompleteBash,
    /// Zsh completions.
    CompleteZsh,
    /// Fish completions.
    CompleteFish,
    /// PowerShell completions.
    CompletePowershell,
    /// The man page (roff).
    Man,
}
