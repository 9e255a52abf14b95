//! The teaching diagrams: DOT snapshots of the notes' circuits, every number on
//! its wire, valid DOT whatever the names, the embedded SVG renderer, frames of
//! the step-by-step, worksheets, and atomic writes through the binary.
//!
//! Tests that need Graphviz live in `tests/render.rs`; the HTML page in Chromium
//! in `tests/html_page.rs`.

use gradexplain::draw::model::{self, Reveal, wire_number};
use gradexplain::draw::{Options, Renderer, dot_text, embedded, render_files, steps};
use gradexplain::{Analysis, Value, cli::Blank, input::parse_assignments, input::parse_grad};

fn analysed(src: &str, at: &str, grad: &str) -> Analysis {
    let mut a = Analysis::new(src).unwrap();
    let at = if at.is_empty() {
        Vec::new()
    } else {
        parse_assignments(at).unwrap()
    };
    a.evaluate(&at, &parse_grad(grad).unwrap()).unwrap();
    a
}

const SIGMOID: &str = "1/(1+exp(-(w0*x0+w1*x1+w2)))";
const SIGMOID_AT: &str = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3";

/// The programs of the notes, and a few more shapes: forks, tensors, indices.
fn programs() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("f(x,y)=x*y", "x=3,y=-4", "2"),
        ("q = x + y; f = q * z", "x=-2,y=5,z=-4", "1"),
        (SIGMOID, SIGMOID_AT, "1"),
        ("f(x) = x * x", "x=3", "1"),
        ("f(x, y) = max(x, y) * 2", "x=1,y=3", "1"),
        ("f(x, y) = max(x, y)", "x=2,y=2", "1"),
        ("a = exp(x); b = a * a; c = b + a; c * x", "x=0.5", "-1"),
        ("L(s, y) = s[y] * 2", "s=[1, 2, 3],y=1", "1"),
        ("f(W, x) = sum(W @ x)", "W=[[1, 2], [3, 4]],x=[1, -1]", "1"),
        ("f(v) = v * 2", "v=[1,2,3,4,5,6,7,8,9,10,11,12,13]", "1"),
        ("f(x) = log(x) + sqrt(x) - 3 / x ^ 2", "x=2", "1"),
    ]
}

fn dot_of(src: &str, at: &str, grad: &str, opts: Options) -> String {
    dot_text(&analysed(src, at, grad), &opts).unwrap()
}

#[test]
fn snapshot_multiply_gate() {
    insta::assert_snapshot!(dot_of("f(x,y)=x*y", "x=3,y=-4", "2", Options::default()));
}

#[test]
fn snapshot_add_then_multiply() {
    insta::assert_snapshot!(dot_of(
        "q = x + y; f = q * z",
        "x=-2,y=5,z=-4",
        "1",
        Options::default()
    ));
}

#[test]
fn snapshot_sigmoid_neuron() {
    insta::assert_snapshot!(dot_of(SIGMOID, SIGMOID_AT, "1", Options::default()));
}

#[test]
fn snapshot_fork() {
    insta::assert_snapshot!(dot_of("f(x) = x * x", "x=3", "1", Options::default()));
}

#[test]
fn snapshot_max_gate() {
    insta::assert_snapshot!(dot_of(
        "f(x, y) = max(x, y) * 2",
        "x=1,y=3",
        "1",
        Options::default()
    ));
}

#[test]
fn snapshot_symbolic() {
    let a = Analysis::new("q = x + y; f = q * sigmoid(q)").unwrap();
    insta::assert_snapshot!(dot_text(&a, &Options::default()).unwrap());
}

#[test]
fn snapshot_worksheet_and_local_gradients() {
    let blank = Options {
        blank: Some(Blank::All),
        local: true,
    };
    insta::assert_snapshot!(dot_of("q = x + y; f = q * z", "x=-2,y=5,z=-4", "1", blank));
    let local = Options {
        blank: None,
        local: true,
    };
    insta::assert_snapshot!(dot_of("f(x,y)=x*y", "x=3,y=-4", "2", local));
}

/// Every wire carries the value of its source and the gradient that flowed
/// back along it; the output wire carries the output and the upstream gradient.
#[test]
fn dot_carries_every_value_and_gradient() {
    for (src, at, grad) in programs() {
        let a = analysed(src, at, grad);
        let dot = dot_text(&a, &Options::default()).unwrap();
        let c = &a.circuit;
        let n = a.numeric.as_ref().unwrap();
        let esc = |s: String| gradexplain::draw::dot::html_escape(&s);
        for g in c.gates() {
            for (edge, _, input) in c.input_edges(g) {
                let v = esc(format!(
                    "= {}",
                    wire_number(&n.forward.values[input.index()])
                ));
                assert!(dot.contains(&v), "{src}: missing {v}\n{dot}");
                if let Some(e) = &n.backward.edge_grads[edge.index()] {
                    let d = esc(format!("∂ {}", wire_number(e)));
                    assert!(dot.contains(&d), "{src}: missing {d}\n{dot}");
                }
            }
        }
        let out = wire_number(&n.forward.values[c.output.index()]);
        assert!(dot.contains(&esc(format!("= {out}"))), "{src}: output");
        let up = wire_number(&n.backward.upstream);
        assert!(dot.contains(&esc(format!("∂ {up}"))), "{src}: upstream");
        // One DOT edge per use, plus the output wire; one node per gate, plus the output's.
        assert_eq!(dot.matches(" -> ").count(), c.edge_count() + 1, "{src}");
        let parsed = graphviz_rust::parse(&dot);
        assert!(parsed.is_ok(), "{src}: {parsed:?}\n{dot}");
    }
}

/// A parameter gets the gradient the backward pass computed, summed at forks:
/// the fork's note adds up the contributions of its wires.
#[test]
fn forks_show_their_sum() {
    let dot = dot_of("f(x) = x * x", "x=3", "1", Options::default());
    assert!(dot.contains("dx = 3 + 3 = 6"), "{dot}");
    assert!(
        dot.contains("penwidth=2.6"),
        "a fork has a heavy outline\n{dot}"
    );
    let dot = dot_of("f(x) = x * (0 - x)", "x=3", "1", Options::default());
    assert!(dot.contains("dx = (-3) + (-3) = -6"), "{dot}");
}

/// No name or number can break the DOT: hostile text in every label parses.
#[test]
fn labels_are_escaped() {
    let a = analysed("f(x,y)=x*y", "x=3,y=-4", "2");
    let mut d = model::build(&a, &Options::default(), Reveal::All);
    let hostile = r#"a"b\c<d>&e]f;g{h}i'j
k -> l [m=n]"#;
    for node in &mut d.nodes {
        node.symbol = hostile.into();
        node.name = Some(hostile.into());
        node.note = Some(hostile.into());
    }
    for w in &mut d.wires {
        w.value = hostile.into();
        w.grad = Some(hostile.into());
    }
    d.legend = hostile.into();
    let dot = gradexplain::draw::dot::to_dot(&d);
    let parsed = graphviz_rust::parse(&dot);
    assert!(parsed.is_ok(), "{parsed:?}\n{dot}");
    assert!(!dot.contains("<d>"), "{dot}");
    let svg = embedded::to_svg(&d, "t").unwrap();
    roxmltree::Document::parse(&svg).expect("the embedded SVG stays well-formed XML");
}

#[test]
fn symbolic_wires_carry_local_gradients() {
    let a = Analysis::new("f(x, y) = x * y").unwrap();
    let dot = dot_text(&a, &Options::default()).unwrap();
    assert!(dot.contains("∂f/∂x = y"), "{dot}");
    assert!(dot.contains("∂f/∂y = x"), "{dot}");
    assert!(!dot.contains("= -"), "no numbers without --at\n{dot}");
}

#[test]
fn worksheets_leave_blanks_but_keep_the_givens() {
    let grads = Options {
        blank: Some(Blank::Grads),
        local: false,
    };
    let dot = dot_of("f(x,y)=x*y", "x=3,y=-4", "2", grads);
    assert!(dot.contains("= 3") && dot.contains("= -12"), "{dot}");
    assert!(dot.contains("∂ ____"), "{dot}");
    assert!(dot.contains("∂ 2"), "the upstream gradient is given\n{dot}");
    assert!(!dot.contains("∂ -8") && !dot.contains("∂ 6"), "{dot}");
    let values = Options {
        blank: Some(Blank::Values),
        local: false,
    };
    let dot = dot_of("q = x + y; f = q * z", "x=-2,y=5,z=-4", "1", values);
    assert!(
        dot.contains("= -2") && dot.contains("= 5"),
        "inputs are given\n{dot}"
    );
    assert!(!dot.contains("= 3<") && !dot.contains("= -12"), "{dot}");
    assert!(dot.contains("∂ -4"), "{dot}");
    // Local gradients are mostly values: blanked values show their formulas
    // alone (`local q = 10` gave q away; found by a hostile probe).
    let local_values = Options {
        blank: Some(Blank::Values),
        local: true,
    };
    let dot = dot_of("q = x*y; f = q + q*x", "x=2,y=5", "1", local_values);
    assert!(
        dot.contains("local q<") || dot.contains("local q "),
        "{dot}"
    );
    assert!(
        !dot.contains("local q = 10") && !dot.contains("= 10"),
        "{dot}"
    );
}

/// The step sentences of a worksheet blank what the diagram blanks: the
/// gradients but not the upstream one, which is given; the values and the
/// local gradients' numbers (found by a hostile probe).
#[test]
fn worksheet_sentences_blank_what_the_diagram_blanks() {
    let a = analysed("q = x*y; f = q + q*x", "x=2,y=5", "3");
    let grads = Options {
        blank: Some(Blank::Grads),
        local: false,
    };
    let frames = steps::frames(&a, &grads);
    let first = &frames[1].sentence;
    assert!(first.contains("It receives grad = 3"), "{first}");
    assert!(first.contains("1 · grad = 1 · 3 = ____"), "{first}");
    let mul = frames
        .iter()
        .find(|f| f.sentence.contains("dx += q · dt1"))
        .unwrap();
    assert!(
        mul.sentence.contains("q · dt1 = 10 · ____ = ____"),
        "{}",
        mul.sentence
    );
    let values = Options {
        blank: Some(Blank::Values),
        local: false,
    };
    let frames = steps::frames(&a, &values);
    let mul = frames
        .iter()
        .find(|f| f.sentence.contains("dx += q · dt1"))
        .unwrap();
    assert!(
        mul.sentence.contains("q · dt1 = ____ · 3 = 30"),
        "{}",
        mul.sentence
    );
    assert!(
        !frames.iter().any(|f| f.sentence.contains("10")),
        "q = 10 is a value"
    );
}

/// Frame 0 is the forward pass alone; then one gate at a time, in descending
/// gate order, until every gradient is shown.
#[test]
fn steps_reveal_one_gate_at_a_time() {
    let a = analysed("q = x + y; f = q * z", "x=-2,y=5,z=-4", "1");
    let frames = steps::frames(&a, &Options::default());
    let order = model::steps(&a.circuit, a.numeric.as_ref().unwrap());
    assert_eq!(frames.len(), order.len() + 1);
    assert!(
        order.windows(2).all(|w| w[0] > w[1]),
        "descending gate index"
    );
    let count = |d: &model::Diagram| d.wires.iter().filter(|w| w.grad.is_some()).count();
    assert_eq!(count(&frames[0].diagram), 0);
    let counts: Vec<usize> = frames.iter().map(|f| count(&f.diagram)).collect();
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    let all = model::build(&a, &Options::default(), Reveal::All);
    assert_eq!(*counts.last().unwrap(), count(&all));
    assert!(
        frames[1].sentence.contains("Multiply gate"),
        "{}",
        frames[1].sentence
    );
    assert!(
        frames[1].sentence.contains("dq = z · grad = -4 · 1 = -4"),
        "{}",
        frames[1].sentence
    );
    assert!(frames[2].sentence.contains("dx = 1 · dq = 1 · -4 = -4"));
    assert_eq!(
        frames[1].diagram.nodes.iter().filter(|n| n.current).count(),
        1
    );
}

#[test]
fn embedded_svg_carries_the_numbers() {
    for (src, at, grad) in programs() {
        let a = analysed(src, at, grad);
        let files = render_files(
            &a,
            &gradexplain::draw::Request {
                svg: Some("x.svg".into()),
                ..Default::default()
            },
            Renderer::Embedded,
        )
        .unwrap();
        let svg = String::from_utf8(files[0].1.clone()).unwrap();
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let n = a.numeric.as_ref().unwrap();
        let out = wire_number(&n.forward.values[a.circuit.output.index()]);
        let texts: Vec<&str> = doc.descendants().filter_map(|d| d.text()).collect();
        assert!(
            texts.contains(&format!("= {out}").as_str()),
            "{src}: {texts:?}"
        );
        for e in n.backward.edge_grads.iter().flatten() {
            let d = format!("∂ {}", wire_number(e));
            assert!(texts.contains(&d.as_str()), "{src}: missing {d}");
        }
    }
}

#[test]
fn large_tensors_are_summarised_with_their_shape() {
    let v = Value::from(ndarray::Array1::from_elem(20, 1.5));
    assert!(wire_number(&v).contains("length 20"), "{}", wire_number(&v));
    let small: Value = ndarray::array![[1.0, 2.0], [3.0, 4.0]].into();
    assert_eq!(wire_number(&small), "[[1, 2], [3, 4]]  (2×2)");
}
