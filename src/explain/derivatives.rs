//! The text sections that the symbolic derivatives and the gradient check add to
//! the explanation: each full derivative as a program, and the check's verdict.

use super::{Doc, Style};
use crate::analysis::Analysis;
use crate::check::{Check, element_name};
use crate::symbolic::Symbolic;
use crate::value::fmt_num;

/// Lines of one derivative shown before the middle is elided.
const MAX_LINES: usize = 24;
/// Parameters whose derivative the text shows.
const MAX_PARAMS: usize = 20;
/// Elements of the gradient check listed one by one.
const MAX_ENTRIES: usize = 20;

/// The "derivatives" section: ∂output/∂p for every parameter, as a program.
pub fn derivatives(d: &mut Doc, a: &Analysis, s: &Symbolic) {
    let c = &a.circuit;
    let f = &c.output_name;
    d.line();
    let tensor = s.derivatives.as_ref().is_some_and(|d| d.grad.is_some());
    let what = if tensor {
        let g = s
            .names
            .as_ref()
            .and_then(|n| n.grad.clone())
            .unwrap_or_else(|| "grad".into());
        format!(
            " — for each parameter p, the vector-Jacobian product of the upstream gradient `{g}` with ∂{f}/∂p, as a program gradexplain reads back"
        )
    } else {
        format!(" — ∂{f}/∂p for each parameter p, as a program gradexplain reads back")
    };
    d.line()
        .push(Style::Heading, "derivatives")
        .push(Style::Plain, what);
    if c.params.len() > MAX_PARAMS {
        d.line().push(
            Style::Note,
            format!(
                "  (the first {MAX_PARAMS} of {} parameters; --format json has them all)",
                c.params.len()
            ),
        );
    }
    for (p, prog) in c.params.iter().zip(&s.programs).take(MAX_PARAMS) {
        let Some(prog) = prog else {
            d.line().push(
                Style::Plain,
                format!("  ∂{f}/∂{}: none (see the notes)", p.name),
            );
            continue;
        };
        d.line().push(Style::Plain, format!("  ∂{f}/∂{}:", p.name));
        let lines: Vec<&str> = prog.lines().collect();
        let (head, tail) = if lines.len() > MAX_LINES {
            (MAX_LINES / 2, MAX_LINES / 2)
        } else {
            (lines.len(), 0)
        };
        for (k, l) in lines[..head].iter().enumerate() {
            let style = if k + 1 == lines.len() {
                Style::Backward
            } else {
                Style::Plain
            };
            d.line().push(style, format!("    {l}"));
        }
        if tail > 0 {
            d.line().push(
                Style::Note,
                format!(
                    "    … {} more lines (the whole program: --format json)",
                    lines.len() - head - tail
                ),
            );
            for (k, l) in lines[lines.len() - tail..].iter().enumerate() {
                let style = if k + 1 == tail {
                    Style::Backward
                } else {
                    Style::Plain
                };
                d.line().push(style, format!("    {l}"));
            }
        }
    }
}

/// A relative error, short: `3.2e-10`, `0`.
pub fn rel(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.is_nan() {
        "nan".into()
    } else if x >= 1e-3 {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x:.1e}")
    }
}

/// The "gradient check" section and its verdict line.
pub fn check(d: &mut Doc, a: &Analysis, k: &Check, detail: bool) {
    let c = &a.circuit;
    d.line();
    if detail {
        d.line().push(Style::Heading, "gradient check").push(
            Style::Plain,
            " — the backward pass against centered finite differences (L(x+h) − L(x−h)) / 2h, h = 1e-5·max(1, |x|)",
        );
        for e in k.entries.iter().take(MAX_ENTRIES) {
            let line = d.line();
            line.push(Style::Plain, format!("  {}: backward ", element_name(c, e)))
                .push(Style::Backward, fmt_num(e.analytic));
            let numeric = e.numeric.map_or_else(|| "—".into(), fmt_num);
            let verdict = match (e.rel_error, &e.kink) {
                (Some(r), _) => format!("relative error {}", rel(r)),
                (None, Some(_)) => "at a kink: not counted".into(),
                (None, None) => "cannot be evaluated: not counted".into(),
            };
            line.push(Style::Plain, format!(", numeric {numeric}, {verdict}"));
        }
        if k.entries.len() > MAX_ENTRIES {
            d.line().push(
                Style::Note,
                format!("  … {} more elements", k.entries.len() - MAX_ENTRIES),
            );
        }
    }
    let (checked, not_counted) = k.counted();
    let verdict = if k.ok && checked == 0 && not_counted > 0 {
        "nothing failed, but no element could be compared (see the notes)".to_string()
    } else if k.ok && not_counted > 0 {
        let elements = |n: usize| match n {
            1 => "1 element".to_string(),
            n => format!("{n} elements"),
        };
        format!(
            "ok ({} compared, {} not counted: see the notes)",
            elements(checked),
            elements(not_counted)
        )
    } else if k.ok {
        "ok".to_string()
    } else {
        let at = k
            .worst()
            .map(|e| format!(" (worst: {})", element_name(c, e)))
            .unwrap_or_default();
        format!(
            "NOT ok: above {}, the backward pass disagrees with finite differences{at}",
            rel(crate::check::TOLERANCE)
        )
    };
    d.line()
        .push(Style::Heading, "gradient check:")
        .push(
            Style::Plain,
            format!(" max relative error {} — ", rel(k.max_rel_error)),
        )
        .push(
            if k.ok {
                Style::Forward
            } else {
                Style::Backward
            },
            verdict,
        );
}
