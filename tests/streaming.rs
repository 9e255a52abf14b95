//! The command line lowers each node as the parser reads it
//! (`Analysis::lowered`), never holding a syntax tree; the library parses the
//! whole program first (`Analysis::new`). Both must give the same circuit, or
//! the same error, for every program: the corpus, hand-picked orderings of
//! errors, and generated programs that reuse and redefine names.

use gradexplain::{Analysis, Error};
use proptest::prelude::*;
use std::fs;
use std::path::Path;

/// What a program comes to: the report of its circuit (every gate, label,
/// parameter and note), or the error with its place.
fn outcome(a: Result<Analysis, Error>) -> String {
    match a {
        Ok(a) => serde_json::to_string_pretty(&a.report()).unwrap(),
        Err(e) => format!("{:?} {:?} {}", e.kind, e.span, e.render(false)),
    }
}

fn same(src: &str) {
    let whole = outcome(Analysis::new(src));
    let streamed = outcome(Analysis::lowered(src.to_string()));
    assert_eq!(streamed, whole, "program:\n{src}");
}

#[test]
fn the_corpus_lowers_the_same_either_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammar/corpus");
    let mut n = 0;
    for dir in ["good", "bad"] {
        for e in fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "gx") {
                same(&fs::read_to_string(&p).unwrap());
                n += 1;
            }
        }
    }
    assert!(n >= 20, "the corpus is unexpectedly small: {n}");
}

#[test]
fn errors_come_in_the_same_order_either_way() {
    for src in [
        // A lowering error before a syntax error: the syntax error wins.
        "a = x; a = y\nb = (x",
        // A lexer error after a syntax error: the lexer error wins.
        "a = x +* y\nb = $",
        // Used before defined: a free name, then a stage of that name.
        "b = a + 1; a = 2; b",
        "b = a * x\nc = b + 1\na = 3\nc",
        // A header after other statements fixes the parameter order.
        "q = x + y\nf(y, x) = q * x",
        "x * y\nf(x, y) = x + y",
        // A name the header does not list, in a later statement.
        "f(x) = x * 2\ng = f + y",
        // A name the header does not list, in a statement the fast path
        // builds and then gives up on (a power, an index): lowering fails
        // in the false start, is undone, and fails again in the full parse.
        "f(x) = x * 2\ng = y + x ^ 2",
        "f(x) = x\ng = y * 2 + x[0]",
        "q = y * x + x ^ 2\nf(x, y) = q",
        // Headers: listed twice, a second header, a stage that redefines a parameter.
        "f(x, x) = x",
        "f(x) = x\ng(y) = y",
        "f(x) = x\nx = 2",
        // Redefined stages, an unused parameter, an overflowing literal.
        "a = x\na = 2",
        "f(x, y, z) = x * y",
        "f(x) = x * 1e999",
        // No statement, only comments.
        "",
        "# nothing\n\n",
        // Stages that name the same gate, and the output.
        "a = x * y; b = a; c = b + a; c",
        "f = x; f",
    ] {
        same(src);
    }
}

/// The parser lexes its tokens a window at a time, ahead of where it is: on a
/// program of many windows, a character the lexer rejects late is still the
/// error reported, before a syntax error early; and with no syntax error, the
/// statements before it parse as before.
#[test]
fn a_late_lexer_error_beyond_many_windows_of_tokens() {
    let stages: String = (1..2000)
        .map(|i| format!("h{i} = tanh(h{} * w + h{})\n", i - 1, i - 1))
        .collect();
    for early in ["", "a = (x +\n"] {
        let src = format!("h0 = x\n{early}{stages}b = h1999 $ w\n");
        let e = Analysis::lowered(src.clone()).unwrap_err();
        assert_eq!(e.message, "unexpected character `$`", "{early:?}");
        let line = 2001 + usize::from(!early.is_empty());
        assert_eq!(e.line_col().map(|(l, _)| l), Some(line), "{early:?}");
        same(&src);
    }
    // Without it, the same text lowers, window after window.
    let src = format!("h0 = x\n{stages}");
    let a = Analysis::lowered(src.clone()).unwrap();
    assert_eq!(a.circuit.output_name, "h1999");
    same(&src);
}

/// Programs over a few names, so that names get reused, redefined, used before
/// they are defined, and listed in a header that may come late or leave one out.
fn program() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["a", "b", "c", "x", "y"]);
    let atom = prop_oneof![
        name.clone().prop_map(str::to_string),
        (0..4i32).prop_map(|k| k.to_string()),
    ];
    let expr = (
        atom.clone(),
        prop::sample::select(vec!["+", "*", "-", "/"]),
        atom,
    )
        .prop_map(|(a, op, b)| format!("{a} {op} {b}"));
    let stmt = prop_oneof![
        3 => (name.clone(), expr.clone()).prop_map(|(n, e)| format!("{n} = {e}")),
        1 => expr.clone(),
        1 => (prop::collection::vec(name, 1..3), expr)
            .prop_map(|(ps, e)| format!("f({}) = {e}", ps.join(", "))),
    ];
    prop::collection::vec(stmt, 1..6).prop_map(|v| v.join("\n"))
}

/// Programs in which the fast path (which builds as it reads) gives up
/// part-way through statements (stages, bare expressions and headers'
/// bodies), after building some of them: a power, an
/// index, a number with an exponent, `max` of three, a function it does not
/// know, a line break inside brackets. What it built is undone, and the full
/// parser reads the statement again. The names are few, so the parts built
/// and undone reuse gates, push names past two consumers (where equal gates
/// are found by hashing instead of by scanning), make constants and new
/// parameters, and the statements after must find exactly the gates the
/// whole-program path does.
fn program_with_false_starts() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["a", "b", "x", "y", "z", "w", "s0", "s2"]);
    let atom = prop_oneof![
        3 => name.prop_map(str::to_string),
        1 => (0..3i32).prop_map(|k| format!("{k}.5")),
    ];
    let term = (
        atom.clone(),
        prop::sample::select(vec!["+", "*", "-"]),
        atom,
    )
        .prop_map(|(a, op, b)| format!("{a} {op} {b}"));
    let odd = prop::sample::select(vec![
        " ^ 2",
        "[0]",
        " * 1e3",
        " + max(x, y, z)",
        " + foo(x)",
        " + (x +\n y)",
        " ** 2",
        "",
    ]);
    let expr = (prop::collection::vec(term, 1..4), odd)
        .prop_map(|(terms, odd)| format!("{}{odd}", terms.join(" + ")));
    // A header's body goes through the fast path too, after its parameters
    // are declared; they may leave names out, which is an error either way.
    let params = prop::sample::subsequence(vec!["a", "b", "x", "y", "z", "w"], 1..6);
    // Each stage its own name, so that few programs end at a redefinition.
    let stmt = (0..5u8, params, expr);
    prop::collection::vec(stmt, 1..8).prop_map(|v| {
        let lines: Vec<String> = v
            .into_iter()
            .enumerate()
            .map(|(k, (kind, params, e))| match kind {
                0 | 1 => format!("s{k} = {e}"),
                2 => format!("f({}) = {e}", params.join(", ")),
                _ => e,
            })
            .collect();
        lines.join("\n")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn false_starts_of_the_fast_path_are_undone(src in program_with_false_starts()) {
        let whole = outcome(Analysis::new(&src));
        let streamed = outcome(Analysis::lowered(src.clone()));
        prop_assert_eq!(streamed, whole, "program:\n{}", src);
    }

    #[test]
    fn generated_programs_lower_the_same_either_way(src in program()) {
        let whole = outcome(Analysis::new(&src));
        let streamed = outcome(Analysis::lowered(src.clone()));
        prop_assert_eq!(streamed, whole, "program:\n{}", src);
    }
}
