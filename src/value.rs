//! Values that flow along the wires: scalars, vectors and matrices.
//!
//! A scalar is kept inline (no allocation) because most circuits are scalar and
//! a million-gate chain must stay small; a tensor is boxed so that a `Value` is
//! 16 bytes whatever it holds.

use ndarray::{Array1, Array2, ArrayD, Axis, Ix1, Ix2, IxDyn};
use std::fmt;

/// The shape of a value: the tool knows scalars, vectors (1-D) and matrices (2-D).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A single number.
    Scalar,
    /// A 1-D vector of the given length.
    Vector(usize),
    /// A 2-D matrix with the given rows and columns.
    Matrix(usize, usize),
}

impl Shape {
    /// The number of elements a value of this shape holds.
    pub fn len(self) -> usize {
        match self {
            Shape::Scalar => 1,
            Shape::Vector(n) => n,
            Shape::Matrix(r, c) => r.saturating_mul(c),
        }
    }

    /// True for a shape that holds no element (a 0-length vector).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// True for [`Shape::Scalar`].
    pub fn is_scalar(self) -> bool {
        matches!(self, Shape::Scalar)
    }

    /// The shape in words, for messages: `a scalar`, `a vector of length 3`,
    /// `a 2×3 matrix`.
    pub fn describe(self) -> String {
        match self {
            Shape::Scalar => "a scalar".into(),
            Shape::Vector(n) => format!("a vector of length {n}"),
            Shape::Matrix(r, c) => format!("a {r}×{c} matrix"),
        }
    }

    fn dims(self) -> Vec<usize> {
        match self {
            Shape::Scalar => vec![],
            Shape::Vector(n) => vec![n],
            Shape::Matrix(r, c) => vec![r, c],
        }
    }
}

impl fmt::Display for Shape {
    /// `scalar`, `3` for a vector, `2×3` for a matrix — the notation of the contract's
    /// shape errors (`cannot take 2×3 · 2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Scalar => f.write_str("scalar"),
            Shape::Vector(n) => write!(f, "{n}"),
            Shape::Matrix(r, c) => write!(f, "{r}×{c}"),
        }
    }
}

/// One shape per gate, stored as a small number into a table of the distinct
/// shapes: a program has few, and 4 bytes per gate beat a `Shape`'s 24 on a
/// million-gate circuit. Reads like a slice: `shapes[g]`, `shapes.len()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shapes {
    ids: Vec<u32>,
    table: Vec<Shape>,
}

impl Shapes {
    /// No shapes, with room for `n`.
    pub fn with_capacity(n: usize) -> Shapes {
        Shapes {
            ids: Vec::with_capacity(n),
            table: Vec::new(),
        }
    }

    /// `n` gates all of shape `s`.
    pub fn uniform(n: usize, s: Shape) -> Shapes {
        Shapes {
            ids: vec![0; n],
            table: vec![s],
        }
    }

    /// True when every shape is a scalar's (or there is none).
    pub fn all_scalar(&self) -> bool {
        self.table.iter().all(|s| s.is_scalar())
    }

    /// Appends a shape.
    pub fn push(&mut self, s: Shape) {
        // The last shape pushed is the likeliest, then a short scan: tables
        // hold a handful of shapes.
        let k = match self.table.iter().rposition(|&t| t == s) {
            Some(k) => k,
            None => {
                self.table.push(s);
                self.table.len() - 1
            }
        };
        self.ids.push(k as u32);
    }

    /// How many shapes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The shape at `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<Shape> {
        self.ids.get(i).map(|&k| self.table[k as usize])
    }

    /// Every shape, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Shape> + '_ {
        self.ids.iter().map(|&k| self.table[k as usize])
    }

    /// The shapes as a plain vector.
    pub fn to_vec(&self) -> Vec<Shape> {
        self.iter().collect()
    }
}

impl std::ops::Index<usize> for Shapes {
    type Output = Shape;
    fn index(&self, i: usize) -> &Shape {
        &self.table[self.ids[i] as usize]
    }
}

impl FromIterator<Shape> for Shapes {
    fn from_iter<I: IntoIterator<Item = Shape>>(it: I) -> Shapes {
        let mut s = Shapes::default();
        for x in it {
            s.push(x);
        }
        s
    }
}

/// A value: a scalar, or a vector or matrix of `f64`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A single number, stored inline.
    Scalar(f64),
    /// A vector (1-D) or matrix (2-D); never 0-D, never more than 2-D.
    Tensor(Box<ArrayD<f64>>),
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Scalar(x)
    }
}

impl From<Array1<f64>> for Value {
    fn from(a: Array1<f64>) -> Self {
        Value::Tensor(Box::new(a.into_dyn()))
    }
}

impl From<Array2<f64>> for Value {
    fn from(a: Array2<f64>) -> Self {
        Value::Tensor(Box::new(a.into_dyn()))
    }
}

impl Value {
    /// Wraps an n-d array, turning a 0-d array into a scalar.
    pub fn from_array(a: ArrayD<f64>) -> Value {
        if a.ndim() == 0 {
            Value::Scalar(a.iter().next().copied().unwrap_or(0.0))
        } else {
            Value::Tensor(Box::new(a))
        }
    }

    /// A value of `shape` with every element equal to `x`.
    pub fn filled(shape: Shape, x: f64) -> Value {
        match shape {
            Shape::Scalar => Value::Scalar(x),
            s => Value::Tensor(Box::new(ArrayD::from_elem(IxDyn(&s.dims()), x))),
        }
    }

    /// The shape of this value.
    pub fn shape(&self) -> Shape {
        match self {
            Value::Scalar(_) => Shape::Scalar,
            Value::Tensor(a) => match a.shape() {
                [n] => Shape::Vector(*n),
                [r, c] => Shape::Matrix(*r, *c),
                // Constructors never build other ranks; treat defensively as a vector.
                s => Shape::Vector(s.iter().product()),
            },
        }
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<f64> {
        match self {
            Value::Scalar(x) => Some(*x),
            Value::Tensor(_) => None,
        }
    }

    /// Every element, in row-major order.
    pub fn elements(&self) -> impl Iterator<Item = f64> + '_ {
        // An enum, not a boxed iterator: the forward pass asks every gate's
        // value whether it is finite, and a scalar must not allocate for that.
        enum Elements<'a> {
            One(Option<f64>),
            Many(ndarray::iter::Iter<'a, f64, IxDyn>),
        }
        impl Iterator for Elements<'_> {
            type Item = f64;
            fn next(&mut self) -> Option<f64> {
                match self {
                    Elements::One(x) => x.take(),
                    Elements::Many(it) => it.next().copied(),
                }
            }
        }
        match self {
            Value::Scalar(x) => Elements::One(Some(*x)),
            Value::Tensor(a) => Elements::Many(a.iter()),
        }
    }

    /// The value as an n-d array (a scalar becomes 0-d).
    pub fn to_array(&self) -> ArrayD<f64> {
        match self {
            Value::Scalar(x) => ArrayD::from_elem(IxDyn(&[]), *x),
            Value::Tensor(a) => (**a).clone(),
        }
    }

    /// Applies `f` to every element.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Value {
        match self {
            Value::Scalar(x) => Value::Scalar(f(*x)),
            Value::Tensor(a) => Value::Tensor(Box::new(a.mapv(f))),
        }
    }

    /// Combines two values elementwise, a scalar broadcasting to the other's shape.
    /// The caller has checked the shapes (see [`broadcast_shape`]).
    pub fn zip(&self, other: &Value, f: impl Fn(f64, f64) -> f64) -> Value {
        match (self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(f(*a, *b)),
            (Value::Scalar(a), Value::Tensor(b)) => Value::Tensor(Box::new(b.mapv(|y| f(*a, y)))),
            (Value::Tensor(a), Value::Scalar(b)) => Value::Tensor(Box::new(a.mapv(|x| f(x, *b)))),
            (Value::Tensor(a), Value::Tensor(b)) => {
                let mut out = (**a).clone();
                out.zip_mut_with(b, |x, &y| *x = f(*x, y));
                Value::Tensor(Box::new(out))
            }
        }
    }

    /// `self += other`, where `other` has the same shape (gradients adding at a fork).
    pub fn add_assign(&mut self, other: &Value) {
        match (&mut *self, other) {
            (Value::Scalar(a), Value::Scalar(b)) => *a += b,
            (Value::Tensor(a), Value::Tensor(b)) => **a += &**b,
            (Value::Tensor(a), Value::Scalar(b)) => a.mapv_inplace(|x| x + b),
            (Value::Scalar(_), Value::Tensor(_)) => *self = self.zip(other, |a, b| a + b),
        }
    }

    /// The sum of all elements.
    pub fn sum(&self) -> f64 {
        self.elements().sum()
    }

    /// Sums a gradient down to `shape`: the adjoint of broadcasting a scalar.
    pub fn reduce_to(self, shape: Shape) -> Value {
        if shape.is_scalar() && !self.shape().is_scalar() {
            Value::Scalar(self.sum())
        } else {
            self
        }
    }

    /// The transpose of a matrix; a vector or scalar is its own transpose.
    pub fn transpose(&self) -> Value {
        match self {
            Value::Tensor(a) if a.ndim() == 2 => Value::Tensor(Box::new(a.t().to_owned())),
            v => v.clone(),
        }
    }

    /// numpy's `dot` for scalars, vectors and matrices. The caller has checked shapes
    /// with [`dot_shape`].
    pub fn dot(&self, other: &Value) -> Value {
        match (self, other) {
            (Value::Scalar(_), _) | (_, Value::Scalar(_)) => self.zip(other, |a, b| a * b),
            (Value::Tensor(a), Value::Tensor(b)) => match (a.ndim(), b.ndim()) {
                (1, 1) => Value::Scalar(as1(a).dot(&as1(b))),
                (2, 1) => as2(a).dot(&as1(b)).into(),
                (1, 2) => as1(a).dot(&as2(b)).into(),
                _ => as2(a).dot(&as2(b)).into(),
            },
        }
    }

    /// The outer product of two vectors (`u vᵀ`), used by the matrix-vector gradient.
    pub fn outer(u: &Value, v: &Value) -> Value {
        match (u, v) {
            (Value::Tensor(a), Value::Tensor(b)) if a.ndim() == 1 && b.ndim() == 1 => {
                let a = as1(a).insert_axis(Axis(1));
                let b = as1(b).insert_axis(Axis(0));
                a.dot(&b).into()
            }
            _ => u.zip(v, |a, b| a * b),
        }
    }

    /// The element at `index` (row-major); `index` is in range.
    pub fn get(&self, index: &[usize]) -> Value {
        match self {
            Value::Scalar(x) => Value::Scalar(*x),
            Value::Tensor(a) => match (a.ndim(), index) {
                (2, [i]) => a
                    .index_axis(Axis(0), *i)
                    .to_owned()
                    .into_dyn()
                    .pipe(Value::from_array),
                (_, idx) => Value::Scalar(a[IxDyn(idx)]),
            },
        }
    }

    /// A zero value of `shape` with `piece` added at `index`: the adjoint of [`Value::get`].
    pub fn scatter(shape: Shape, index: &[usize], piece: &Value) -> Value {
        let mut out = Value::filled(shape, 0.0);
        if let Value::Tensor(a) = &mut out {
            match (a.ndim(), index, piece) {
                (2, [i], Value::Tensor(row)) => {
                    let mut dst = a.index_axis_mut(Axis(0), *i);
                    dst += &**row;
                }
                (_, idx, Value::Scalar(x)) => a[IxDyn(idx)] += x,
                _ => {}
            }
        }
        out
    }

    /// True when every element is finite.
    pub fn is_finite(&self) -> bool {
        match self {
            Value::Scalar(x) => x.is_finite(),
            Value::Tensor(a) => a.iter().all(|x| x.is_finite()),
        }
    }
}

fn as1(a: &ArrayD<f64>) -> ndarray::ArrayView1<'_, f64> {
    a.view()
        .into_dimensionality::<Ix1>()
        .expect("rank checked by caller")
}

fn as2(a: &ArrayD<f64>) -> ndarray::ArrayView2<'_, f64> {
    a.view()
        .into_dimensionality::<Ix2>()
        .expect("rank checked by caller")
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

/// The shape of an elementwise combination, or `None` when the shapes differ and
/// neither is a scalar.
pub fn broadcast_shape(a: Shape, b: Shape) -> Option<Shape> {
    match (a, b) {
        (Shape::Scalar, s) | (s, Shape::Scalar) => Some(s),
        (x, y) if x == y => Some(x),
        _ => None,
    }
}

/// The shape of numpy's `dot(a, b)`, or `None` when the inner dimensions differ.
pub fn dot_shape(a: Shape, b: Shape) -> Option<Shape> {
    use Shape::*;
    match (a, b) {
        (Scalar, s) | (s, Scalar) => Some(s),
        (Vector(n), Vector(m)) => (n == m).then_some(Scalar),
        (Matrix(r, c), Vector(n)) => (c == n).then_some(Vector(r)),
        (Vector(n), Matrix(r, c)) => (n == r).then_some(Vector(c)),
        (Matrix(r, k), Matrix(k2, c)) => (k == k2).then_some(Matrix(r, c)),
    }
}

/// Formats a number the way the explanation shows it: at most six significant
/// digits, no trailing zeros, `-0` shown as `0`.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs();
    if !(1e-4..1e9).contains(&mag) {
        let s = format!("{x:.5e}");
        // Trim the mantissa's trailing zeros: 1.50000e-7 → 1.5e-7.
        if let Some((m, e)) = s.split_once('e') {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            return format!("{m}e{e}");
        }
        return s;
    }
    let digits = 6 - 1 - mag.log10().floor() as i32;
    let s = format!("{:.*}", digits.max(0) as usize, x);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

impl fmt::Display for Value {
    /// Numbers as [`fmt_num`] writes them; tensors as nested brackets, large ones
    /// summarised by shape and range so a line stays readable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(x) => f.write_str(&fmt_num(*x)),
            Value::Tensor(a) => {
                let shape = self.shape();
                if shape.len() > 12 {
                    let (lo, hi) = a
                        .iter()
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                            (l.min(x), h.max(x))
                        });
                    let kind = match shape {
                        Shape::Vector(n) => format!("vector of length {n}"),
                        s => format!("{s} matrix"),
                    };
                    return write!(f, "⟨{kind}, min {}, max {}⟩", fmt_num(lo), fmt_num(hi));
                }
                let row = |it: &mut dyn Iterator<Item = f64>| {
                    let items: Vec<String> = it.map(fmt_num).collect();
                    format!("[{}]", items.join(", "))
                };
                if a.ndim() == 1 {
                    f.write_str(&row(&mut a.iter().copied()))
                } else {
                    let rows: Vec<String> = a
                        .outer_iter()
                        .map(|r| row(&mut r.iter().copied()))
                        .collect();
                    write!(f, "[{}]", rows.join(", "))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_compactly() {
        assert_eq!(fmt_num(-8.0), "-8");
        assert_eq!(fmt_num(0.7310585786), "0.731059");
        assert_eq!(fmt_num(-0.0), "0");
        assert_eq!(fmt_num(1.5e-7), "1.5e-7");
        assert_eq!(fmt_num(123456.0), "123456");
        assert_eq!(fmt_num(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn dot_follows_numpy() {
        let m: Value = ndarray::array![[1.0, 2.0], [3.0, 4.0]].into();
        let v: Value = ndarray::array![1.0, 1.0].into();
        assert_eq!(m.dot(&v), ndarray::array![3.0, 7.0].into());
        assert_eq!(v.dot(&m), ndarray::array![4.0, 6.0].into());
        assert_eq!(v.dot(&v), Value::Scalar(2.0));
        assert_eq!(dot_shape(Shape::Matrix(2, 3), Shape::Vector(2)), None);
        assert_eq!(Shape::Matrix(2, 3).to_string(), "2×3");
    }

    #[test]
    fn scatter_is_the_adjoint_of_get() {
        let m: Value = ndarray::array![[1.0, 2.0], [3.0, 4.0]].into();
        assert_eq!(m.get(&[1]), ndarray::array![3.0, 4.0].into());
        let g = Value::scatter(Shape::Matrix(2, 2), &[1], &ndarray::array![5.0, 6.0].into());
        assert_eq!(g, ndarray::array![[0.0, 0.0], [5.0, 6.0]].into());
        let g = Value::scatter(Shape::Matrix(2, 2), &[0, 1], &Value::Scalar(2.0));
        assert_eq!(g, ndarray::array![[0.0, 2.0], [0.0, 0.0]].into());
    }
}
