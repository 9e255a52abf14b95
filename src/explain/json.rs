//! The contract's JSON report.

use crate::analysis::Analysis;
use crate::gate::Op;
use crate::value::{Shape, Value};
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
    if !extras.summary {
        r.insert("gates".into(), Json::Array(gates(a)));
    }
    r.insert(
        "notes".into(),
        super::text::notes(a)
            .into_iter()
            .chain(extras.notes.iter().cloned())
            .map(Json::from)
            .collect(),
    );
    if let Some((err, ok)) = extras.check {
        r.insert(
            "check".into(),
            json!({ "max_rel_error": number(err), "ok": ok }),
        );
    }
    Json::Object(r)
}

fn gates(a: &Analysis) -> Vec<Json> {
    let c = &a.circuit;
    let req = c.requires_grad();
    c.gates()
        .map(|g| {
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
                    o.insert("param".into(), json!(c.label(g)));
                }
                Op::Const(x) => {
                    o.insert("const".into(), number(x));
                }
                _ => {
                    o.insert("formula".into(), json!(c.formula(g)));
                    if req[g.index()] {
                        let locals: Vec<Json> = (0..c.inputs(g).len())
                            .map(|slot| {
                                super::local::formula(c, g, slot).map_or(Json::Null, Json::from)
                            })
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
        })
        .collect()
}
