//! The gate table: for each kind of gate, its symbol, arity, shape rule, forward
//! rule, local gradient (numeric and symbolic), the subgradient it picks at a kink
//! and the sentence that explains it. One operator, one place: adding a gate means
//! adding one variant and filling in each `match` below, and the compiler points
//! at every one.

use crate::value::{Shape, Value, broadcast_shape, dot_shape, fmt_num};

/// A gate's operation. Constants and inputs are gates too, so that every wire
/// starts at a gate.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// The parameter with this index (in the order of [`crate::Circuit::params`]).
    Input(u32),
    /// A numeric literal.
    Const(f64),
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`, elementwise.
    Mul,
    /// `a / b`
    Div,
    /// `a ^ b`, `a ** b`, `pow(a, b)`
    Pow,
    /// `-a`
    Neg,
    /// `a · b`, `a @ b`, `dot(a, b)`: numpy's `dot`.
    Dot,
    /// `max(a, b)`; more arguments are lowered to a chain of two-input gates.
    Max,
    /// `min(a, b)`
    Min,
    /// `relu(a)` = `max(0, a)`
    Relu,
    /// `abs(a)`
    Abs,
    /// `exp(a)`
    Exp,
    /// `log(a)`, natural.
    Log,
    /// `sqrt(a)`
    Sqrt,
    /// `sigmoid(a)`, `σ(a)`
    Sigmoid,
    /// `tanh(a)`
    Tanh,
    /// `sin(a)`
    Sin,
    /// `cos(a)`
    Cos,
    /// `step(a)`: 1 where a > 0, else 0.
    Step,
    /// `sign(a)`: -1, 0 or 1.
    Sign,
    /// `sum(v)`: the sum of all elements.
    Sum,
    /// `mean(v)`: the mean of all elements.
    Mean,
    /// `transpose(M)`
    Transpose,
    /// `outer(u, v)`: the outer product `u vᵀ` of two vectors (an extension: the
    /// gradient of a matrix-vector product is one).
    Outer,
    /// `v[i]`, `M[i]`, `M[i, j]`: the first input is indexed by the others, which
    /// carry no gradient.
    Index,
    /// `scatter(x, v, i)`, `scatter(x, v, i, j)`: zeros shaped like `x`, with `v`
    /// at `x[i]` or `x[i, j]` — the gradient of indexing, so that the symbolic
    /// derivative of `v[i]` can be written (an extension).
    Scatter,
}

/// How many arguments a function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arity {
    /// The fewest arguments.
    pub min: usize,
    /// The most arguments, `None` for no limit.
    pub max: Option<usize>,
}

impl Arity {
    const fn exactly(n: usize) -> Arity {
        Arity {
            min: n,
            max: Some(n),
        }
    }

    /// True when `n` arguments are accepted.
    pub fn accepts(self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }

    /// "1 argument", "2 arguments", "2 or more arguments".
    pub fn describe(self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self.max {
            Some(m) if m == self.min => format!("{m} {}", plural(m)),
            Some(m) => format!("{} to {m} arguments", self.min),
            None => format!("{} or more arguments", self.min),
        }
    }
}

/// The built-in functions: name, gate and arity. `σ` is `sigmoid`.
pub const FUNCTIONS: &[(&str, Op, Arity)] = &[
    ("max", Op::Max, Arity { min: 2, max: None }),
    ("min", Op::Min, Arity { min: 2, max: None }),
    ("relu", Op::Relu, Arity::exactly(1)),
    ("abs", Op::Abs, Arity::exactly(1)),
    ("exp", Op::Exp, Arity::exactly(1)),
    ("log", Op::Log, Arity::exactly(1)),
    ("sqrt", Op::Sqrt, Arity::exactly(1)),
    ("sigmoid", Op::Sigmoid, Arity::exactly(1)),
    ("σ", Op::Sigmoid, Arity::exactly(1)),
    ("tanh", Op::Tanh, Arity::exactly(1)),
    ("sin", Op::Sin, Arity::exactly(1)),
    ("cos", Op::Cos, Arity::exactly(1)),
    ("pow", Op::Pow, Arity::exactly(2)),
    ("sum", Op::Sum, Arity::exactly(1)),
    ("mean", Op::Mean, Arity::exactly(1)),
    ("dot", Op::Dot, Arity::exactly(2)),
    ("transpose", Op::Transpose, Arity::exactly(1)),
    ("outer", Op::Outer, Arity::exactly(2)),
    ("step", Op::Step, Arity::exactly(1)),
    ("sign", Op::Sign, Arity::exactly(1)),
    (
        "scatter",
        Op::Scatter,
        Arity {
            min: 3,
            max: Some(4),
        },
    ),
];

/// Looks up a built-in function by name.
pub fn function(name: &str) -> Option<(Op, Arity)> {
    FUNCTIONS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, op, arity)| (op, arity))
}

/// How an operator is written when printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// A leaf: a name or a number.
    Leaf,
    /// `a OP b` with this precedence level (1 loosest) and right-associativity flag.
    Infix(u8, bool),
    /// `-a`, precedence level 3.
    Prefix,
    /// `name(a, …)`
    Call,
    /// `a[i, …]`
    Index,
}

/// Precedence levels of the contract's table.
pub mod prec {
    /// `+ -`
    pub const ADD: u8 = 1;
    /// `* / · @`
    pub const MUL: u8 = 2;
    /// unary `-`
    pub const UNARY: u8 = 3;
    /// `^`
    pub const POW: u8 = 4;
    /// calls, indexing, atoms
    pub const POSTFIX: u8 = 5;
}

/// Why a gate could not compute its value: the contract's domain errors.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainError(pub String);

/// A symbolic expression builder: the gate table writes each local gradient once,
/// against this interface, and every consumer (the text explanation, the
/// symbolic differentiator) builds it in its own representation.
pub trait Builder {
    /// A handle on a built expression.
    type Id: Clone;
    /// A numeric constant.
    fn num(&mut self, x: f64) -> Self::Id;
    /// An operation on already-built expressions.
    fn apply(&mut self, op: Op, args: &[Self::Id]) -> Self::Id;
}

impl Op {
    /// The short name used in the JSON report's `op` field.
    pub fn name(self) -> &'static str {
        match self {
            Op::Input(_) => "input",
            Op::Const(_) => "const",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Pow => "pow",
            Op::Neg => "neg",
            Op::Dot => "dot",
            Op::Max => "max",
            Op::Min => "min",
            Op::Relu => "relu",
            Op::Abs => "abs",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Sqrt => "sqrt",
            Op::Sigmoid => "sigmoid",
            Op::Tanh => "tanh",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Step => "step",
            Op::Sign => "sign",
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::Transpose => "transpose",
            Op::Outer => "outer",
            Op::Index => "index",
            Op::Scatter => "scatter",
        }
    }

    /// The symbol in the tool's own language: `+`, `·`, or the function's name.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Pow => "^",
            Op::Neg => "-",
            Op::Dot => "·",
            Op::Index => "[]",
            op => op.name(),
        }
    }

    /// How the operator is printed.
    pub fn notation(self) -> Notation {
        match self {
            Op::Input(_) | Op::Const(_) => Notation::Leaf,
            Op::Add | Op::Sub => Notation::Infix(prec::ADD, false),
            Op::Mul | Op::Div | Op::Dot => Notation::Infix(prec::MUL, false),
            Op::Pow => Notation::Infix(prec::POW, true),
            Op::Neg => Notation::Prefix,
            Op::Index => Notation::Index,
            _ => Notation::Call,
        }
    }

    /// True for gates whose inputs do not feed a gradient back through every slot:
    /// an index's position carries none.
    pub fn carries_gradient(self, slot: usize) -> bool {
        match self {
            Op::Index => slot == 0,
            Op::Scatter => slot < 2,
            _ => true,
        }
    }

    /// The operand position where a gate's indices start, for gates that index.
    pub fn first_index(self) -> Option<usize> {
        match self {
            Op::Index => Some(1),
            Op::Scatter => Some(2),
            _ => None,
        }
    }

    /// True for gates that act element by element (with scalar broadcasting), whose
    /// local gradient is an elementwise value.
    pub fn is_elementwise(self) -> bool {
        !matches!(
            self,
            Op::Dot | Op::Sum | Op::Mean | Op::Transpose | Op::Outer | Op::Index | Op::Scatter
        )
    }

    /// The sentence that names the gate's pattern, as the notes name it.
    pub fn pattern(self) -> &'static str {
        match self {
            Op::Input(_) => "an input: the gradient that reaches it is the answer",
            Op::Const(_) => "a constant: it receives a gradient, but nothing uses it",
            Op::Add => "add gate: distributes the gradient — each input gets it unchanged",
            Op::Sub => "subtract gate: distributes the gradient, negated for the right input",
            Op::Mul => {
                "multiply gate: swaps its inputs' values — each input's local gradient is the other input — and scales by the gradient"
            }
            Op::Div => "divide gate: a/b passes 1/b to a and −a/b² to b, scaled by the gradient",
            Op::Pow => "power gate: a^b passes b·a^(b−1) to a and a^b·ln(a) to b",
            Op::Neg => "negate gate: passes the gradient on with its sign flipped",
            Op::Dot => {
                "dot-product gate: a multiply gate for tensors — each side's gradient is the other side, transposed so the shapes match"
            }
            Op::Max => "max gate: routes the gradient to the larger input; the other gets 0",
            Op::Min => "min gate: routes the gradient to the smaller input; the other gets 0",
            Op::Relu => {
                "relu gate: a max with 0 — passes the gradient where its input is positive, blocks it elsewhere"
            }
            Op::Abs => "abs gate: passes the gradient times the sign of its input",
            Op::Exp => "exp gate: its local gradient is its own output",
            Op::Log => "log gate: its local gradient is 1/input",
            Op::Sqrt => "sqrt gate: its local gradient is 1/(2·output)",
            Op::Sigmoid => {
                "sigmoid gate: its local gradient σ(z)(1 − σ(z)) comes from its own output"
            }
            Op::Tanh => "tanh gate: its local gradient 1 − tanh(z)² comes from its own output",
            Op::Sin => "sin gate: its local gradient is cos(input)",
            Op::Cos => "cos gate: its local gradient is −sin(input)",
            Op::Step => "step gate: flat on both sides of its jump, so it passes no gradient",
            Op::Sign => "sign gate: flat on both sides of its jump, so it passes no gradient",
            Op::Sum => {
                "sum gate: an add gate over the elements — copies the gradient to every element"
            }
            Op::Mean => {
                "mean gate: an add gate scaled by 1/n — each element gets 1/n of the gradient"
            }
            Op::Transpose => "transpose gate: transposes the gradient back",
            Op::Outer => "outer-product gate: u vᵀ passes grad·v to u and gradᵀ·u to v",
            Op::Index => {
                "index gate: routes the gradient to the selected element; the index itself gets none"
            }
            Op::Scatter => {
                "scatter gate: the gradient of indexing — passes back the gradient's element at the index to the value, nothing to the template"
            }
        }
    }

    /// The shape of the gate's output, or the contract's shape error.
    pub fn out_shape(self, ins: &[Shape]) -> Result<Shape, String> {
        let mismatch = |sym: &str| {
            format!(
                "cannot take {} {sym} {}: shapes {} and {} differ",
                ins[0], ins[1], ins[0], ins[1]
            )
        };
        match self {
            Op::Input(_) | Op::Const(_) => Ok(Shape::Scalar),
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow => {
                broadcast_shape(ins[0], ins[1]).ok_or_else(|| mismatch(self.symbol()))
            }
            Op::Max | Op::Min => broadcast_shape(ins[0], ins[1]).ok_or_else(|| {
                format!(
                    "cannot take {}({}, {}): shapes {} and {} differ",
                    self.name(),
                    ins[0],
                    ins[1],
                    ins[0],
                    ins[1]
                )
            }),
            Op::Dot => dot_shape(ins[0], ins[1]).ok_or_else(|| {
                let inner = |s: Shape, left: bool| match s {
                    Shape::Vector(n) => n,
                    Shape::Matrix(r, c) => {
                        if left {
                            c
                        } else {
                            r
                        }
                    }
                    Shape::Scalar => 1,
                };
                format!(
                    "cannot take {} · {}: inner dimensions {} and {} differ",
                    ins[0],
                    ins[1],
                    inner(ins[0], true),
                    inner(ins[1], false)
                )
            }),
            Op::Sum | Op::Mean => Ok(Shape::Scalar),
            Op::Transpose => Ok(match ins[0] {
                Shape::Matrix(r, c) => Shape::Matrix(c, r),
                s => s,
            }),
            Op::Outer => match (ins[0], ins[1]) {
                (Shape::Vector(n), Shape::Vector(m)) => Ok(Shape::Matrix(n, m)),
                (a, b) => Err(format!("cannot take outer({a}, {b}): both must be vectors")),
            },
            Op::Index => {
                if let Some(s) = ins[1..].iter().find(|s| !s.is_scalar()) {
                    return Err(format!("an index must be a scalar, not {}", s.describe()));
                }
                match (ins[0], ins.len() - 1) {
                    (Shape::Vector(_), 1) => Ok(Shape::Scalar),
                    (Shape::Matrix(_, c), 1) => Ok(Shape::Vector(c)),
                    (Shape::Matrix(_, _), 2) => Ok(Shape::Scalar),
                    (Shape::Scalar, _) => Err("cannot index a scalar".into()),
                    (s, n) => Err(format!(
                        "cannot index {} with {n} indices: a vector takes 1 index, a matrix 1 (a row) or 2",
                        s.describe()
                    )),
                }
            }
            Op::Scatter => {
                let at = Op::Index.out_shape(&[&[ins[0]][..], &ins[2..]].concat())?;
                if ins[1] != at {
                    return Err(format!(
                        "cannot scatter a {} value into a {} position of a {} value",
                        ins[1], at, ins[0]
                    ));
                }
                Ok(ins[0])
            }
            _ => Ok(ins[0]),
        }
    }

    /// The forward rule: the gate's value from its inputs' values. Shapes have been
    /// checked; an index gate's positions are checked by the caller.
    pub fn forward(self, ins: &[&Value]) -> Result<Value, DomainError> {
        let unary = |f: fn(f64) -> f64| ins[0].map(f);
        Ok(match self {
            Op::Input(_) => ins[0].clone(),
            Op::Const(c) => Value::Scalar(c),
            Op::Add => ins[0].zip(ins[1], |a, b| a + b),
            Op::Sub => ins[0].zip(ins[1], |a, b| a - b),
            Op::Mul => ins[0].zip(ins[1], |a, b| a * b),
            Op::Div => {
                if let Some((a, b)) = pairs(ins).into_iter().find(|&(a, b)| a == 0.0 && b == 0.0) {
                    return Err(DomainError(format!(
                        "{} / {} is undefined",
                        fmt_num(a),
                        fmt_num(b)
                    )));
                }
                ins[0].zip(ins[1], |a, b| a / b)
            }
            Op::Pow => {
                if let Some((a, b)) = pairs(ins)
                    .into_iter()
                    .find(|&(a, b)| a < 0.0 && b.is_finite() && b.fract() != 0.0)
                {
                    return Err(DomainError(format!(
                        "cannot raise the negative number {} to the non-integer power {}",
                        fmt_num(a),
                        fmt_num(b)
                    )));
                }
                ins[0].zip(ins[1], f64::powf)
            }
            Op::Neg => unary(|a| -a),
            Op::Dot => ins[0].dot(ins[1]),
            Op::Max => ins[0].zip(ins[1], |a, b| if b > a { b } else { a }),
            Op::Min => ins[0].zip(ins[1], |a, b| if b < a { b } else { a }),
            Op::Relu => unary(|a| if a > 0.0 { a } else { 0.0 }),
            Op::Abs => unary(f64::abs),
            Op::Exp => unary(f64::exp),
            Op::Log => {
                if let Some(a) = ins[0].elements().find(|&a| a < 0.0) {
                    return Err(DomainError(format!(
                        "log({}) is undefined: log needs an input ≥ 0",
                        fmt_num(a)
                    )));
                }
                unary(f64::ln)
            }
            Op::Sqrt => {
                if let Some(a) = ins[0].elements().find(|&a| a < 0.0) {
                    return Err(DomainError(format!(
                        "sqrt({}) is undefined: sqrt needs an input ≥ 0",
                        fmt_num(a)
                    )));
                }
                unary(f64::sqrt)
            }
            Op::Sigmoid => unary(sigmoid),
            Op::Tanh => unary(f64::tanh),
            Op::Sin => unary(f64::sin),
            Op::Cos => unary(f64::cos),
            Op::Step => unary(|a| if a > 0.0 { 1.0 } else { 0.0 }),
            Op::Sign => unary(|a| {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    a * 0.0 // 0 stays 0; nan stays nan
                }
            }),
            Op::Sum => Value::Scalar(ins[0].sum()),
            Op::Mean => Value::Scalar(ins[0].sum() / ins[0].shape().len() as f64),
            Op::Transpose => ins[0].transpose(),
            Op::Outer => Value::outer(ins[0], ins[1]),
            Op::Index => ins[0].get(&indices(&ins[1..])),
            Op::Scatter => Value::scatter(ins[0].shape(), &indices(&ins[2..]), ins[1]),
        })
    }

    /// The local gradient `∂out/∂input[slot]` of an elementwise gate, elementwise
    /// (a scalar or the output's shape). `None` for gates that are not elementwise.
    /// At a kink it returns the subgradient that [`Op::kink`] describes.
    pub fn local(self, slot: usize, ins: &[&Value], out: &Value) -> Option<Value> {
        let a = ins[0];
        let from_a = |f: fn(f64) -> f64| a.map(f);
        Some(match (self, slot) {
            (Op::Add, _) | (Op::Sub, 0) => Value::Scalar(1.0),
            (Op::Sub, _) | (Op::Neg, _) => Value::Scalar(-1.0),
            (Op::Mul, 0) => ins[1].clone(),
            (Op::Mul, _) => a.clone(),
            (Op::Div, 0) => ins[1].map(|b| 1.0 / b),
            (Op::Div, _) => a.zip(ins[1], |a, b| -a / (b * b)),
            (Op::Pow, 0) => a.zip(
                ins[1],
                |a, b| if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) },
            ),
            (Op::Pow, _) => out.zip(a, |o, a| if o == 0.0 { 0.0 } else { o * a.ln() }),
            (Op::Max, 0) => a.zip(ins[1], route),
            (Op::Max, _) => a.zip(ins[1], |a, b| route(b, a)),
            (Op::Min, 0) => a.zip(ins[1], |a, b| route(b, a)),
            (Op::Min, _) => a.zip(ins[1], route),
            (Op::Relu, _) => from_a(|a| if a > 0.0 { 1.0 } else { 0.0 }),
            (Op::Abs, _) => from_a(|a| {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }),
            (Op::Exp, _) => out.clone(),
            (Op::Log, _) => from_a(|a| 1.0 / a),
            (Op::Sqrt, _) => out.map(|o| 0.5 / o),
            (Op::Sigmoid, _) => out.map(|s| s * (1.0 - s)),
            (Op::Tanh, _) => out.map(|t| 1.0 - t * t),
            (Op::Sin, _) => from_a(f64::cos),
            (Op::Cos, _) => from_a(|a| -a.sin()),
            (Op::Step | Op::Sign, _) => Value::Scalar(0.0),
            (Op::Input(_) | Op::Const(_), _) => Value::Scalar(1.0),
            _ => return None,
        })
    }

    /// The local gradient `∂out/∂input[slot]` as an expression over the gate's inputs
    /// `ins` and its own output `out`, for elementwise gates; `None` otherwise.
    /// It agrees with [`Op::local`] everywhere, kinks included (`step(0) = 0`,
    /// `sign(0) = 0`, a tie in `max` splits the gradient evenly).
    pub fn local_symbolic<B: Builder>(
        self,
        b: &mut B,
        slot: usize,
        ins: &[B::Id],
        out: &B::Id,
    ) -> Option<B::Id> {
        let x = ins[0].clone();
        let half_sign = |b: &mut B, p: B::Id, q: B::Id| {
            // (1 + sign(p - q)) / 2: 1 when p wins, 0 when it loses, ½ at a tie.
            let d = b.apply(Op::Sub, &[p, q]);
            let s = b.apply(Op::Sign, &[d]);
            let one = b.num(1.0);
            let n = b.apply(Op::Add, &[one, s]);
            let two = b.num(2.0);
            b.apply(Op::Div, &[n, two])
        };
        Some(match (self, slot) {
            (Op::Add, _) | (Op::Sub, 0) => b.num(1.0),
            (Op::Sub, _) | (Op::Neg, _) => b.num(-1.0),
            (Op::Mul, 0) => ins[1].clone(),
            (Op::Mul, _) => x,
            (Op::Div, 0) => {
                let one = b.num(1.0);
                b.apply(Op::Div, &[one, ins[1].clone()])
            }
            (Op::Div, _) => {
                let two = b.num(2.0);
                let sq = b.apply(Op::Pow, &[ins[1].clone(), two]);
                let q = b.apply(Op::Div, &[x, sq]);
                b.apply(Op::Neg, &[q])
            }
            (Op::Pow, 0) => {
                let one = b.num(1.0);
                let e = b.apply(Op::Sub, &[ins[1].clone(), one]);
                let p = b.apply(Op::Pow, &[x, e]);
                b.apply(Op::Mul, &[ins[1].clone(), p])
            }
            (Op::Pow, _) => {
                let l = b.apply(Op::Log, &[x]);
                b.apply(Op::Mul, &[out.clone(), l])
            }
            (Op::Max, 0) | (Op::Min, 1) => half_sign(b, x, ins[1].clone()),
            (Op::Max, _) | (Op::Min, _) => half_sign(b, ins[1].clone(), x),
            (Op::Relu, _) => b.apply(Op::Step, &[x]),
            (Op::Abs, _) => b.apply(Op::Sign, &[x]),
            (Op::Exp, _) => out.clone(),
            (Op::Log, _) => {
                let one = b.num(1.0);
                b.apply(Op::Div, &[one, x])
            }
            (Op::Sqrt, _) => {
                let two = b.num(2.0);
                let d = b.apply(Op::Mul, &[two, out.clone()]);
                let one = b.num(1.0);
                b.apply(Op::Div, &[one, d])
            }
            (Op::Sigmoid, _) => {
                let one = b.num(1.0);
                let c = b.apply(Op::Sub, &[one, out.clone()]);
                b.apply(Op::Mul, &[out.clone(), c])
            }
            (Op::Tanh, _) => {
                let one = b.num(1.0);
                let two = b.num(2.0);
                let sq = b.apply(Op::Pow, &[out.clone(), two]);
                b.apply(Op::Sub, &[one, sq])
            }
            (Op::Sin, _) => b.apply(Op::Cos, &[x]),
            (Op::Cos, _) => {
                let s = b.apply(Op::Sin, &[x]);
                b.apply(Op::Neg, &[s])
            }
            (Op::Step | Op::Sign, _) => b.num(0.0),
            (Op::Input(_) | Op::Const(_), _) => b.num(1.0),
            _ => return None,
        })
    }

    /// What the backward pass sends to input `slot`: the vector-Jacobian product of
    /// the upstream gradient `grad` with this gate, in the input's shape.
    pub fn vjp(self, slot: usize, ins: &[&Value], out: &Value, grad: &Value) -> Value {
        let in_shape = ins[slot].shape();
        if let Some(local) = self.local(slot, ins, out) {
            // A zero on either side means no gradient flows — even when the other side
            // is nan or inf (`max` routing nothing to the exponent of (-2)^b): routing
            // is exact, as the symbolic derivative `0 · anything = 0` is.
            let chain = |l: f64, g: f64| if l == 0.0 || g == 0.0 { 0.0 } else { l * g };
            return local.zip(grad, chain).reduce_to(in_shape);
        }
        match (self, slot) {
            // D = A·B: dA = G·Bᵀ, dB = Aᵀ·G, with vectors treated as numpy does.
            // A scalar side is an elementwise product: the scalar's gradient sums
            // G ⊙ other over every element it was multiplied into.
            (Op::Dot, 0) => match (in_shape, ins[1].shape()) {
                (Shape::Scalar, _) => Value::Scalar(grad.zip(ins[1], |g, b| g * b).sum()),
                (_, Shape::Scalar) | (Shape::Vector(_), Shape::Vector(_)) => {
                    grad.zip(ins[1], |g, b| g * b)
                }
                (Shape::Matrix(..), Shape::Vector(_)) => Value::outer(grad, ins[1]),
                _ => grad.dot(&ins[1].transpose()),
            },
            (Op::Dot, _) => match (ins[0].shape(), in_shape) {
                (_, Shape::Scalar) => Value::Scalar(ins[0].zip(grad, |a, g| a * g).sum()),
                (Shape::Scalar, _) | (Shape::Vector(_), Shape::Vector(_)) => {
                    ins[0].zip(grad, |a, g| a * g)
                }
                (Shape::Vector(_), Shape::Matrix(..)) => Value::outer(ins[0], grad),
                _ => ins[0].transpose().dot(grad),
            },
            (Op::Outer, 0) => grad.dot(ins[1]),
            (Op::Outer, _) => grad.transpose().dot(ins[0]),
            (Op::Sum, _) => Value::filled(in_shape, grad.sum()),
            (Op::Mean, _) => Value::filled(in_shape, grad.sum() / in_shape.len() as f64),
            (Op::Transpose, _) => grad.transpose(),
            (Op::Index, 0) => Value::scatter(in_shape, &indices(&ins[1..]), grad),
            (Op::Scatter, 1) => grad.get(&indices(&ins[2..])),
            _ => Value::filled(in_shape, 0.0),
        }
    }

    /// When the inputs sit on a kink of this gate, the subgradient convention used
    /// there, in words; `None` away from kinks.
    pub fn kink(self, ins: &[&Value]) -> Option<&'static str> {
        let at_zero = || ins[0].elements().any(|a| a == 0.0);
        match self {
            Op::Max | Op::Min if pairs(ins).into_iter().any(|(a, b)| a == b) => Some(
                "its inputs tie; subgradient: the gradient is split evenly between them (½ each)",
            ),
            Op::Relu if at_zero() => Some("its input is 0; subgradient 0 chosen (relu'(0) = 0)"),
            Op::Abs if at_zero() => Some("its input is 0; subgradient 0 chosen (sign(0) = 0)"),
            Op::Step | Op::Sign if at_zero() => {
                Some("its input is at the jump (0); derivative 0 chosen, as on either side")
            }
            _ => None,
        }
    }
}

/// Index values as positions; the caller has checked that they are whole and in range.
fn indices(ins: &[&Value]) -> Vec<usize> {
    ins.iter()
        .map(|v| v.as_scalar().unwrap_or(0.0) as usize)
        .collect()
}

/// The logistic function, written to stay finite for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The max gate's routing: 1 to the winner, 0 to the loser, ½ each at a tie.
pub(crate) fn route(this: f64, other: f64) -> f64 {
    if this > other {
        1.0
    } else if this < other {
        0.0
    } else {
        0.5
    }
}

/// Element pairs of a two-input gate, with scalar broadcasting.
fn pairs(ins: &[&Value]) -> Vec<(f64, f64)> {
    match (ins[0], ins[1]) {
        (Value::Scalar(a), Value::Scalar(b)) => vec![(*a, *b)],
        (Value::Scalar(a), t) => t.elements().map(|b| (*a, b)).collect(),
        (t, Value::Scalar(b)) => t.elements().map(|a| (a, *b)).collect(),
        (t, u) => t.elements().zip(u.elements()).collect(),
    }
}

impl Op {
    /// The identity of an operation for hash-consing: constants compare by their bits.
    fn key(self) -> (std::mem::Discriminant<Op>, u64) {
        let payload = match self {
            Op::Input(i) => u64::from(i),
            Op::Const(c) => c.to_bits(),
            _ => 0,
        };
        (std::mem::discriminant(&self), payload)
    }
}

impl PartialEq for Op {
    fn eq(&self, other: &Op) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Op {}

impl std::hash::Hash for Op {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64) -> Value {
        Value::Scalar(x)
    }

    #[test]
    fn multiply_swaps_and_scales() {
        let (x, y) = (s(3.0), s(-4.0));
        let out = Op::Mul.forward(&[&x, &y]).unwrap();
        assert_eq!(out, s(-12.0));
        assert_eq!(Op::Mul.vjp(0, &[&x, &y], &out, &s(2.0)), s(-8.0));
        assert_eq!(Op::Mul.vjp(1, &[&x, &y], &out, &s(2.0)), s(6.0));
    }

    #[test]
    fn max_routes_and_splits_ties() {
        let (a, b) = (s(2.0), s(-1.0));
        let out = Op::Max.forward(&[&a, &b]).unwrap();
        assert_eq!(Op::Max.vjp(0, &[&a, &b], &out, &s(2.0)), s(2.0));
        assert_eq!(Op::Max.vjp(1, &[&a, &b], &out, &s(2.0)), s(0.0));
        assert_eq!(Op::Max.vjp(1, &[&a, &a], &a, &s(2.0)), s(1.0));
        assert!(Op::Max.kink(&[&a, &a]).is_some());
        assert!(Op::Max.kink(&[&a, &b]).is_none());
    }

    #[test]
    fn domain_errors() {
        assert!(Op::Log.forward(&[&s(-1.0)]).is_err());
        assert!(Op::Sqrt.forward(&[&s(-2.0)]).is_err());
        assert!(Op::Div.forward(&[&s(0.0), &s(0.0)]).is_err());
        assert_eq!(Op::Div.forward(&[&s(1.0), &s(0.0)]), Ok(s(f64::INFINITY)));
        assert!(Op::Pow.forward(&[&s(-2.0), &s(0.5)]).is_err());
        assert_eq!(Op::Pow.forward(&[&s(-2.0), &s(3.0)]), Ok(s(-8.0)));
    }

    #[test]
    fn arity_checks() {
        let (_, max) = function("max").unwrap();
        assert!(!max.accepts(1) && max.accepts(5));
        assert_eq!(max.describe(), "2 or more arguments");
        assert_eq!(function("exp").unwrap().1.describe(), "1 argument");
        assert!(function("σ").is_some());
        assert!(function("frobnicate").is_none());
    }

    #[test]
    fn scatter_is_the_gradient_of_indexing() {
        let v: Value = ndarray::array![1.0, 2.0, 3.0].into();
        let i = s(1.0);
        let out = Op::Scatter.forward(&[&v, &s(5.0), &i]).unwrap();
        assert_eq!(out, ndarray::array![0.0, 5.0, 0.0].into());
        // Its own gradient: the upstream's element at the index to the value,
        // nothing to the template.
        let g: Value = ndarray::array![7.0, 8.0, 9.0].into();
        assert_eq!(Op::Scatter.vjp(1, &[&v, &s(5.0), &i], &out, &g), s(8.0));
        assert_eq!(
            Op::Scatter.vjp(0, &[&v, &s(5.0), &i], &out, &g),
            Value::filled(Shape::Vector(3), 0.0)
        );
        assert!(!Op::Scatter.carries_gradient(2) && Op::Scatter.carries_gradient(1));
        let m = [Shape::Matrix(2, 3), Shape::Vector(3), Shape::Scalar];
        assert_eq!(Op::Scatter.out_shape(&m), Ok(Shape::Matrix(2, 3)));
        let e = Op::Scatter
            .out_shape(&[Shape::Matrix(2, 3), Shape::Vector(2), Shape::Scalar])
            .unwrap_err();
        assert_eq!(
            e,
            "cannot scatter a 2 value into a 3 position of a 2×3 value"
        );
        assert_eq!(
            function("scatter").unwrap().1.describe(),
            "3 to 4 arguments"
        );
    }

    #[test]
    fn shape_errors_name_both_shapes() {
        let e = Op::Dot
            .out_shape(&[Shape::Matrix(2, 3), Shape::Vector(2)])
            .unwrap_err();
        assert_eq!(e, "cannot take 2×3 · 2: inner dimensions 3 and 2 differ");
        let e = Op::Add
            .out_shape(&[Shape::Vector(3), Shape::Vector(2)])
            .unwrap_err();
        assert!(e.contains("3 + 2"), "{e}");
    }
}
