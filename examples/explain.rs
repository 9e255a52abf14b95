//! Explains one program, as the command line does, through the library.
//!
//!     cargo run --example explain
//!     cargo run --example explain -- "f(x,y,z) = (x+y)*z" x=-2,y=5,z=-4 [GRAD]
//!
//! The arguments are the program, its values as `--at` takes them, and the
//! upstream gradient (default 1); without them, the seed's multiply gate at
//! x = 3, y = -4 with an upstream gradient of 2.

use gradexplain::{Analysis, Value, parse_assignments};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (program, values, grad) = match &args[..] {
        [] => ("f(x, y) = x * y", "x=3,y=-4", "2"),
        [p] => (p.as_str(), "", "1"),
        [p, v] => (p.as_str(), v.as_str(), "1"),
        [p, v, g, ..] => (p.as_str(), v.as_str(), g.as_str()),
    };
    match explain(program, values, grad) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The error knows its place in the program or the values.
            eprint!("{}", e.render(false));
            ExitCode::from(e.kind.exit_code())
        }
    }
}

fn explain(program: &str, values: &str, grad: &str) -> Result<String, gradexplain::Error> {
    let mut analysis = Analysis::new(program)?;
    // Without values the explanation is symbolic, as without --at.
    if !values.is_empty() {
        let grad: Value = gradexplain::input::parse_grad(grad)?;
        analysis.evaluate(&parse_assignments(values)?, &grad)?;
    }
    Ok(analysis.explain())
}
