//! One program's way through the stages, kept together for the views (text,
//! JSON, LaTeX, diagrams) that read it: source → AST → gate DAG → forward →
//! backward.

use crate::error::{Error, ErrorKind, Result};
use crate::eval::{Backward, Forward, Results, backward_with, forward, param_span};
use crate::graph::{Circuit, lower};
use crate::input::Assignment;
use crate::syntax::{Program, parse};
use crate::value::Value;

/// The numbers of one evaluation.
#[derive(Clone, Debug)]
pub struct Numeric {
    /// The parameters' values, in parameter order.
    pub params: Vec<Value>,
    /// The forward pass.
    pub forward: Forward,
    /// The backward pass.
    pub backward: Backward,
}

/// A program, parsed and lowered, and — once values are given — evaluated.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The program text.
    pub source: String,
    /// The parsed program.
    pub program: Program,
    /// The gate DAG.
    pub circuit: Circuit,
    /// Forward and backward values, after [`Analysis::evaluate`].
    pub numeric: Option<Numeric>,
    /// The results alone, after [`Analysis::evaluate_summary`] (and then no
    /// `numeric`); [`Analysis::outcome`] reads either.
    pub results: Option<Results>,
}

impl Analysis {
    /// Parses and lowers `source`. Errors carry the source for rendering.
    ///
    /// ```
    /// let a = gradexplain::Analysis::new("f(x, y) = x * y").unwrap();
    /// assert_eq!(a.circuit.output_name, "f");
    /// ```
    pub fn new(source: &str) -> Result<Analysis> {
        Analysis::from_source(source.to_string())
    }

    /// [`Analysis::from_source`] without the syntax tree: the parser hands
    /// each node to lowering as it reads it, so `program` is left empty. What the command line uses: the views read the circuit and
    /// the source, and a million-stage program's tree would be a quarter of the
    /// memory. Errors are exactly [`Analysis::from_source`]'s.
    pub fn lowered(source: String) -> Result<Analysis> {
        let (program, circuit) = crate::lowering::parse_and_lower(&source)
            .map_err(|e| e.with_source("program", &source))?;
        Ok(Analysis {
            source,
            program,
            circuit,
            numeric: None,
            results: None,
        })
    }

    /// [`Analysis::new`], keeping `source` rather than a copy of it.
    pub fn from_source(source: String) -> Result<Analysis> {
        let attach = |e: Error| e.with_source("program", &source);
        let program = parse(&source).map_err(attach)?;
        let circuit = lower(&program).map_err(attach)?;
        Ok(Analysis {
            source,
            program,
            circuit,
            numeric: None,
            results: None,
        })
    }

    /// Binds `--at` values to the parameters and runs both passes with the
    /// upstream gradient `grad`.
    ///
    /// ```
    /// use gradexplain::{Analysis, Value, input::parse_assignments};
    /// let mut a = Analysis::new("f(x, y) = x * y").unwrap();
    /// a.evaluate(&parse_assignments("x=3,y=-4").unwrap(), &Value::Scalar(2.0)).unwrap();
    /// let n = a.numeric.as_ref().unwrap();
    /// assert_eq!(n.forward.values[a.circuit.output.index()], Value::Scalar(-12.0));
    /// ```
    pub fn evaluate(&mut self, at: &[Assignment], grad: &Value) -> Result<()> {
        self.evaluate_keeping(at, grad, true)
    }

    /// [`Analysis::evaluate`] for results only: the backward pass does not keep
    /// each edge's contribution ([`crate::eval::Backward::edge_grads`] stays
    /// empty), which only the explanation and the diagrams read.
    pub fn evaluate_results(&mut self, at: &[Assignment], grad: &Value) -> Result<()> {
        self.evaluate_keeping(at, grad, false)
    }

    /// [`Analysis::evaluate`] for the results alone — the output's value and
    /// the parameters' gradients, kept in [`Analysis::results`] — with no value
    /// or gradient kept per gate (`numeric` stays empty): what `--summary`
    /// needs, in half the memory where every value is a number. The numbers
    /// are those of [`Analysis::evaluate`], bit for bit.
    ///
    /// ```
    /// use gradexplain::{Analysis, Value, input::parse_assignments};
    /// let mut a = Analysis::new("f(x, y) = x * y").unwrap();
    /// a.evaluate_summary(&parse_assignments("x=3,y=-4").unwrap(), &Value::Scalar(2.0)).unwrap();
    /// assert!(a.numeric.is_none());
    /// assert_eq!(a.outcome().unwrap().gradients[0], Some(Value::Scalar(-8.0)));
    /// ```
    pub fn evaluate_summary(&mut self, at: &[Assignment], grad: &Value) -> Result<()> {
        let params = self.bind(at)?;
        let results = crate::eval::results(&self.circuit, &params, grad)
            .map_err(|e| e.with_source("program", &self.source))?;
        self.numeric = None;
        self.results = Some(results);
        Ok(())
    }

    /// The evaluation's results: from the passes' numbers, or those
    /// [`Analysis::evaluate_summary`] kept; `None` before any evaluation.
    pub fn outcome(&self) -> Option<Results> {
        match &self.numeric {
            Some(n) => Some(Results::of(&self.circuit, &n.forward, &n.backward)),
            None => self.results.clone(),
        }
    }

    fn evaluate_keeping(&mut self, at: &[Assignment], grad: &Value, edges: bool) -> Result<()> {
        let params = self.bind(at)?;
        let attach = |e: Error| e.with_source("program", &self.source);
        let fwd = forward(&self.circuit, &params).map_err(attach)?;
        let bwd = backward_with(&self.circuit, &fwd, grad, edges).map_err(attach)?;
        self.numeric = Some(Numeric {
            params,
            forward: fwd,
            backward: bwd,
        });
        self.results = None;
        Ok(())
    }

    /// One value per parameter, from the `--at` assignments. Names are looked up
    /// in hash maps: an unrolled model passes tens of thousands of values.
    pub fn bind(&self, at: &[Assignment]) -> Result<Vec<Value>> {
        let c = &self.circuit;
        let index: rustc_hash::FxHashMap<&str, usize> = c
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let mut given: Vec<Option<&Value>> = vec![None; c.params.len()];
        let mut seen: rustc_hash::FxHashSet<&str> = Default::default();
        for a in at {
            if !seen.insert(a.name.as_str()) {
                return Err(Error::new(
                    ErrorKind::Usage,
                    format!("`{}` is given more than one value", a.name),
                )
                .at(a.span)
                .with_source("--at", &a.source)
                .label("given again here"));
            }
            let Some(&i) = index.get(a.name.as_str()) else {
                let names: Vec<&str> = c.params.iter().map(|p| p.name.as_str()).collect();
                let help = match names.len() {
                    0 => "this program has no parameters".to_string(),
                    n if n > 20 => format!(
                        "the parameters are {}, … ({n} in all)",
                        names[..20].join(", ")
                    ),
                    _ => format!("the parameters are {}", names.join(", ")),
                };
                return Err(Error::new(
                    ErrorKind::Eval,
                    format!(
                        "unknown input `{}`: the program has no parameter of that name",
                        a.name
                    ),
                )
                .at(a.span)
                .with_source("--at", &a.source)
                .label("not a parameter")
                .help(help));
            };
            given[i] = Some(&a.value);
        }
        c.params
            .iter()
            .zip(given)
            .map(|(p, v)| {
                v.cloned().ok_or_else(|| {
                    let mut e =
                        Error::new(ErrorKind::Eval, format!("missing value for `{}`", p.name))
                            .label("this parameter has no value")
                            .help(format!("pass it with --at {}=…", p.name));
                    if let Some(span) = param_span(c, &p.name) {
                        e = e.at(span).with_source("program", &self.source);
                    }
                    e
                })
            })
            .collect()
    }
}
