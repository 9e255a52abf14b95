//! A header after other statements, on the streaming path: declared first,
//! lowered into the circuit the whole-program path makes, its errors kept.

use super::*;

/// Everything lowering decides, in words.
fn describe(c: &Circuit) -> String {
    let mut out = String::new();
    for g in c.gates() {
        let ins: Vec<usize> = c.input_slice(g).iter().map(|i| i.index()).collect();
        let span = c.gate(g).span;
        let name = c.stage_names.first(g).unwrap_or("");
        out.push_str(&format!("{:?} {ins:?} {span:?} {name}\\n", c.op(g)));
    }
    for p in &c.params {
        out.push_str(&format!("param {} {:?} {:?}\\n", p.name, p.gate, p.span));
    }
    out.push_str(&format!(
        "output {:?} {}\\n{:?}\\n",
        c.output, c.output_name, c.notes
    ));
    out
}

/// A header after other statements is lowered on the parser's way, into
/// the very circuit the whole-program path makes.
#[test]
fn a_late_header_streams_to_the_same_circuit() {
    for src in [
        "h0 = x\nh1 = tanh(h0 * y + h0)\nf(x, y) = h1",
        "h0 = x\nf(y, x) = h0 * y + 1",
        "a = x * x\nf(x, z, y) = a + y", // z unused: gradient 0 and a note
        "a = x\nf(x) = a\nb = a * 2",    // the header in the middle
        "s = w · v\nloss(v, w) = max(0, s - 1)",
        "a = x\nx(x) = a + 1", // the header's name is a parameter's
        "a = x * y\nf(x,\n  y) = a  # over two lines\n\n",
        "f(x) = x * x", // the only statement
    ] {
        let (program, streamed) = parse_and_lower(src).unwrap();
        assert!(
            program.stmts.is_empty(),
            "{src}: lowered whole, not streamed"
        );
        let whole = lower(&parse(src).unwrap()).unwrap();
        assert_eq!(describe(&streamed), describe(&whole), "{src}");
    }
}

/// The header on the last line is read before parsing; anything else is
/// found by the parser.
#[test]
fn the_last_line_header_is_read_first() {
    fn names(src: &str) -> Option<Vec<&str>> {
        crate::syntax::trailing_header(src).map(|(name, params)| {
            let mut all = vec![&src[name.range()]];
            all.extend(params.iter().map(|p| &src[p.range()]));
            all
        })
    }
    assert_eq!(names("h = x\nf(x, y) = h * y"), Some(vec!["f", "x", "y"]));
    assert_eq!(
        names("h = x\nf(x) = h\n\n# done\n   \n"),
        Some(vec!["f", "x"])
    );
    assert_eq!(names("g() = 1"), Some(vec!["g"]));
    for src in [
        "h = x\nf(x) + 1",
        "f(x,\n y) = x",
        "x",
        "",
        "\n# only\n",
        "max(a, b) + 1",
    ] {
        assert_eq!(names(src), None, "{src:?}");
    }
}

/// What the whole-program path reports stays its to report.
#[test]
fn a_late_header_keeps_its_errors() {
    for (src, message) in [
        ("a = q\nf(x) = a", "`q` is not a parameter of `f(x)`"),
        ("a = x\nf(x, x) = a", "parameter `x` is listed twice"),
        (
            "a = x\nf(x) = a\ng(x) = a",
            "a program has at most one header",
        ),
        ("x = 1\nf(x) = x", "`x` is already defined as a parameter"),
        // The last line looks like a header but continues a bracket.
        ("a = (x +\nf(x) = 1)", "unknown function `f`"),
    ] {
        let e = parse_and_lower(src).unwrap_err();
        assert!(e.message.contains(message), "{src}: {}", e.message);
    }
}
