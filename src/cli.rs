//! The command line, as the contract fixes it.

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  # The multiply gate of the notes: f = -12, dx = y·grad = -8, dy = x·grad = 6
  gradexplain \"f(x,y)=x*y\" --at x=3,y=-4 --grad 2

  # Stages keep their names in the explanation
  gradexplain \"q = x + y; f = q * z\" --at x=-2,y=5,z=-4

  # The sigmoid neuron, as JSON
  gradexplain \"1/(1+exp(-(w0*x0+w1*x1+w2)))\" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 --format json

  # Symbolic only: no --at
  gradexplain \"f(x) = x * sigmoid(x)\"

  # From a file, or standard input
  gradexplain -f examples/sigmoid-neuron.gx --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3
  echo 'max(x, y) * 2' | gradexplain -f - --at x=1,y=3

  # Shell completions and the man page
  gradexplain --generate complete-bash > ~/.local/share/bash-completion/completions/gradexplain
  gradexplain --generate man > gradexplain.1

Interactive: run `gradexplain` with no program on a terminal for a prompt where you
type a program, then `:at x=3,y=-4`, `:grad 2`, `:format json` (`:help` lists all).

Exit status: 0 success; 1 a program that cannot be evaluated, or a file error;
2 a malformed program or command line.";

/// Explains backpropagation through any expression, the way the CS231n notes do:
/// the gate circuit, the forward values, the backward gradients and why.
#[derive(Parser, Debug, Clone)]
#[command(name = "gradexplain", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The program, as one argument: `f(x,y) = x*y`, `q = x + y; f = q * z`, …
    /// Without one (and without -f) on a terminal: the interactive mode.
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
            ColorChoice::Auto => is_terminal && !ColorChoice::no_color(),
        }
    }

    /// Whether `NO_COLOR` asks for no color (set and not empty, as no-color.org says).
    fn no_color() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
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

/// Parses a command line (the program's name first, as `std::env::args_os`
/// gives it). clap's own help and error messages follow `--color` and
/// `NO_COLOR` as the explanation does.
///
/// ```
/// let cli = gradexplain::cli::parse_from(["gradexplain", "x*y", "--at", "x=3,y=-4"]).unwrap();
/// assert_eq!(cli.program.as_deref(), Some("x*y"));
/// assert!(gradexplain::cli::parse_from(["gradexplain", "--format", "xml"]).is_err());
/// ```
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut cmd = Cli::command().color(clap_color(&args));
    let matches = cmd.try_get_matches_from_mut(&args)?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    if let Some(p) = &cli.program {
        // PROGRAM takes leading hyphens (`-x*y`), so clap would take a
        // mistyped option for a program: `--colour` is `-(-colour)`.
        let option_like = p.strip_prefix("--").is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_alphabetic())
                && rest
                    .split('=')
                    .next()
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        });
        let after_dashes = args.iter().any(|a| a == "--");
        if option_like && !after_dashes {
            let mut e = clap::Error::new(clap::error::ErrorKind::UnknownArgument).with_cmd(&cmd);
            e.insert(
                clap::error::ContextKind::InvalidArg,
                clap::error::ContextValue::String(p.clone()),
            );
            if let Some(similar) = similar_option(&cmd, p) {
                e.insert(
                    clap::error::ContextKind::SuggestedArg,
                    clap::error::ContextValue::String(similar),
                );
            }
            return Err(e);
        }
    }
    Ok(cli)
}

/// The long option nearest to a mistyped one, as clap suggests for its own.
fn similar_option(cmd: &clap::Command, typed: &str) -> Option<String> {
    let name = typed.trim_start_matches('-').split('=').next()?;
    cmd.get_arguments()
        .filter_map(|a| a.get_long())
        .map(|l| (strsim::jaro(name, l), l))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, l)| format!("--{l}"))
}

/// clap's color for its own messages, decided before clap has parsed anything:
/// the last `--color` wins, as it does for clap; a malformed one is left for
/// clap to report.
fn clap_color(args: &[OsString]) -> clap::ColorChoice {
    let mut choice = ColorChoice::Auto;
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        let value = match a {
            "--" => break,
            "--color" => it.next(),
            _ => a.strip_prefix("--color="),
        };
        if let Some(c) = value.and_then(|v| ColorChoice::from_str(v, false).ok()) {
            choice = c;
        }
    }
    match choice {
        ColorChoice::Always => clap::ColorChoice::Always,
        ColorChoice::Never => clap::ColorChoice::Never,
        // anstream honours NO_COLOR too, but only when it is non-empty and on
        // the stream it writes to; say it once here, as `enabled` does.
        ColorChoice::Auto if ColorChoice::no_color() => clap::ColorChoice::Never,
        ColorChoice::Auto => clap::ColorChoice::Auto,
    }
}
