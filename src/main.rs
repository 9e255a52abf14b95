//! The `gradexplain` binary: arguments → [`gradexplain::app::run`] → exit code.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match gradexplain::cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if gradexplain::repl::wanted(&cli) {
        return gradexplain::repl::main(std::env::args_os());
    }
    match gradexplain::app::prepare(&cli) {
        Ok(out) => {
            // Buffered: a JSON report is written a gate at a time.
            let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            let written = out.write_to(&mut stdout).and_then(|()| stdout.flush());
            // The process ends here: freeing a million-gate circuit piece by
            // piece would only delay the exit (a few milliseconds per 100 000
            // stages), so its memory goes back to the system with the process.
            std::mem::forget(out);
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    to_stderr(&format!(
                        "error: cannot write to standard output: {}\n",
                        gradexplain::app::io_reason(&e)
                    ));
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            let color = cli.color.enabled(std::io::stderr().is_terminal());
            to_stderr(&e.render(color));
            ExitCode::from(e.kind.exit_code())
        }
    }
}

/// Writes to standard error; if that fails too (a closed pipe), there is no one
/// left to tell — `eprint!` would panic instead.
fn to_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
