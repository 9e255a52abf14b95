//! The fast path against the full parser: the same builder calls and the
//! same results, on generated programs, the corpus and the examples.

use super::super::{Build, Parsed, Parser, Tree};
use super::MAX_MISSES;
use crate::error::Span;
use crate::gate::Op;
use crate::syntax::ast::{Ast, ExprId, Sym};

/// A builder that writes down every call, with everything it is handed.
#[derive(Default)]
struct Trace(Vec<String>);

impl Build for Trace {
    type Id = usize;
    fn num(&mut self, ast: &mut Ast, x: f64, span: Span) -> usize {
        self.0.push(format!(
            "num {:x} {span:?} notes {}",
            x.to_bits(),
            ast.notes.len()
        ));
        self.0.len()
    }
    fn name(&mut self, ast: &mut Ast, sym: Sym, span: Span) -> usize {
        self.0
            .push(format!("name {sym:?} `{}` {span:?}", ast.name(sym)));
        self.0.len()
    }
    fn apply(&mut self, _: &mut Ast, op: Op, args: &[usize], span: Span) -> usize {
        self.0.push(format!("apply {op:?} {args:?} {span:?}"));
        self.0.len()
    }
    fn header(&mut self, _: &Ast, name: (Sym, Span), params: &[(Sym, Span)]) {
        self.0.push(format!("header {name:?} {params:?}"));
    }
    fn statement(&mut self, ast: &Ast, stmt: Parsed<usize>) {
        self.0.push(format!(
            "statement {:?} {:?} {} {:?} names {}",
            stmt.kind,
            stmt.name,
            stmt.body,
            stmt.span,
            ast.names.len()
        ));
    }
    type Mark = usize;
    fn mark(&mut self, _: &Ast) -> usize {
        self.0.len()
    }
    fn rollback(&mut self, _: &mut Ast, len: usize) {
        self.0.truncate(len);
    }
}

/// Everything the parser hands the builder, its result, and how many
/// statements the fast path took, with the fast path on or off.
fn run(src: &str, fast: bool) -> (Vec<String>, String, usize) {
    let mut p = Parser::new(src, Trace::default());
    if !fast {
        p.fast_misses = MAX_MISSES;
    }
    let result = match p.run() {
        Ok(()) => format!("ok {:?} {:?}", p.ast.names, p.ast.notes),
        Err(e) => format!("error {:?}", *e),
    };
    (p.build.0, result, p.fast_taken)
}

/// The syntax tree of `src`, with the fast path on or off: every
/// statement's nodes with their places, the names and the notes, or the
/// error.
fn tree(src: &str, fast: bool) -> String {
    let mut p = Parser::new(src, Tree::default());
    if !fast {
        p.fast_misses = MAX_MISSES;
    }
    if let Err(e) = p.run() {
        return format!("error {:?}", *e);
    }
    let ast = &p.ast;
    let mut out = format!("{:?} {:?} {}\n", ast.names, ast.notes, ast.len());
    for s in &p.build.stmts {
        let nodes = (s.first.index()..=s.body.index())
            .map(|k| ExprId(k as u32))
            .map(|id| format!("{:?} {:?} {:?}", ast.expr(id), ast.args(id), ast.span(id)));
        out += &format!("{:?} {:?} {:?}\n", s.kind, s.name, s.span);
        out += &nodes.collect::<Vec<_>>().join("\n");
        out.push('\n');
    }
    out
}

/// The fast path makes no difference but speed: the same calls, in the
/// same order, with the same places, and the same result or error; and
/// the same syntax tree. Returns how many statements the fast path took.
fn same(src: &str) -> usize {
    let (fast, fast_result, taken) = run(src, true);
    let (full, full_result, none) = run(src, false);
    assert_eq!(none, 0);
    assert_eq!(fast_result, full_result, "result of {src:?}");
    assert_eq!(fast, full, "calls for {src:?}");
    assert_eq!(tree(src, true), tree(src, false), "tree of {src:?}");
    taken
}

#[test]
fn a_generated_chain_takes_the_fast_path_throughout() {
    let mut src = String::from("h0 = x0\n");
    for k in 1..200 {
        src.push_str(&format!("h{k} = tanh(h{} * x1 + h{})\n", k - 1, k - 1));
    }
    src.push_str("loss = max(0, h199 - 2.5) / 3 + -h1 @ (x1 - +7.25)");
    assert_eq!(same(&src), 201);
}

/// Statements the fast path does not take, or not whole.
const ODD: [&str; 29] = [
    "f(x, y) = x * y",
    "x ^ 2",
    "x ** 2",
    "-x^2",
    "v[0] + 1",
    "M[0, 1]",
    "x · y",
    "x − y",
    "σ(x)",
    "xσ + 1",
    "1e-3 * x",
    ".5 * x",
    "(x +\n y)",
    "max(x, y, z)",
    "tanh(x, y)",
    "tanh()",
    "foo(x)",
    "max (x, y)",
    "\u{feff}x",
    "x = y = z",
    "x y",
    "3x",
    "12.x",
    "(x",
    "x)",
    "x $ y",
    "",
    "# only a comment",
    "x # and a comment",
];

#[test]
fn what_it_does_not_take_goes_to_the_full_parser() {
    // Each of these is left to the full parser at the marked statement,
    // and the fast path takes up the next one again.
    for odd in ODD {
        let src = format!("a = x * y\nb = {odd}\nc = a + b\nd = c * 2\n");
        same(&src);
        let src = format!("{odd}\na = x * y; b = a - 1\n{odd}");
        same(&src);
    }
}

#[test]
fn a_headers_body_takes_the_fast_path_and_is_undone_when_it_gives_up() {
    let terms: Vec<String> = (0..50)
        .map(|k| format!("max(0, 0.{k}*x - {k}.5*y + 1)"))
        .collect();
    let src = format!("# loss\nf(x, y) = {}  # the end\n", terms.join(" + "));
    assert_eq!(same(&src), 1);
    assert_eq!(same("a = x * y\nf(x, y) = a - x; b = f * 2"), 3);
    // The header itself is the full parser's; past a false start in its
    // body, the full parser reads the body again.
    for odd in ODD {
        same(&format!("f(x, y) = x * y + {odd}\nb = f * 2"));
        same(&format!("a = x * y\nf(x, y) = {odd}\nb = f * 2"));
        same(&format!("f(x, y) =\n {odd}"));
    }
}

#[test]
fn nesting_past_its_depth_goes_to_the_full_parser() {
    // Far past it, recursing would overflow the stack.
    for depth in [1, 63, 64, 65, 200, 100_000] {
        let src = format!("y = {}x{}\nz = y", "(".repeat(depth), ")".repeat(depth));
        same(&src);
        let src = format!("y = {}x\nz = y", "-".repeat(depth));
        same(&src);
        let src = format!("y = {}x{}\nz = y", "tanh(".repeat(depth), ")".repeat(depth));
        same(&src);
    }
}

/// Random programs from pieces the fast path takes and pieces it does
/// not, with random space, line breaks and comments.
#[test]
fn generated_programs_parse_the_same_either_way() {
    let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15_u64);
    // Plain decimals too large and too small for a float make notes.
    let huge = "9".repeat(400);
    let tiny = format!("0.{}1", "0".repeat(400));
    let leaves = [
        "x",
        "y",
        "h1",
        "_t",
        "w2_3",
        "3",
        "0.5",
        "12.",
        "007",
        "1e400",
        "σ",
        ".5",
        "2.5E+4",
        "h1x",
        &huge,
        &tiny,
        "a_long_name",
        "another_long_one",
        "eightchr",
    ];
    const BINARY: [&str; 10] = [" + ", "-", " * ", "/", " @ ", "·", "^", "**", " − ", "  "];
    const CALLS: [&str; 8] = ["max", "min", "tanh", "relu", "pow", "sum", "foo", "exp"];
    const SPACE: [&str; 6] = ["", " ", "\t", " \r", "\n", " # note\n"];
    fn expr(
        next: &mut impl FnMut(usize) -> usize,
        leaves: &[&str],
        depth: usize,
        out: &mut String,
    ) {
        let pick = if depth == 0 { 0 } else { next(8) };
        match pick {
            0..=2 => out.push_str(leaves[next(leaves.len())]),
            3 | 4 => {
                expr(next, leaves, depth - 1, out);
                out.push_str(BINARY[next(BINARY.len())]);
                expr(next, leaves, depth - 1, out);
            }
            5 => {
                out.push_str(["-", "+", "- ", "−"][next(4)]);
                expr(next, leaves, depth - 1, out);
            }
            6 => {
                out.push('(');
                expr(next, leaves, depth - 1, out);
                out.push_str([")", ")", ")", "]", ""][next(5)]);
            }
            _ => {
                out.push_str(CALLS[next(CALLS.len())]);
                out.push('(');
                for k in 0..next(4) {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    expr(next, leaves, depth - 1, out);
                }
                out.push(')');
            }
        }
        if next(20) == 0 {
            out.push_str(SPACE[next(SPACE.len())]);
        }
    }
    let mut taken = 0;
    for _ in 0..3000 {
        let mut src = String::new();
        if next(10) == 0 {
            src.push_str("f(x, y) = ");
            expr(&mut next, &leaves, 2, &mut src);
            src.push('\n');
        }
        for k in 0..1 + next(8) {
            if next(2) == 0 {
                src.push_str(&format!("s{k} = "));
            }
            let depth = 1 + next(4);
            expr(&mut next, &leaves, depth, &mut src);
            src.push_str(["\n", ";", "\r\n", " \n\n", "; ", "  # note\n"][next(6)]);
        }
        if next(10) == 0 {
            src.push_str("loss = s0 + $");
        }
        taken += same(&src);
    }
    // The generator is not all odd cases: the fast path took many.
    assert!(taken > 2000, "the fast path took {taken} statements");
}

#[test]
fn the_corpus_and_examples_parse_the_same_either_way() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = 0;
    for dir in ["grammar/corpus/good", "grammar/corpus/bad", "examples"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "gx") {
                same(&std::fs::read_to_string(&path).unwrap());
                files += 1;
            }
        }
    }
    assert!(files > 50, "{files} files");
}

/// Names of up to 8 bytes are interned by a key kept in a list by symbol,
/// longer ones by their text; interleaved, each name is one symbol, in the
/// order of first appearance (a stage's name after its body's), and the
/// program means what it says.
#[test]
fn short_and_long_names_interleaved_are_each_one_symbol() {
    let src = "a_long_name = x\ny = a_long_name + x\neightchr = y * a_long_name\nz = eightchr + y";
    let program = crate::syntax::parse(src).unwrap();
    let names: Vec<&str> = program.ast.names.iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["x", "a_long_name", "y", "eightchr", "z"]);
    let cli = crate::cli::parse_from([
        "gradexplain",
        "--at",
        "x=2",
        "--summary",
        "--format",
        "json",
    ])
    .unwrap();
    let out = crate::app::render(src, &cli).unwrap();
    // z = 2x² + 2x: 12 at x = 2, and dz/dx = 4x + 2 = 10.
    assert!(out.contains("\"value\": 12"), "{out}");
    assert!(out.contains("\"x\": 10"), "{out}");
}

/// The fast path's own table of binary operators binds as the gate table
/// says.
#[test]
fn binary_operators_bind_as_the_gate_table_says() {
    use super::Binary;
    use crate::gate::Notation;
    for b in [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Dot,
    ] {
        let Notation::Infix(level, _) = b.op().notation() else {
            panic!("{:?} is not infix", b.op())
        };
        assert_eq!(b.level(), level, "{:?}", b.op());
    }
}
