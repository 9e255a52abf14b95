//! gradexplain explains backpropagation the way the CS231n notes do, for any
//! expression: it parses a program into a gate DAG, runs the forward pass, runs
//! the backward pass from an upstream gradient, and explains every gate.
//!
//! ```
//! use gradexplain::{Analysis, Value, input::parse_assignments};
//! let mut a = Analysis::new("f(x, y) = x * y").unwrap();
//! a.evaluate(&parse_assignments("x=3,y=-4").unwrap(), &Value::Scalar(2.0)).unwrap();
//! let n = a.numeric.as_ref().unwrap();
//! let grads = n.backward.param_grads(&a.circuit, &n.forward);
//! assert_eq!(grads, [Some(Value::Scalar(-8.0)), Some(Value::Scalar(6.0))]);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod analysis;
pub mod app;
pub mod cli;
pub mod draw;
pub mod error;
pub mod eval;
pub mod explain;
pub mod gate;
pub mod graph;
pub mod input;
pub mod output;
pub mod print;
pub mod syntax;
pub mod value;

pub use analysis::Analysis;
pub use error::{Error, ErrorKind, Span};
pub use graph::{Circuit, GateId, lower};
pub use value::{Shape, Value};
