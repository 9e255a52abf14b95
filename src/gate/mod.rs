//! The gate table: for each kind of gate, its symbol, arity, shape rule, forward
//! rule, local gradient (numeric and symbolic), the subgradient it picks at a kink
//! and the sentence that explains it. One operator, one place: adding a gate means
//! adding one variant and filling in each `match` — here (names, notation, shapes,
//! sentences), in `numeric.rs` (forward, local gradient, VJP, kink) and in
//! `symbolic.rs` (the local gradient as an expression) — and the compiler points
//! at every one.

use crate::error::Span;
use crate::value::{Shape, broadcast_shape, dot_shape};

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
    function_index(name).map(|k| (FUNCTIONS[k].1, FUNCTIONS[k].2))
}

/// A built-in function's place in [`FUNCTIONS`]. A name of up to 8 bytes is
/// compared as one number, the key the parser interns names by: the parser
/// looks up every call's name, and comparing texts cost a `memcmp` call for
/// each name of the same length in the table.
pub fn function_index(name: &str) -> Option<usize> {
    function_at(name.as_bytes(), Span::new(0, name.len()))
}

/// [`function_index`] of the name at `span` of `src`: the key is read from
/// the text in place (eight bytes at once where the text goes on).
pub(crate) fn function_at(src: &[u8], span: Span) -> Option<usize> {
    match crate::syntax::ast::short_key(src, span) {
        Some(key) => FUNCTION_KEYS.iter().position(|&k| k == key),
        None => FUNCTIONS
            .iter()
            .position(|f| f.0.as_bytes() == &src[span.range()]),
    }
}

/// Each function's name as [`crate::syntax::ast::short_key`] makes it, at
/// compile time (that one reads eight bytes at once, which a `const fn`
/// cannot); 0, which no name is, for the longer ones. A test holds the two
/// to the same keys.
const FUNCTION_KEYS: [u64; FUNCTIONS.len()] = {
    let mut keys = [0u64; FUNCTIONS.len()];
    let mut k = 0;
    while k < FUNCTIONS.len() {
        let name = FUNCTIONS[k].0.as_bytes();
        if name.len() <= 8 {
            let mut b = 0;
            while b < name.len() {
                keys[k] |= (name[b] as u64) << (8 * b);
                b += 1;
            }
        }
        k += 1;
    }
    keys
};

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

mod numeric;
pub(crate) mod scalar;
mod symbolic;

pub use scalar::sigmoid;
pub use symbolic::Builder;

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
    /// The function table's keys are the parser's keys for the same names,
    /// read from the name alone and from the name inside a longer text.
    #[test]
    fn function_keys_are_the_parsers() {
        use crate::syntax::ast::short_key;
        for (k, (name, _, _)) in FUNCTIONS.iter().enumerate() {
            let alone = short_key(name.as_bytes(), Span::new(0, name.len()));
            let text = format!("{name}(x) + more text");
            let inside = short_key(text.as_bytes(), Span::new(0, name.len()));
            assert_eq!(alone, inside, "{name}");
            assert_eq!(alone.unwrap_or(0), FUNCTION_KEYS[k], "{name}");
            assert_eq!(function_index(name), Some(k), "{name}");
            assert_eq!(
                function_at(text.as_bytes(), Span::new(0, name.len())),
                Some(k)
            );
        }
        assert_eq!(function_index("tanhh"), None);
        assert_eq!(function_index("a_name_longer_than_eight"), None);
    }

    use super::*;
    use crate::value::Value;

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
