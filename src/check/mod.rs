//! `--check`: the backward pass compared with centered finite differences, the
//! way the CS231n notes check gradients. For every element of every
//! differentiable parameter, the objective `Σ grad ⊙ output` is evaluated at
//! `x + h` and `x − h`; `(L(x+h) − L(x−h)) / 2h` should match what the backward
//! pass delivered. The comparison is the notes' relative error
//! `|a − n| / max(|a|, |n|)`.
//!
//! A kink (a `relu`, `abs`, `max`, `min`, `step` or `sign` whose input changes
//! side between `x − h` and `x + h`) makes the finite difference meaningless: such
//! an element is flagged as a kink, not counted as a wrong gradient.

use crate::analysis::Analysis;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::{Forward, forward};
use crate::gate::Op;
use crate::graph::{Circuit, GateId, ParamRole};
use crate::value::{Value, fmt_num};

/// Relative errors below this pass: the notes' bound for "usually okay".
pub const TOLERANCE: f64 = 1e-4;

/// The step for an element of value `x`: `1e-5`, scaled with `|x|` beyond 1 so
/// that `x ± h` differs from `x` in enough digits.
pub fn step(x: f64) -> f64 {
    1e-5 * x.abs().max(1.0)
}

/// One element's comparison.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The parameter's position.
    pub param: usize,
    /// The element's index inside the parameter (empty for a scalar).
    pub index: Vec<usize>,
    /// What the backward pass delivered.
    pub analytic: f64,
    /// The centered difference; `None` when `x ± h` could not be evaluated.
    pub numeric: Option<f64>,
    /// The relative error; `None` when it is not counted (a kink, a domain error).
    pub rel_error: Option<f64>,
    /// The kink the step crosses, in words.
    pub kink: Option<String>,
}

/// The outcome of a gradient check.
#[derive(Clone, Debug)]
pub struct Check {
    /// The largest counted relative error (0 when nothing was counted).
    pub max_rel_error: f64,
    /// True when the largest relative error is below [`TOLERANCE`].
    pub ok: bool,
    /// Every element compared.
    pub entries: Vec<Entry>,
    /// Kinks and points that could not be evaluated, in words.
    pub notes: Vec<String>,
}

impl Check {
    /// How many elements were compared and counted, and how many were not
    /// (a kink, a point where the program or its difference is undefined).
    pub fn counted(&self) -> (usize, usize) {
        let counted = self
            .entries
            .iter()
            .filter(|e| e.rel_error.is_some())
            .count();
        (counted, self.entries.len() - counted)
    }

    /// The entry with the largest counted relative error.
    pub fn worst(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.rel_error.is_some())
            .max_by(|a, b| {
                a.rel_error
                    .partial_cmp(&b.rel_error)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    }
}

/// `dx`, `dW[1, 2]`: how an element's gradient is named.
pub fn element_name(c: &Circuit, e: &Entry) -> String {
    let name = &c.params[e.param].name;
    if e.index.is_empty() {
        format!("d{name}")
    } else {
        let idx: Vec<String> = e.index.iter().map(usize::to_string).collect();
        format!("d{name}[{}]", idx.join(", "))
    }
}

/// The notes' relative error, with one allowance: when both numbers are below
/// `floor` — the size finite differences cannot tell from 0 — they agree.
pub fn relative_error(a: f64, n: f64, floor: f64) -> f64 {
    resolved_error(a, n, floor, 0.0)
}

/// [`relative_error`] of what finite differences can resolve: the part of the
/// difference beyond `noise`, the rounding error a difference quotient carries.
fn resolved_error(a: f64, n: f64, floor: f64, noise: f64) -> f64 {
    // A number that is not one agrees with nothing (`max` would drop it).
    if a.is_nan() || n.is_nan() {
        return f64::INFINITY;
    }
    let scale = a.abs().max(n.abs());
    if scale == 0.0 || scale < floor {
        return 0.0;
    }
    ((a - n).abs() - noise).max(0.0) / scale
}

/// Rounding error of a centered difference with step `h` of values of size
/// `f`, in units of `ε·f/h`: a few roundings in each evaluation of the circuit.
const NOISE_ULPS: f64 = 8.0;

/// Which side of its kink every kinked gate is on, elementwise.
fn sides(c: &Circuit, kinked: &[GateId], f: &Forward) -> Vec<Vec<i8>> {
    let sign = |x: f64| (x > 0.0) as i8 - (x < 0.0) as i8;
    kinked
        .iter()
        .map(|&g| {
            let ins = c.inputs(g);
            let a = &f.values[ins[0].index()];
            let v = match ins.get(1) {
                Some(b) if matches!(c.op(g), Op::Max | Op::Min) => {
                    a.zip(&f.values[b.index()], |a, b| a - b)
                }
                _ => a.clone(),
            };
            v.elements().map(sign).collect()
        })
        .collect()
}

/// Runs the check on an evaluated analysis.
pub fn check(a: &Analysis) -> Result<Check> {
    let n = a.numeric.as_ref().ok_or_else(|| {
        Error::new(ErrorKind::Usage, "--check needs values for the parameters")
            .help("give them with --at")
    })?;
    let c = &a.circuit;
    let upstream = &n.backward.upstream;
    let objective = |f: &Forward| f.values[c.output.index()].zip(upstream, |o, g| o * g).sum();
    let kinked: Vec<GateId> = c
        .gates()
        .filter(|&g| {
            matches!(
                c.op(g),
                Op::Max | Op::Min | Op::Relu | Op::Abs | Op::Step | Op::Sign
            )
        })
        .collect();
    let here = sides(c, &kinked, &n.forward);
    let floor = 1e-8 * objective(&n.forward).abs().max(1.0);
    let grads = n.backward.param_grads(c, &n.forward);
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    let differentiable: Vec<usize> = c
        .param_roles()
        .into_iter()
        .enumerate()
        .filter(|(_, role)| *role == ParamRole::Differentiable)
        .map(|(k, _)| k)
        .collect();
    let total: usize = differentiable
        .iter()
        .map(|&k| n.params[k].shape().len())
        .sum();
    // Two forward passes per element, each as costly as the circuit's numbers.
    let pass: usize = n
        .forward
        .shapes
        .iter()
        .map(|s| s.len())
        .sum::<usize>()
        .max(1);
    let budget = (MAX_CHECK_WORK / (2 * pass)).max(MIN_CHECKED);
    let chosen = spread(total, budget);
    if chosen.len() < total {
        notes.push(format!(
            "gradient check: {} of the {total} elements checked, evenly spaced — every one would take {} evaluations of the circuit",
            chosen.len(),
            2 * total
        ));
    }
    // Smaller steps for the elements the first could not settle, within a
    // budget of their own.
    let mut spare_passes = MAX_CHECK_WORK / pass;
    let mut chosen = chosen.into_iter().peekable();
    let mut offset = 0;
    for k in differentiable {
        let base = &n.params[k];
        let size = base.shape().len();
        let analytic = grads[k].clone().unwrap_or(Value::Scalar(0.0));
        let analytic: Vec<f64> = analytic.elements().collect();
        let array = base.to_array();
        let dims = array.shape().to_vec();
        let flat_values: Vec<f64> = array.iter().copied().collect();
        let mut mine = Vec::new();
        while let Some(&g) = chosen.peek().filter(|&&g| g < offset + size) {
            mine.push(g - offset);
            chosen.next();
        }
        offset += size;
        for flat in mine {
            let x = flat_values[flat];
            let index = unflatten(flat, &dims);
            let h = step(x);
            let at = |x: f64| {
                let mut params = n.params.clone();
                params[k] = set(base, flat, x);
                forward(c, &params)
            };
            let (xp, xm) = (x + h, x - h);
            // This element's notes: replaced whole if a smaller step settles it.
            let mut these = Vec::new();
            let mut entry = Entry {
                param: k,
                index,
                analytic: analytic.get(flat).copied().unwrap_or(0.0),
                numeric: None,
                rel_error: None,
                kink: None,
            };
            // The centered difference at step t, where the program can be
            // evaluated at x ± t on the same side of every kink, and the size
            // of the objective there (for its rounding).
            let sized = |t: f64| -> std::result::Result<(f64, f64), String> {
                let (p, m) = (at(x + t), at(x - t));
                let (p, m) = (
                    p.map_err(|e| e.message.clone())?,
                    m.map_err(|e| e.message.clone())?,
                );
                if sides(c, &kinked, &p) != here || sides(c, &kinked, &m) != here {
                    return Err("a kink is crossed there".into());
                }
                let (lp, lm) = (objective(&p), objective(&m));
                Ok(((lp - lm) / ((x + t) - (x - t)), lp.abs().max(lm.abs())))
            };
            match (at(xp), at(xm)) {
                (Ok(fp), Ok(fm)) => {
                    let num = (objective(&fp) - objective(&fm)) / (xp - xm);
                    entry.numeric = Some(num);
                    let (sp, sm) = (sides(c, &kinked, &fp), sides(c, &kinked, &fm));
                    let crossed = (0..kinked.len()).find(|&j| sp[j] != here[j] || sm[j] != here[j]);
                    if let Some(j) = crossed {
                        let g = kinked[j];
                        let what = format!("`{} = {}`", c.label(g), c.formula(g));
                        entry.kink = Some(what.clone());
                        let e = element_name(c, &entry);
                        these.push(format!(
                            "gradient check: {e} is at a kink — the step ±{} crosses the kink of {what}, so finite differences ({}) cannot check the subgradient ({}); not counted",
                            fmt_num(h),
                            fmt_num(num),
                            fmt_num(entry.analytic)
                        ));
                    } else if !entry.analytic.is_finite() || !num.is_finite() {
                        // At a pole or an overflow there is no number to compare.
                        these.push(format!(
                            "gradient check: {} cannot be checked — the backward pass gives {} and finite differences {}",
                            element_name(c, &entry),
                            fmt_num(entry.analytic),
                            fmt_num(num)
                        ));
                    } else {
                        let diff = |t: f64| sized(t).map(|(q, _)| q);
                        let name = element_name(c, &entry);
                        let judged = judge(entry.analytic, num, h, floor, diff, &name);
                        these.extend(judged.notes);
                        entry.numeric = Some(judged.numeric);
                        entry.rel_error = judged.rel_error;
                        if judged.rel_error.is_some_and(|rel| rel >= TOLERANCE) {
                            // A gradient far smaller than the output is lost in the
                            // rounding of f(x ± h): only what rises above it counts.
                            let size = objective(&fp).abs().max(objective(&fm).abs());
                            // A refined number carries about twice the rounding of
                            // the differences it is made of, at its smallest step.
                            let ulps = if judged.numeric != num {
                                2.0 * NOISE_ULPS
                            } else {
                                NOISE_ULPS
                            };
                            let noise = ulps * f64::EPSILON * size / judged.step;
                            let resolved =
                                resolved_error(entry.analytic, judged.numeric, floor, noise);
                            if resolved < TOLERANCE {
                                these.push(format!(
                                    "gradient check: {name} agrees within the rounding of the difference quotient (±{} where f is about {}): its relative error {} lies within that, and counts as {}",
                                    fmt_num(noise),
                                    fmt_num(size),
                                    fmt_num(judged.rel_error.unwrap_or(0.0)),
                                    fmt_num(resolved)
                                ));
                                entry.rel_error = Some(resolved);
                            }
                        }
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    let name = element_name(c, &entry);
                    these.push(format!(
                        "gradient check: {name} cannot be checked — at {} ± {} the program cannot be evaluated ({})",
                        fmt_num(x),
                        fmt_num(h),
                        e.message
                    ));
                }
            }
            let unsettled = entry.rel_error.is_none_or(|rel| rel >= TOLERANCE);
            if unsettled && entry.analytic.is_finite() && spare_passes > 0 {
                let (found, passes) = smaller::smaller_step(entry.analytic, h, floor, sized);
                spare_passes = spare_passes.saturating_sub(passes);
                if let Some(found) = found {
                    let why = match (&entry.kink, entry.rel_error) {
                        (Some(what), _) => format!("crosses the kink of {what}"),
                        (None, Some(rel)) => format!("left a relative error of {}", fmt_num(rel)),
                        (None, None) => "could not be compared".to_string(),
                    };
                    these = vec![found.note(&element_name(c, &entry), entry.analytic, h, &why)];
                    (entry.numeric, entry.rel_error, entry.kink) =
                        (Some(found.numeric), Some(found.rel_error), None);
                }
            }
            notes.extend(these);
            entries.push(entry);
        }
    }
    let max_rel_error = entries
        .iter()
        .filter_map(|e| e.rel_error)
        .fold(0.0, f64::max);
    Ok(Check {
        max_rel_error,
        ok: max_rel_error < TOLERANCE,
        entries,
        notes: cap(notes),
    })
}

/// A centered difference compared with the backward pass: the number shown,
/// the relative error counted (`None`: nothing can be concluded), the smallest
/// step it rests on, and what was done to it, in words.
struct Judged {
    numeric: f64,
    rel_error: Option<f64>,
    step: f64,
    notes: Vec<String>,
}

/// Judges the centered difference `num` at step `h` against the backward
/// pass's `analytic`; `diff(t)` is the difference at step t, or why there is
/// none. Where they agree, that is all. Where not, the difference is off by
/// about h² times a sixth of the third derivative, which near 0 of `x³` is as
/// large as the gradient itself: Richardson's extrapolation from steps h and
/// 2h cancels that term, the same from h/2 and h is the number compared, and
/// the two apart say how far the extrapolation itself can be trusted (near a
/// singularity, `sqrt(x)` a few h from 0, not far). Within 2h of where the
/// program is undefined, steps h/4, h/2 and h stand in. A right gradient is not failed for what finite
/// differences cannot resolve; a wrong one by more than that still is.
fn judge(
    analytic: f64,
    num: f64,
    h: f64,
    floor: f64,
    diff: impl Fn(f64) -> std::result::Result<f64, String>,
    name: &str,
) -> Judged {
    let plain = relative_error(analytic, num, floor);
    let mut judged = Judged {
        numeric: num,
        rel_error: Some(plain),
        step: h,
        notes: Vec::new(),
    };
    if plain < TOLERANCE {
        return judged;
    }
    let richardson = |fine: f64, coarse: f64| (4.0 * fine - coarse) / 3.0;
    // (estimate, its error bound, the two steps it comes from)
    let extrapolated = match diff(2.0 * h) {
        Ok(wide) => {
            let coarse = richardson(num, wide);
            Ok(match diff(h / 2.0) {
                Ok(half) => {
                    let fine = richardson(half, num);
                    judged.step = h / 2.0;
                    (fine, Ok((fine - coarse).abs()), [h / 2.0, h])
                }
                Err(why) => (coarse, Err(why), [h, 2.0 * h]),
            })
        }
        Err(why) => diff(h / 2.0)
            .and_then(|half| {
                let coarse = richardson(half, num);
                let fine = richardson(diff(h / 4.0)?, half);
                judged.step = h / 4.0;
                Ok((fine, Ok((fine - coarse).abs()), [h / 4.0, h / 2.0]))
            })
            .map_err(|_| why),
    };
    let (estimate, bound, [fine, coarse]) = match extrapolated {
        Ok(e) if e.0.is_finite() => e,
        Ok(_) => return judged,
        Err(why) => {
            // Within 2h of where the program is undefined (sqrt(x) at
            // x = 1.5h) the h² term can be as large as the gradient.
            judged.rel_error = None;
            judged.notes.push(format!(
                "gradient check: {name} cannot be checked — this close to where the program is undefined the centered difference ({}) is off by its h² term, and it cannot be refined ({why}); not counted",
                fmt_num(num)
            ));
            return judged;
        }
    };
    judged.numeric = estimate;
    let rel = relative_error(analytic, estimate, floor);
    judged.rel_error = Some(rel);
    judged.notes.push(format!(
        "gradient check: {name} refined by Richardson extrapolation (steps ±{} and ±{}): the centered difference {} alone was off by its h² term (relative error {})",
        fmt_num(fine),
        fmt_num(coarse),
        fmt_num(num),
        fmt_num(plain)
    ));
    if let Ok(bound) = bound
        && rel >= TOLERANCE
        && bound.is_finite()
        && resolved_error(analytic, estimate, floor, bound) < TOLERANCE
    {
        let resolved = resolved_error(analytic, estimate, floor, bound);
        judged.notes.push(format!(
            "gradient check: {name} agrees within what the extrapolation can resolve here (±{}, between the extrapolations from steps ±{} and ±{} and from ±{} and ±{}): its relative error {} lies within that, and counts as {}",
            fmt_num(bound),
            fmt_num(fine),
            fmt_num(coarse),
            fmt_num(coarse),
            fmt_num(2.0 * coarse),
            fmt_num(rel),
            fmt_num(resolved)
        ));
        judged.rel_error = Some(resolved);
    }
    judged
}

/// The most work one check does, in numbers computed: each checked element
/// costs two forward passes over every gate's value. Past it, evenly spaced
/// elements stand for the rest — the notes' own advice for large parameters —
/// so that `--check` never runs for minutes.
pub const MAX_CHECK_WORK: usize = 20_000_000;

/// Elements checked at least, however large the circuit.
const MIN_CHECKED: usize = 8;

/// `count` indices out of `0..total`, evenly spaced and increasing (all of them
/// when `count >= total`).
fn spread(total: usize, count: usize) -> Vec<usize> {
    if count >= total {
        return (0..total).collect();
    }
    (0..count)
        .map(|i| ((i as u128 * total as u128) / count as u128) as usize)
        .collect()
}

/// At most 20 notes; the rest are counted.
fn cap(mut notes: Vec<String>) -> Vec<String> {
    if notes.len() > 20 {
        let more = notes.len() - 20;
        notes.truncate(20);
        notes.push(format!(
            "gradient check: … and {more} more notes like these"
        ));
    }
    notes
}

fn unflatten(flat: usize, dims: &[usize]) -> Vec<usize> {
    match dims {
        [] => vec![],
        [_] => vec![flat],
        [_, cols] => vec![flat / cols, flat % cols],
        _ => vec![flat],
    }
}

/// `v` with its `flat`-th element set to `x`.
fn set(v: &Value, flat: usize, x: f64) -> Value {
    match v {
        Value::Scalar(_) => Value::Scalar(x),
        Value::Tensor(t) => {
            let mut t = t.as_ref().clone();
            if let Some(e) = t.iter_mut().nth(flat) {
                *e = x;
            }
            Value::from_array(t)
        }
    }
}

mod smaller;
#[cfg(test)]
mod tests;
