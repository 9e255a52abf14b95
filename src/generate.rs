//! `--generate`: shell completions (clap_complete) and the man page
//! (clap_mangen), both made from the same clap definition as the parser, so
//! they never drift from the options the binary accepts.

use crate::cli::{Cli, Generate};
use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use roff::{Roff, bold, italic, roman};

/// What `--generate WHAT` prints: a completion script or the man page (roff).
///
/// ```
/// use gradexplain::cli::Generate;
/// let bash = gradexplain::generate::generate(Generate::CompleteBash);
/// assert!(bash.contains("--at"));
/// let man = gradexplain::generate::generate(Generate::Man);
/// assert!(man.starts_with(".TH gradexplain 1"));
/// ```
pub fn generate(what: Generate) -> String {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    let shell = match what {
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::CompletePowershell => Shell::PowerShell,
        Generate::Man => return man(cmd),
    };
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    // clap_complete writes only what clap's definitions hold: valid UTF-8.
    String::from_utf8_lossy(&buf).into_owned()
}

/// The man page: clap_mangen's sections for what clap knows (name, synopsis,
/// options), then the sections a man page has and clap does not: examples,
/// the interactive mode, exit status, environment.
fn man(cmd: clap::Command) -> String {
    let version = cmd.get_version().unwrap_or_default().to_string();
    let man = Man::new(cmd).date(String::new());
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);

    let mut r = Roff::new();
    r.control("SH", ["EXAMPLES"]);
    for (what, command) in EXAMPLES {
        r.control("TP", [] as [&str; 0]);
        r.text([roman(*what)]);
        r.control("RS", [] as [&str; 0]);
        r.control("nf", [] as [&str; 0]);
        r.text([bold(*command)]);
        r.control("fi", [] as [&str; 0]);
        r.control("RE", [] as [&str; 0]);
    }
    r.control("SH", ["INTERACTIVE MODE"]);
    r.text([roman(
        "Run without a program while standard input is a terminal, gradexplain opens a prompt \
         with history and line editing. A line that does not start with a colon is a program \
         (end a line with a backslash to continue it on the next). Commands set the options of \
         the command line and show the explanation again:",
    )]);
    for (cmd, what) in REPL_COMMANDS {
        r.control("TP", [] as [&str; 0]);
        r.text([bold(*cmd)]);
        r.text([roman(*what)]);
    }
    r.control("SH", ["EXIT STATUS"]);
    for (code, what) in [
        ("0", "success, a gradient check that is not ok included"),
        (
            "1",
            "a well-formed program that cannot be evaluated (a missing input value, a shape \
             mismatch, a value outside a function's domain), or a file that cannot be read or written",
        ),
        (
            "2",
            "a malformed program or command line: a syntax error, an unknown function or option, \
             a malformed --at value",
        ),
    ] {
        r.control("TP", [] as [&str; 0]);
        r.text([bold(code)]);
        r.text([roman(what)]);
    }
    r.control("SH", ["ENVIRONMENT"]);
    r.control("TP", [] as [&str; 0]);
    r.text([bold("NO_COLOR")]);
    r.text([
        roman("When set and not empty, "),
        bold("--color auto"),
        roman(" writes no color. "),
        bold("--color always"),
        roman(" still does."),
    ]);
    r.control("TP", [] as [&str; 0]);
    r.text([bold("GRADEXPLAIN_HISTORY")]);
    r.text([
        roman("The interactive mode's history file (default "),
        italic("~/.gradexplain_history"),
        roman("); empty: keep no history."),
    ]);
    r.control("SH", ["VERSION"]);
    r.text([roman(format!("v{version}"))]);
    r.control("SH", ["SEE ALSO"]);
    r.text([roman(
        "The CS231n notes on backpropagation (Stanford): \"Backpropagation, Intuitions\".",
    )]);
    out.extend_from_slice(r.render().as_bytes());
    one_preamble(&String::from_utf8_lossy(&out))
}

/// Each render above starts with roff's definition of the apostrophe string;
/// keep one, right after `.TH`, so that the page starts as man pages do.
fn one_preamble(page: &str) -> String {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let body = page.replace(PREAMBLE, "");
    match body.split_once('\n') {
        Some((title, rest)) => format!("{title}\n{PREAMBLE}{rest}"),
        None => body,
    }
}

/// The man page's examples: what each shows, and the command.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "The multiply gate of the notes: f = -12, dx = y*grad = -8, dy = x*grad = 6.",
        "gradexplain \"f(x,y)=x*y\" --at x=3,y=-4 --grad 2",
    ),
    (
        "Stages keep their names in the explanation.",
        "gradexplain \"q = x + y; f = q * z\" --at x=-2,y=5,z=-4",
    ),
    (
        "The sigmoid neuron, as the JSON report.",
        "gradexplain -f examples/sigmoid-neuron.gx --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 --format json",
    ),
    (
        "Symbolic only: without --at.",
        "gradexplain \"f(x) = x * sigmoid(x)\"",
    ),
    (
        "The program from standard input.",
        "echo 'max(x, y) * 2' | gradexplain -f - --at x=1,y=3",
    ),
    (
        "Install the bash completions.",
        "gradexplain --generate complete-bash > ~/.local/share/bash-completion/completions/gradexplain",
    ),
];

/// The interactive mode's commands, for the man page and `:help`.
pub const REPL_COMMANDS: &[(&str, &str)] = &[
    ("PROGRAM", "set the program, e.g. f(x,y) = x*y"),
    (
        ":at NAME=VALUE,…",
        "set input values; names given before keep their values",
    ),
    (":grad VALUE", "set the upstream gradient"),
    (
        ":format text|json|dot|latex",
        "choose the view, as --format does",
    ),
    (
        ":svg FILE",
        "write the diagram to FILE after every change (likewise :dot, :png, :html, :steps)",
    ),
    (
        ":check, :summary",
        "switch a flag on (`:check off` switches it off)",
    ),
    (
        ":OPTION VALUE",
        "any other option of the command line, without its --",
    ),
    (
        ":unset OPTION",
        "forget an option (`:unset at` forgets every value)",
    ),
    (":load FILE", "read the program from FILE"),
    (":show", "the program and options, as one command line"),
    (":reset", "forget the program and every option"),
    (":help", "this list"),
    (":quit", "leave (also Ctrl-D)"),
];
