//! Smaller steps, for an element that the step `h` could not settle: a pole
//! or a kink within `h` of `x` (`1/x` at `x = 1e-6`), a function that turns on
//! a scale much smaller than `h` (`sin(x)` at `x = 1e10`, where `h` is `1e5`),
//! or a domain that ends within `h` (`log(x)` at `1e-7`).
//!
//! Twelve steps `h/10`, `h/100`, … are tried, each only where the difference
//! quotient's rounding stays ten times below what [`TOLERANCE`] allows, so
//! that rounding can neither hide a wrong gradient nor fake a right one. A
//! step settles the element two ways:
//! - the difference agrees with the backward pass: smaller steps are then
//!   taken while they agree better, and the last is the one shown;
//! - before any agrees, two steps in a row give the same difference (within
//!   a tenth of the tolerance): it has converged, to the derivative, and the
//!   backward pass is compared with that, and fails if it is off.

use super::{NOISE_ULPS, TOLERANCE, relative_error};
use crate::value::fmt_num;

/// What a smaller step found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Found {
    /// The step.
    pub step: f64,
    /// The centered difference there.
    pub numeric: f64,
    /// Its relative error against the backward pass.
    pub rel_error: f64,
    /// True when it agrees; false when the differences converged elsewhere.
    pub agrees: bool,
}

impl Found {
    /// The note for element `name`, whose backward pass gave `analytic`,
    /// where the step `h` did what `why` says.
    pub fn note(&self, name: &str, analytic: f64, h: f64, why: &str) -> String {
        let (t, n) = (fmt_num(self.step), fmt_num(self.numeric));
        let h = fmt_num(h);
        if self.agrees {
            format!(
                "gradient check: {name} checked at the smaller step ±{t}, where finite differences give {n}: the step ±{h} {why}"
            )
        } else {
            format!(
                "gradient check: {name} checked at smaller steps, where finite differences settle on {n} (at ±{} and ±{t}), against the backward pass's {} (relative error {}): the step ±{h} {why}",
                fmt_num(10.0 * self.step),
                fmt_num(analytic),
                fmt_num(self.rel_error)
            )
        }
    }
}

/// Tries the smaller steps for an element whose backward pass gave
/// `analytic`, below `h`; `sized(t)` is the centered difference at step `t`
/// and the size of the objective there, or why there is none (`floor` as in
/// [`relative_error`]). What settled it, if anything did, and how many
/// evaluations of the circuit it took.
pub(super) fn smaller_step(
    analytic: f64,
    h: f64,
    floor: f64,
    sized: impl Fn(f64) -> std::result::Result<(f64, f64), String>,
) -> (Option<Found>, usize) {
    let allowed = 0.1 * TOLERANCE * analytic.abs().max(floor);
    let mut passes = 0;
    let mut best: Option<Found> = None;
    // The difference at the step before, if that one counted.
    let mut before: Option<f64> = None;
    let mut t = h;
    for _ in 0..12 {
        t /= 10.0;
        passes += 2;
        // Past the last digit of x, x ± t is x: no difference at all. Near a
        // pole one step can land close enough to make the objective huge,
        // and the next not: too much rounding skips a step, and ends nothing.
        let usable = sized(t)
            .ok()
            .filter(|&(n, size)| n.is_finite() && NOISE_ULPS * f64::EPSILON * size / t <= allowed);
        let Some((numeric, _)) = usable else {
            before = None;
            continue;
        };
        let rel_error = relative_error(analytic, numeric, floor);
        let here = Found {
            step: t,
            numeric,
            rel_error,
            agrees: rel_error < TOLERANCE,
        };
        match best {
            Some(so_far) if rel_error >= so_far.rel_error => break,
            _ if here.agrees => best = Some(here),
            None if before.is_some_and(|b| relative_error(numeric, b, floor) < 0.1 * TOLERANCE) => {
                return (Some(here), passes);
            }
            _ => {}
        }
        before = Some(numeric);
    }
    (best, passes)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Sized = std::result::Result<(f64, f64), String>;

    /// The first step that agrees, then smaller while they agree better;
    /// none where rounding could hide anything; none that give no number.
    #[test]
    fn smaller_steps_agree_where_rounding_allows() {
        let sized = |t: f64| -> Sized {
            match t {
                t if t > 5e-7 => Ok((2.0, 1e-6)),
                // Rounding too large to tell anything.
                t if t > 5e-8 => Ok((1.0, 1e30)),
                t if t > 5e-9 => Ok((f64::NAN, 1e-6)),
                t if t > 5e-10 => Ok((1.0 + 1e-5, 1e-6)),
                t if t > 5e-11 => Ok((1.0 + 1e-6, 1e-6)),
                _ => Ok((1.0 + 1e-5, 1e-6)),
            }
        };
        let (found, passes) = smaller_step(1.0, 1e-5, 1e-8, sized);
        let found = found.unwrap();
        assert!((found.step / 1e-10 - 1.0).abs() < 1e-9, "{found:?}");
        assert_eq!((found.numeric, found.agrees), (1.0 + 1e-6, true));
        assert_eq!(passes, 12, "h/10 … h/10⁶, stopping when h/10⁶ agrees worse");
        // Rounding rules out the steps that would agree.
        let noisy = |_: f64| -> Sized { Ok((1.0, 1e12)) };
        assert_eq!(smaller_step(1.0, 1e-5, 1e-8, noisy), (None, 24));
    }

    /// Before any agrees, two steps in a row with the same difference
    /// settle it against the backward pass; two with a step between them
    /// that gave nothing do not.
    #[test]
    fn converged_differences_settle_a_wrong_gradient() {
        let converging = |t: f64| -> Sized { Ok((2.0 + t, 1.0)) };
        let (found, passes) = smaller_step(1.0, 1e-5, 1e-8, converging);
        let found = found.unwrap();
        assert!(
            !found.agrees && (found.rel_error - 0.5).abs() < 1e-5,
            "{found:?}"
        );
        assert_eq!((found.step, passes), (1e-5 / 10.0 / 10.0, 4));
        let gapped = |t: f64| -> Sized {
            match t {
                t if t > 5e-7 => Ok((2.0, 1.0)),
                t if t > 5e-8 => Err("a kink is crossed there".into()),
                _ => Ok((3.0, 1.0)),
            }
        };
        let (found, _) = smaller_step(1.0, 1e-5, 1e-8, gapped);
        assert_eq!(found.map(|f| f.numeric), Some(3.0), "{found:?}");
        let unsettled = |t: f64| -> Sized { Ok((1.0 / t, 1.0)) };
        assert_eq!(smaller_step(1.0, 1e-5, 1e-8, unsettled).0, None);
    }
}
