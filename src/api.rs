//! The library's front door: what a program that uses gradexplain wants from an
//! [`Analysis`] without learning the gate DAG — values by name in, the output's
//! value, the gradients by name, the explanation and the report out.
//!
//! These are methods on [`Analysis`] (rustdoc lists them with the others); the
//! stages underneath stay public for those who want them: [`crate::parse`],
//! [`crate::lower`], [`crate::eval::forward`], [`crate::eval::backward`].

use crate::analysis::Analysis;
use crate::error::{Result, Span};
use crate::explain::{json, text};
use crate::input::Assignment;
use crate::value::Value;

impl Analysis {
    /// Evaluates with values given by name, rather than as `--at` text, and
    /// the upstream gradient `grad` (a number, or a tensor of the output's
    /// shape).
    ///
    /// ```
    /// use gradexplain::{Analysis, Value};
    /// let mut a = Analysis::new("f(x, y, z) = (x + y) * z").unwrap();
    /// a.evaluate_with(&[("x", (-2.0).into()), ("y", 5.0.into()), ("z", (-4.0).into())], 1.0)
    ///     .unwrap();
    /// assert_eq!(a.value(), Some(&Value::Scalar(-12.0)));
    /// assert_eq!(a.gradient("z"), Some(Value::Scalar(3.0)));
    /// ```
    pub fn evaluate_with(
        &mut self,
        values: &[(&str, Value)],
        grad: impl Into<Value>,
    ) -> Result<()> {
        let at: Vec<Assignment> = values
            .iter()
            .map(|(name, value)| {
                // The text an error would point into, as if it came from --at.
                let source = format!("{name}={value}");
                Assignment {
                    name: (*name).to_string(),
                    value: value.clone(),
                    span: Span::new(0, name.len()),
                    source: source.into(),
                }
            })
            .collect();
        self.evaluate(&at, &grad.into())
    }

    /// The output's value, once evaluated.
    ///
    /// ```
    /// use gradexplain::{Analysis, Value};
    /// let mut a = Analysis::new("f(x) = x^2").unwrap();
    /// assert_eq!(a.value(), None);
    /// a.evaluate_with(&[("x", 3.0.into())], 1.0).unwrap();
    /// assert_eq!(a.value(), Some(&Value::Scalar(9.0)));
    /// ```
    pub fn value(&self) -> Option<&Value> {
        match &self.numeric {
            Some(n) => n.forward.values.get(self.circuit.output.index()),
            None => self.results.as_ref().map(|r| &r.value),
        }
    }

    /// Each parameter's gradient — ∂output/∂parameter times the upstream
    /// gradient — by name, in parameter order; `None` for an index parameter.
    /// Empty before [`Analysis::evaluate`].
    ///
    /// ```
    /// use gradexplain::{Analysis, Value};
    /// let mut a = Analysis::new("f(x, y) = x * y").unwrap();
    /// a.evaluate_with(&[("x", 3.0.into()), ("y", (-4.0).into())], 2.0).unwrap();
    /// let g = a.gradients();
    /// assert_eq!(g[0], ("x".to_string(), Some(Value::Scalar(-8.0))));
    /// assert_eq!(g[1], ("y".to_string(), Some(Value::Scalar(6.0))));
    /// ```
    pub fn gradients(&self) -> Vec<(String, Option<Value>)> {
        let Some(r) = self.outcome() else {
            return Vec::new();
        };
        let grads = r.gradients;
        let names = self.circuit.params.iter().map(|p| p.name.clone());
        names.zip(grads).collect()
    }

    /// One parameter's gradient, by name: `None` before evaluation, for an
    /// index parameter, or for a name that is not a parameter.
    ///
    /// ```
    /// use gradexplain::{Analysis, Value};
    /// let mut a = Analysis::new("2 * (x*y + max(z, w))").unwrap();
    /// let v = |x: f64| Value::Scalar(x);
    /// a.evaluate_with(&[("x", v(3.0)), ("y", v(-4.0)), ("z", v(2.0)), ("w", v(-1.0))], 1.0)
    ///     .unwrap();
    /// assert_eq!(a.gradient("z"), Some(v(2.0))); // max routes the gradient to z
    /// assert_eq!(a.gradient("w"), Some(v(0.0)));
    /// assert_eq!(a.gradient("q"), None);
    /// ```
    pub fn gradient(&self, name: &str) -> Option<Value> {
        self.gradients()
            .into_iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, g)| g)
    }

    /// The explanation a student reads, as plain text: the program, the
    /// forward pass, the backward pass gate by gate, the gradients and the
    /// notes — or, before evaluation, the local gradients symbolically.
    ///
    /// ```
    /// use gradexplain::Analysis;
    /// let mut a = Analysis::new("f(x, y) = x * y").unwrap();
    /// a.evaluate_with(&[("x", 3.0.into()), ("y", (-4.0).into())], 2.0).unwrap();
    /// let text = a.explain();
    /// assert!(text.contains("multiply gate"));
    /// assert!(text.contains("dx = y · grad = -4 · 2 = -8"));
    /// ```
    pub fn explain(&self) -> String {
        text::explain(self, text::Options::default()).render(false)
    }

    /// The contract's JSON report (`--format json`), as a value to inspect or
    /// serialize.
    ///
    /// ```
    /// use gradexplain::Analysis;
    /// let mut a = Analysis::new("f(x, y) = x * y").unwrap();
    /// a.evaluate_with(&[("x", 3.0.into()), ("y", (-4.0).into())], 2.0).unwrap();
    /// let r = a.report();
    /// assert_eq!(r["value"], -12);
    /// assert_eq!(r["gradients"]["y"], 6);
    /// assert_eq!(r["gates"][2]["op"], "mul");
    /// ```
    pub fn report(&self) -> serde_json::Value {
        json::report(self, &json::Extras::default())
    }
}
