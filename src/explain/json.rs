//! The contract's JSON report.
//!
//! The report is serialized straight from the analysis, one gate at a time
//! ([`write_report`]): a million-gate report never exists as a tree of
//! `serde_json::Value`s (which took about a kilobyte per gate), only as bytes
//! going out through a buffered writer. [`report`] builds the tree for callers
//! that want to inspect it; both go through the same [`Serialize`] code, so
//! they agree to the byte.

use crate::analysis::Analysis;
use crate::gate::Op;
use crate::graph::{Circuit, GateId};
use crate::value::{Shape, Value};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value as Json, json};
use std::cell::RefCell;

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
    /// `symbolic` from the derivatives themselves, each program printed into the
    /// report as it is written, never held whole; used instead of `symbolic`.
    pub derivatives: Option<Box<crate::symbolic::Symbolic>>,
    /// `check`: the largest relative error, whether it passes, and how many
    /// elements it counted.
    pub check: Option<CheckSummary>,
    /// More notes (the symbolic derivatives', the gradient check's).
    pub notes: Vec<String>,
    /// Leave out the per-gate detail and the symbolic derivatives (`--summary`).
    pub summary: bool,
}

/// Builds the report as a tree.
pub fn report(a: &Analysis, extras: &Extras) -> Json {
    serde_json::to_value(Report { a, extras }).unwrap_or(Json::Null)
}

/// Writes the report, pretty-printed as [`report`] would be, followed by a line
/// break. Only the writer can fail.
pub fn write_report(
    w: &mut dyn std::io::Write,
    a: &Analysis,
    extras: &Extras,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &Report { a, extras })?;
    w.write_all(b"\n")
}

/// The whole report, in the contract's key order.
struct Report<'a> {
    a: &'a Analysis,
    extras: &'a Extras,
}

impl Serialize for Report<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (a, extras) = (self.a, self.extras);
        let c = &a.circuit;
        let mut r = s.serialize_map(None)?;
        r.serialize_entry("output", &c.output_name)?;
        r.serialize_entry("params", &Params(c))?;
        if !extras.summary {
            if let Some(d) = &extras.derivatives {
                r.serialize_entry("symbolic", &Programs(c, d))?;
            } else if let Some(sym) = &extras.symbolic {
                r.serialize_entry("symbolic", &Pairs(sym))?;
            }
        }
        let outcome = a.outcome();
        if let Some(o) = &outcome {
            r.serialize_entry("value", &V(&o.value))?;
            r.serialize_entry("upstream", &V(&o.upstream))?;
            r.serialize_entry("gradients", &Gradients(c, &o.gradients))?;
        }
        if !extras.summary {
            r.serialize_entry("gates", &Gates(a))?;
        }
        let mut notes = super::text::notes_of(a, outcome.as_ref());
        notes.extend(extras.notes.iter().cloned());
        r.serialize_entry("notes", &notes)?;
        if let Some(k) = extras.check {
            r.serialize_entry("check", &Check(k))?;
        }
        r.end()
    }
}

/// A number, as [`number`] writes it.
struct Num(f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_nan() {
            s.serialize_str("nan")
        } else if x.is_infinite() {
            s.serialize_str(if x > 0.0 { "inf" } else { "-inf" })
        } else if x.fract() == 0.0 && x.abs() < 9.0e15 {
            let i = x as i64;
            // As serde_json's own numbers: a non-negative integer is unsigned.
            if i >= 0 {
                s.serialize_u64(i as u64)
            } else {
                s.serialize_i64(i)
            }
        } else {
            s.serialize_f64(x)
        }
    }
}

/// A value, as [`value`] writes it.
struct V<'a>(&'a Value);

impl Serialize for V<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Scalar(x) => Num(*x).serialize(s),
            Value::Tensor(a) if a.ndim() == 1 => s.collect_seq(a.iter().map(|&x| Num(x))),
            Value::Tensor(a) => s.collect_seq(a.outer_iter().map(Row)),
        }
    }
}

struct Row<'a>(ndarray::ArrayView<'a, f64, ndarray::IxDyn>);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|&x| Num(x)))
    }
}

struct Params<'a>(&'a Circuit);

impl Serialize for Params<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.params.iter().map(|p| &p.name))
    }
}

struct Pairs<'a>(&'a [(String, Option<String>)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

struct Programs<'a>(&'a Circuit, &'a crate::symbolic::Symbolic);

impl Serialize for Programs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Programs(c, sym) = *self;
        s.collect_map(
            c.params
                .iter()
                .enumerate()
                .map(|(k, p)| (&p.name, sym.has_program(k).then_some(Program(sym, k)))),
        )
    }
}

/// One derivative program, written into the JSON string as it is printed.
struct Program<'a>(&'a crate::symbolic::Symbolic, usize);

impl Serialize for Program<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Program<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.write_program(self.1, f)
    }
}

struct Gradients<'a>(&'a Circuit, &'a [Option<Value>]);

impl Serialize for Gradients<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Gradients(c, grads) = *self;
        s.collect_map(
            c.params
                .iter()
                .zip(grads)
                .map(|(p, g)| (&p.name, g.as_ref().map(V))),
        )
    }
}

/// The contract's `max_rel_error` and `ok`, and beside them how many
/// elements were `checked` (compared and counted) and how many were
/// `not_counted`: with none checked, `ok` says only that nothing failed.
struct Check(CheckSummary);

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let k = &self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("max_rel_error", &Num(k.max_rel_error))?;
        m.serialize_entry("ok", &k.ok)?;
        m.serialize_entry("checked", &k.checked)?;
        m.serialize_entry("not_counted", &k.not_counted)?;
        m.end()
    }
}

/// What the report says of a gradient check.
#[derive(Clone, Copy, Debug)]
pub struct CheckSummary {
    /// The largest counted relative error.
    pub max_rel_error: f64,
    /// Whether it is below the tolerance.
    pub ok: bool,
    /// Elements compared and counted.
    pub checked: usize,
    /// Elements not counted: at a kink, or where nothing could be compared.
    pub not_counted: usize,
}

impl From<&crate::check::Check> for CheckSummary {
    fn from(k: &crate::check::Check) -> CheckSummary {
        let (checked, not_counted) = k.counted();
        CheckSummary {
            max_rel_error: k.max_rel_error,
            ok: k.ok,
            checked,
            not_counted,
        }
    }
}

/// Every gate in forward order, each serialized as it is reached.
struct Gates<'a>(&'a Analysis);

impl Serialize for Gates<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let c = &a.circuit;
        let req = c.requires_grad_slice();
        let formulas = RefCell::new(super::local::Formulas::default());
        let mut seq = s.serialize_seq(Some(c.len()))?;
        for g in c.gates() {
            seq.serialize_element(&GateEntry {
                a,
                g,
                req: req[g.index()],
                formulas: &formulas,
            })?;
        }
        seq.end()
    }
}

struct GateEntry<'a> {
    a: &'a Analysis,
    g: GateId,
    req: bool,
    formulas: &'a RefCell<super::local::Formulas>,
}

impl Serialize for GateEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (c, g) = (&self.a.circuit, self.g);
        let op = c.op(g);
        let inputs = c.input_slice(g);
        let label = c.label(g);
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &g.index())?;
        o.serialize_entry("op", op.name())?;
        o.serialize_entry("inputs", &Ids(inputs))?;
        o.serialize_entry("label", &label)?;
        if c.stage_names.contains_key(&g) {
            o.serialize_entry("names", &Names(c, g))?;
        }
        match op {
            // The parameter's own name: its label may be a stage's (`h0 = x0`).
            Op::Input(_) => match c.param_of(g) {
                Some(p) => o.serialize_entry("param", &p.name)?,
                None => o.serialize_entry("param", &label)?,
            },
            Op::Const(x) => o.serialize_entry("const", &Num(x))?,
            _ => {
                o.serialize_entry("formula", &c.formula(g))?;
                if self.req {
                    let mut f = self.formulas.borrow_mut();
                    let locals: Vec<Option<String>> = (0..inputs.len())
                        .map(|slot| f.formula(c, g, slot))
                        .collect();
                    o.serialize_entry("local", &locals)?;
                }
            }
        }
        if let Some(n) = &self.a.numeric {
            o.serialize_entry("shape", &Dims(n.forward.shapes[g.index()]))?;
            o.serialize_entry("value", &V(&n.forward.values[g.index()]))?;
            o.serialize_entry("grad", &n.backward.grads[g.index()].as_ref().map(V))?;
        }
        o.end()
    }
}

struct Ids<'a>(&'a [GateId]);

impl Serialize for Ids<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|i| i.index()))
    }
}

struct Names<'a>(&'a Circuit, GateId);

impl Serialize for Names<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.stage_names.of(self.1))
    }
}

struct Dims(Shape);

impl Serialize for Dims {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Shape::Scalar => s.collect_seq(std::iter::empty::<usize>()),
            Shape::Vector(n) => s.collect_seq([n]),
            Shape::Matrix(r, c) => s.collect_seq([r, c]),
        }
    }
}
