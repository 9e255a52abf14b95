//! gradexplain explains backpropagation the way the CS231n notes do, for any
//! expression: it parses a program into a gate DAG, runs the forward pass, runs
//! the backward pass from an upstream gradient, and explains every gate.
//!
//! # The library
//!
//! One [`Analysis`] carries a program through the stages; its methods are the
//! short way, and each stage is also public on its own:
//!
//! | stage | short way | the stage itself |
//! |---|---|---|
//! | parse | [`Analysis::new`] | [`parse`] → [`Program`] (a spanned AST) |
//! | lower | [`Analysis::new`] | [`lower`] → [`Circuit`] (the gate DAG, in topological order) |
//! | evaluate | [`Analysis::evaluate_with`], [`Analysis::evaluate`] | [`eval::forward`], [`eval::backward`] |
//! | results | [`Analysis::value`], [`Analysis::gradients`], [`Analysis::gradient`] | [`eval::Backward::param_grads`] |
//! | explain | [`Analysis::explain`], [`Analysis::report`] | [`explain::text::explain`], [`explain::json::report`] |
//! | differentiate | symbolic derivatives (`src/symbolic.rs`, in progress) | |
//! | draw | the annotated diagram (`src/draw/`, in progress) | |
//! | the command line | [`app::render`]: one program with a [`cli::Cli`]'s options | [`cli::parse_from`] |
//!
//! Every stage returns [`Error`], with a [`Span`] into the source where one
//! exists; [`Error::render`] draws it as rustc draws its errors.
//!
//! ```
//! use gradexplain::{Analysis, Value};
//! // The multiply gate of the notes, with an upstream gradient of 2.
//! let mut a = Analysis::new("f(x, y) = x * y")?;
//! a.evaluate_with(&[("x", 3.0.into()), ("y", (-4.0).into())], 2.0)?;
//! assert_eq!(a.value(), Some(&Value::Scalar(-12.0)));
//! assert_eq!(a.gradient("x"), Some(Value::Scalar(-8.0))); // dx = y · grad
//! assert_eq!(a.gradient("y"), Some(Value::Scalar(6.0))); // dy = x · grad
//! println!("{}", a.explain());
//! # Ok::<(), gradexplain::Error>(())
//! ```
//!
//! The same, stage by stage:
//!
//! ```
//! use gradexplain::{eval, lower, parse, Value};
//! let program = parse("f(x, y) = x * y")?;
//! let circuit = lower(&program)?;
//! let fwd = eval::forward(&circuit, &[Value::Scalar(3.0), Value::Scalar(-4.0)])?;
//! let bwd = eval::backward(&circuit, &fwd, &Value::Scalar(2.0))?;
//! let grads = bwd.param_grads(&circuit, &fwd);
//! assert_eq!(grads, [Some(Value::Scalar(-8.0)), Some(Value::Scalar(6.0))]);
//! # Ok::<(), gradexplain::Error>(())
//! ```
//!
//! `examples/explain.rs` and `examples/stages.rs` are complete programs
//! (`cargo run --example explain`).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod analysis;
mod api;
pub mod app;
pub mod check;
pub mod cli;
pub mod datafile;
pub mod draw;
pub mod error;
pub mod eval;
pub mod explain;
pub mod gate;
pub mod generate;
pub mod graph;
pub mod input;
pub mod limits;
pub mod lowering;
pub mod output;
pub mod print;
pub mod repl;
pub mod symbolic;
pub mod syntax;
#[cfg(test)]
mod testing;
pub mod value;

pub use analysis::{Analysis, Numeric};
pub use error::{Error, ErrorInfo, ErrorKind, Span};
pub use graph::{Circuit, GateId, lower};
pub use input::{Assignment, parse_assignments};
pub use syntax::{Program, parse};
pub use value::{Shape, Value};
