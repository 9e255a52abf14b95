//! The contract's JSON report.

use crate::analysis::Analysis;
use crate::gate::Op;
use crate::value::{Shape, Value};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value as Json, json};

/// A number as the report writes it: a JSON number, or `"inf"`, `"-inf"`, `"nan"`.
pub fn number(x: f64) -> Json {
    if x.is_nan() {
        Json::from("nan")
    } else if x.is_infinite() {
        Json::from(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        // Integral values print without a fraction: -8, not -8.0.
        if x.fract() == 0.0 && x.abs() < 9.0e15 {
            Json::from(x as i64)
        } else {
            Json::from(x)
        }
    }
}

/// A value: a number, or nested arrays for a tensor.
pub fn value(v: &Value) -> Json {
    match v {
        Value::Scalar(x) => number(*x),
        Value::Tensor(a) if a.ndim() == 1 => Json::Array(a.iter().map(|&x| number(x)).collect()),
        Value::Tensor(a) => Json::Array(
            a.outer_iter()
                .map(|r| Json::Array(r.iter().map(|&x| number(x)).collect()))
                .collect(),
        ),
    }
}

/// A shape as a list of dimensions: `[]`, `[3]`, `[2, 3]`.
pub fn shape(s: Shape) -> Json {
    match s {
        Shape::Scalar => json!([]),
        Shape::Vector(n) => json!([n]),
        Shape::Matrix(r, c) => json!([r, c]),
    }
}

/// What the report holds besides the contract's always-present keys.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// `symbolic`: for each parameter, its derivative program (`None`: `null`).
    pub symbolic: Option<Vec<(String, Option<String>)>>,
    /// `check`: the largest relative error and whether it passes.
    pub check: Option<(f64, bool)>,
    /// More notes (the symbolic derivatives', the gradient check's).
    pub notes: Vec<String>,
    /// Leave out the per-gate detail and the symbolic derivatives (`--summary`).
    pub summary: bool,
}

/// Builds the report.
pub fn report(a: &Analysis, extras: &Extras) -> Json {
    let (head, tail) = parts(a, extras);
    let mut r = head;
    if !extras.summary {
        let req = a.circuit.requires_grad();
        let gates = a.circuit.gates().map(|g| gate(a, g, &req)).collect();
        r.insert("gates".into(), Json::Array(gates));
    }
    r.extend(tail);
    Json::Object(r)
}

/// The report as pretty-printed JSON text, the same as [`report`] gives, but
/// written gate by gate: a million-stage program's report never exists as one
/// tree of JSON values (that took gigabytes), only as its text.
///
/// ```
/// use gradexplain::explain::json::{Extras, report, to_string_pretty};
/// let mut a = gradexplain::Analysis::new("f(x) = x * x").unwrap();
/// a.evaluate_with(&[("x", 3.0.into())], 1.0).unwrap();
/// let e = Extras::default();
/// assert_eq!(to_string_pretty(&a, &e), serde_json::to_string_pretty(&report(&a, &e)).unwrap());
/// ```
pub fn to_string_pretty(a: &Analysis, extras: &Extras) -> String {
    let (head, tail) = parts(a, extras);
    let streamed = Streamed {
        a,
        head,
        gates: !extras.summary,
        tail,
    };
    let mut buf = Vec::new();
    // Writing JSON values to memory cannot fail: every key is a string and every
    // number finite.
    let _ = serde_json::to_writer_pretty(&mut buf, &streamed);
    String::from_utf8(buf).unwrap_or_default()
}

/// The report around its gates: the keys before `gates` and those after it.
fn parts(a: &Analysis, extras: &Extras) -> (Map<String, Json>, Map<String, Json>) {
    let c = &a.circuit;
    let mut r = Map::new();
    r.insert("output".into(), Json::from(c.output_name.clone()));
    r.insert(
        "params".into(),
        c.params
            .iter()
            .map(|p| Json::from(p.name.clone()))
            .collect(),
    );
    if let (Some(sym), false) = (&extras.symbolic, extras.summary) {
        let m: Map<String, Json> = sym
            .iter()
            .map(|(p, d)| (p.clone(), d.clone().map_or(Json::Null, Json::from)))
            .collect();
        r.insert("symbolic".into(), Json::Object(m));
    }
    if let Some(n) = &a.numeric {
        r.insert("value".into(), value(&n.forward.values[c.output.index()]));
        r.insert("upstream".into(), value(&n.backward.upstream));
        let grads = n.backward.param_grads(c, &n.forward);
        let m: Map<String, Json> = c
            .params
            .iter()
            .zip(grads)
            .map(|(p, g)| (p.name.clone(), g.as_ref().map_or(Json::Null, value)))
            .collect();
        r.insert("gradients".into(), Json::Object(m));
    }
    let mut tail = Map::new();
    tail.insert(
        "notes".into(),
        super::text::notes(a)
            .into_iter()
            .chain(extras.notes.iter().cloned())
            .map(Json::from)
            .collect(),
    );
    if let Some((err, ok)) = extras.check {
        tail.insert(
            "check".into(),
            json!({ "max_rel_error": number(err), "ok": ok }),
        );
    }
    (r, tail)
}

/// The report with its gates made one at a time, as the serializer asks.
struct Streamed<'a> {
    a: &'a Analysis,
    head: Map<String, Json>,
    gates: bool,
    tail: Map<String, Json>,
}

impl Serialize for Streamed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in &self.head {
            m.serialize_entry(k, v)?;
        }
        if self.gates {
            m.serialize_entry("gates", &Gates(self.a))?;
        }
        for (k, v) in &self.tail {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

struct Gates<'a>(&'a Analysis);

impl Serialize for Gates<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.0.circuit;
        let req = c.requires_grad();
        let mut seq = s.serialize_seq(Some(c.len()))?;
        for g in c.gates() {
            seq.serialize_element(&gate(self.0, g, &req))?;
        }
        seq.end()
    }
}

/// One gate's object; `req` is the circuit's [`crate::Circuit::requires_grad`].
fn gate(a: &Analysis, g: crate::graph::GateId, req: &[bool]) -> Json {
    let c = &a.circuit;
    let op = c.op(g);
    let mut o = Map::new();
    o.insert("id".into(), json!(g.index()));
    o.insert("op".into(), json!(op.name()));
    o.insert(
        "inputs".into(),
        c.inputs(g).iter().map(|i| json!(i.index())).collect(),
    );
    o.insert("label".into(), json!(c.label(g)));
    if let Some(names) = c.stage_names.get(&g) {
        o.insert("names".into(), json!(names));
    }
    match op {
        Op::Input(_) => {
            // The parameter's own name: `label` is the output's name when the
            // program is just `x`.
            let name = c.param_of(g).map(|p| p.name.as_str());
            o.insert("param".into(), json!(name));
        }
        Op::Const(x) => {
            o.insert("const".into(), number(x));
        }
        _ => {
            o.insert("formula".into(), json!(c.formula(g)));
            if req[g.index()] {
                let locals: Vec<Json> = (0..c.inputs(g).len())
                    .map(|slot| super::local::formula(c, g, slot).map_or(Json::Null, Json::from))
                    .collect();
                o.insert("local".into(), Json::Array(locals));
            }
        }
    }
    if let Some(n) = &a.numeric {
        o.insert("shape".into(), shape(n.forward.shapes[g.index()]));
        o.insert("value".into(), value(&n.forward.values[g.index()]));
        o.insert(
            "grad".into(),
            n.backward.grads[g.index()]
                .as_ref()
                .map_or(Json::Null, value),
        );
    }
    Json::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{parse_assignments, parse_grad};

    #[test]
    fn streamed_text_is_the_tree_printed() {
        for (src, at, grad) in [
            ("f(x, y) = x * y", "x=3,y=-4", "2"),
            ("q = x + y; f = q * q", "", "1"),
            (
                "L(W, x, y) = sum(max(0, W @ x - (W @ x)[y] + 1))",
                "W=[[1, 2], [3, -4]],x=[1, -1],y=1",
                "1",
            ),
            ("f(x) = x * 1e999 - 1e999", "x=1", "-1"),
        ] {
            let mut a = Analysis::new(src).unwrap();
            if !at.is_empty() {
                a.evaluate(&parse_assignments(at).unwrap(), &parse_grad(grad).unwrap())
                    .unwrap();
            }
            for summary in [false, true] {
                let extras = Extras {
                    symbolic: Some(vec![("x".into(), Some("df_dx(x) = 1".into()))]),
                    check: Some((1e-9, true)),
                    notes: vec!["a note".into()],
                    summary,
                };
                let tree = serde_json::to_string_pretty(&report(&a, &extras)).unwrap();
                assert_eq!(to_string_pretty(&a, &extras), tree, "{src}");
            }
        }
    }
}
