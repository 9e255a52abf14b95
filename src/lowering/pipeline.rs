//! Parsing and lowering a large program side by side, on two threads.
//!
//! The parser (lexing, the precedence machine, interning names) and lowering
//! (gates, hash-consing, binding names) each take about half of a large
//! program's time, and neither needs the other's result: lowering only follows
//! the parser. So on a machine with a second core the parser records its calls
//! to a [`Build`](crate::syntax::Build) in batches ([`crate::syntax::record`]),
//! and a second thread replays them into [`Lowering`] as they come. The
//! circuit is the one the parser's own thread would build, call for call;
//! `tests` holds the two to the same result.

use super::Lowering;
use crate::error::{Result, Span};
use crate::syntax::Ast;
use crate::syntax::parse_into;
use crate::syntax::record::{Batch, Recorder, Replay};
use std::sync::mpsc;

/// From this many bytes of source on, a second thread pays for itself: it
/// costs about 50 µs to start, and a batch handed over a few µs, against
/// about 0.3 µs of lowering a line of a generated program.
const MIN_SOURCE: usize = 256 * 1024;

/// How many full batches may wait for lowering before the parser waits in
/// turn: enough to ride out a slow batch, few enough to stay in the cache.
const QUEUE: usize = 4;

/// Whether to parse and lower `src` on two threads: a large program, and a
/// second core to run on (as the process's affinity and quota allow).
pub(super) fn worth_it(src: &str) -> bool {
    src.len() >= MIN_SOURCE && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// [`parse_into`] `lowering`, which runs on a thread of its own: the parser's
/// result, and the lowering it fed.
pub(super) fn parse_and_lower(
    src: &str,
    first: &[Span],
    lowering: Lowering,
) -> (Result<Ast>, Lowering) {
    std::thread::scope(|s| {
        let (full, to_lower) = mpsc::sync_channel::<Batch>(QUEUE);
        let (give_back, emptied) = mpsc::channel::<Batch>();
        let worker = s.spawn(move || {
            let mut replay = Replay::new(lowering);
            for batch in to_lower {
                replay.batch(&batch);
                // The parser may be done and gone: then the batch is dropped.
                let _ = give_back.send(batch);
            }
            replay.build
        });
        let mut recorder = Recorder::new(move |batch| {
            // Lowering only stops early by panicking, which `join` passes on.
            let _ = full.send(batch);
            emptied.try_recv().unwrap_or_default()
        });
        let parsed = parse_into(src, first, &mut recorder);
        if let Ok(ast) = &parsed {
            recorder.flush(ast);
        }
        // Closes the queue: lowering ends with the last batch.
        drop(recorder);
        let lowering = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (parsed, lowering)
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse_and_lower_with;
    use proptest::prelude::*;

    /// The circuit (every gate, edge, name and note) or the error, as text.
    fn outcome(src: &str, threaded: bool) -> String {
        format!("{:#?}", parse_and_lower_with(src, threaded))
    }

    fn same(src: &str) {
        assert_eq!(outcome(src, true), outcome(src, false), "program:\n{src}");
    }

    #[test]
    fn the_corpus_lowers_the_same_on_two_threads() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/corpus");
        let mut n = 0;
        for dir in ["good", "bad"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "gx") {
                    same(&std::fs::read_to_string(&p).unwrap());
                    n += 1;
                }
            }
        }
        assert!(n >= 20, "the corpus is unexpectedly small: {n}");
    }

    #[test]
    fn a_program_of_many_batches_lowers_the_same() {
        // A late header, names reused far apart, a long statement, a parameter
        // first seen at the end, and an overflowing literal: batch boundaries
        // fall inside statements and between them.
        let mut src = String::from("s0 = x0\n");
        for i in 1..40_000 {
            let j = i / 2;
            src.push_str(&format!(
                "s{i} = max(s{j} * x{}, -s{} + 1e999) / 3\n",
                i % 7,
                i - 1
            ));
        }
        let terms: Vec<String> = (0..20_000).map(|i| format!("s{}", i * 2)).collect();
        // A parameter first used in a late batch: lowering names it from there.
        src.push_str(&format!("t = late_param * ({})\n", terms.join(" + ")));
        src.push_str("f(x3, x1, late_param, x0, x2, x4, x5, x6) = t * s39999\n");
        assert!(src.len() > super::MIN_SOURCE, "large enough to be threaded");
        assert!(
            super::worth_it(&src)
                || std::thread::available_parallelism().is_ok_and(|n| n.get() < 2)
        );
        same(&src);
        // And an error at the very end of it, which the slow path reports.
        same(&format!("{src}g = (s1"));
    }

    /// Statements over a handful of names with functions, unary minus,
    /// brackets and literals, and sometimes a header (early or late) or an
    /// error: an unknown function, a missing bracket, a name used before its
    /// stage.
    fn program() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec!["a", "b", "c", "x", "y", "w1"]);
        let atom = prop_oneof![
            4 => name.clone().prop_map(str::to_string),
            1 => prop::sample::select(vec!["0", "2.5", "1e999", "3"]).prop_map(str::to_string),
        ];
        let expr = atom.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (
                    inner.clone(),
                    prop::sample::select(vec!["+", "-", "*", "/", "^"]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
                (
                    prop::sample::select(vec!["max", "min", "tanh", "relu", "abs"]),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(|(f, a, b)| match f {
                        "max" | "min" => format!("{f}({a}, {b}, 1)"),
                        _ => format!("{f}({a})"),
                    }),
                inner.clone().prop_map(|a| format!("-({a})")),
            ]
        });
        let stmt = prop_oneof![
            6 => (name.clone(), expr.clone()).prop_map(|(n, e)| format!("{n} = {e}")),
            2 => expr.clone(),
            2 => (prop::collection::vec(name, 1..4), expr.clone())
                .prop_map(|(ps, e)| format!("f({}) = {e}", ps.join(", "))),
            1 => expr.clone().prop_map(|e| format!("q = foo({e})")),
            1 => expr.prop_map(|e| format!("q = ({e}")),
        ];
        prop::collection::vec(stmt, 1..8).prop_map(|v| v.join("\n"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn generated_programs_lower_the_same_on_two_threads(src in program()) {
            prop_assert_eq!(outcome(&src, true), outcome(&src, false), "program:\n{}", src);
        }
    }
}
