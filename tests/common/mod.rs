//! Generated programs shared by the property tests: random scalar expressions over
//! every built-in, printed in the tool's language and in SymPy's.
#![allow(dead_code)] // each test crate uses its own part

use proptest::prelude::*;

/// A generated expression over `x`, `y`, `z`.
#[derive(Clone, Debug)]
pub enum E {
    /// `x`, `y` or `z`.
    Var(usize),
    /// The constant k/2.
    Half(i32),
    /// `-a` or a one-argument function.
    Unary(&'static str, Box<E>),
    /// An infix operator.
    Binary(&'static str, Box<E>, Box<E>),
    /// `max`, `min` or `pow`.
    Call2(&'static str, Box<E>, Box<E>),
}

/// The parameter names.
pub const VARS: [&str; 3] = ["x", "y", "z"];
const UNARY: [&str; 13] = [
    "-", "exp", "log", "sqrt", "sigmoid", "σ", "tanh", "sin", "cos", "relu", "abs", "step", "sign",
];
const BINARY: [&str; 7] = ["+", "-", "*", "/", "·", "^", "**"];
const CALL2: [&str; 3] = ["max", "min", "pow"];

/// Expressions up to 4 deep over every scalar built-in.
pub fn expr() -> impl Strategy<Value = E> {
    expr_sized(24)
}

/// Expressions up to 4 deep with about `size` nodes at most.
pub fn expr_sized(size: u32) -> impl Strategy<Value = E> {
    let leaf = prop_oneof![3 => (0..3usize).prop_map(E::Var), 1 => (-6i32..=6).prop_map(E::Half)];
    leaf.prop_recursive(4, size, 3, |inner| {
        prop_oneof![
            (prop::sample::select(&UNARY[..]), inner.clone())
                .prop_map(|(f, a)| E::Unary(f, Box::new(a))),
            (
                prop::sample::select(&BINARY[..]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| E::Binary(op, Box::new(a), Box::new(b))),
            (prop::sample::select(&CALL2[..]), inner.clone(), inner)
                .prop_map(|(f, a, b)| E::Call2(f, Box::new(a), Box::new(b))),
        ]
    })
}

/// The program in the tool's language.
pub fn ours(e: &E) -> String {
    match e {
        E::Var(i) => VARS[*i].into(),
        E::Half(k) => format!("{}", f64::from(*k) / 2.0),
        E::Unary("-", a) => format!("-({})", ours(a)),
        E::Unary(f, a) => format!("{f}({})", ours(a)),
        E::Binary(op, a, b) => format!("({}) {op} ({})", ours(a), ours(b)),
        E::Call2(f, a, b) => format!("{f}({}, {})", ours(a), ours(b)),
    }
}

/// The same program for SymPy's `sympify`.
pub fn theirs(e: &E) -> String {
    match e {
        E::Var(i) => VARS[*i].into(),
        // A float, not a Rational: exact rationals send SymPy into deep simplification.
        E::Half(k) => format!("Float({})", f64::from(*k) / 2.0),
        E::Unary(f, a) => {
            let a = theirs(a);
            match *f {
                "-" => format!("(-({a}))"),
                "sigmoid" | "σ" => format!("(1/(1+exp(-({a}))))"),
                "relu" => format!("Max(0, {a})"),
                "abs" => format!("Abs({a})"),
                "step" => format!("Heaviside({a}, 0)"),
                f => format!("{f}({a})"),
            }
        }
        E::Binary(op, a, b) => {
            let op = match *op {
                "^" | "**" => "**",
                "·" => "*",
                o => o,
            };
            format!("(({}) {op} ({}))", theirs(a), theirs(b))
        }
        E::Call2(f, a, b) => {
            let f = match *f {
                "max" => "Max",
                "min" => "Min",
                _ => "Pow",
            };
            format!("{f}({}, {})", theirs(a), theirs(b))
        }
    }
}
