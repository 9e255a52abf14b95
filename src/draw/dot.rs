//! The diagram as Graphviz DOT, built as a graphviz-rust graph and printed by it.
//!
//! The look follows the circuit diagrams of the CS231n notes, left to right: the
//! forward value in green above each wire (the edge's `label`), the gradient in
//! red italics below it (the edge's `taillabel`, turned below the wire; wires
//! that share both ends, as in `x * x`, stack both numbers above themselves). Nothing relies on color alone:
//! values carry `=`, gradients `∂` and italics, and each kind of box has its
//! own shape — rounded box (input), dashed box (constant), circle (gate),
//! double box (output); a fork has a heavy outline and its sum beside it.
//!
//! Every text is escaped as an HTML-like label ([`html_escape`]), so no name or
//! number can break the DOT syntax.

use super::model::{Diagram, Node, NodeKind, Wire};
use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node as DotNode, NodeId, Stmt, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

/// Forward values: a dark bluish green (Okabe–Ito), readable on white and told
/// apart from the gradients' vermilion by color-blind readers.
pub const VALUE_COLOR: &str = "#00785a";
/// Gradients: a dark vermilion.
pub const GRAD_COLOR: &str = "#c0392b";
/// Small print: names under operators, the legend.
pub const NOTE_COLOR: &str = "#555555";
/// The fill that marks the gate of the current step.
pub const CURRENT_FILL: &str = "#fff1a8";
/// The fill of input boxes.
pub const INPUT_FILL: &str = "#eaf2fb";
/// One font everywhere, installed with Graphviz's usual fonts.
pub const FONT: &str = "DejaVu Sans";

/// The diagram as DOT text.
pub fn to_dot(d: &Diagram) -> String {
    let mut text = graph(d).print(&mut PrinterContext::default());
    text.push('\n');
    text
}

/// The diagram as a graphviz-rust graph.
pub fn graph(d: &Diagram) -> Graph {
    let mut stmts: Vec<Stmt> = vec![
        Stmt::GAttribute(GraphAttributes::Graph(vec![
            plain("rankdir", "LR"),
            plain("bgcolor", "white"),
            quoted("fontname", FONT),
            plain("fontsize", "11"),
            quoted("fontcolor", NOTE_COLOR),
            plain("labelloc", "b"),
            html("label", &html_escape(&d.legend)),
            plain("nodesep", "0.6"),
            plain("ranksep", "1.2"),
            plain("forcelabels", "true"),
        ])),
        Stmt::GAttribute(GraphAttributes::Node(vec![
            quoted("fontname", FONT),
            plain("fontsize", "14"),
            plain("penwidth", "1.2"),
        ])),
        Stmt::GAttribute(GraphAttributes::Edge(vec![
            quoted("fontname", FONT),
            plain("fontsize", "12"),
            plain("arrowsize", "0.7"),
            plain("penwidth", "1.1"),
            // The gradient is the tail label: below the wire (a clockwise angle
            // from the wire's direction), far enough along it to clear the box.
            plain("labelangle", "-14"),
            plain("labeldistance", "5.5"),
        ])),
    ];
    stmts.extend(d.nodes.iter().map(|n| Stmt::Node(node(n))));
    // Wires that share both ends (`x * x`) run side by side, too close for a
    // label below one and above the other: each gets its numbers stacked above it.
    let mut pairs: std::collections::HashMap<(usize, usize), usize> = Default::default();
    for w in &d.wires {
        *pairs.entry((w.from, w.to)).or_default() += 1;
    }
    stmts.extend(
        d.wires
            .iter()
            .map(|w| Stmt::Edge(edge(d, w, pairs[&(w.from, w.to)] > 1))),
    );
    Graph::DiGraph {
        id: Id::Plain("circuit".into()),
        strict: false,
        stmts,
    }
}

fn node(n: &Node) -> DotNode {
    let sym = html_escape(&n.symbol);
    let mut attrs = match n.kind {
        NodeKind::Input => vec![
            plain("shape", "box"),
            quoted("style", "rounded,filled"),
            quoted("fillcolor", INPUT_FILL),
            html("label", &format!("<B>{sym}</B>")),
        ],
        NodeKind::Const => vec![
            plain("shape", "box"),
            quoted("style", "dashed,rounded"),
            quoted("color", NOTE_COLOR),
            plain("fontsize", "12"),
            plain("height", "0.3"),
            html("label", &sym),
        ],
        NodeKind::Gate => {
            let name = n
                .name
                .as_deref()
                .map(|s| {
                    format!(
                        "<BR/><FONT POINT-SIZE=\"10\" COLOR=\"{NOTE_COLOR}\"><I>{}</I></FONT>",
                        html_escape(s)
                    )
                })
                .unwrap_or_default();
            vec![
                plain("shape", "circle"),
                plain("margin", "0.03"),
                html(
                    "label",
                    &format!(
                        "<FONT POINT-SIZE=\"{}\">{sym}</FONT>{name}",
                        op_size(&n.symbol)
                    ),
                ),
            ]
        }
        NodeKind::Output => vec![
            plain("shape", "box"),
            plain("peripheries", "2"),
            html("label", &format!("<B>{sym}</B>")),
        ],
    };
    if n.fork {
        attrs.push(plain("penwidth", "2.6"));
    }
    if let Some(note) = &n.note {
        attrs.push(html(
            "xlabel",
            &format!(
                "<FONT COLOR=\"{GRAD_COLOR}\" POINT-SIZE=\"11\"><I>{}</I></FONT>",
                html_escape(note)
            ),
        ));
    }
    if n.current {
        let style = match n.kind {
            NodeKind::Input => "rounded,filled",
            NodeKind::Const => "dashed,rounded,filled",
            _ => "filled",
        };
        attrs.push(quoted("style", style));
        attrs.push(quoted("fillcolor", CURRENT_FILL));
        attrs.push(plain("penwidth", "3"));
    }
    DotNode::new(NodeId(Id::Plain(n.id.clone()), None), attrs)
}

fn edge(d: &Diagram, w: &Wire, parallel: bool) -> Edge {
    let value = format!(
        "<FONT COLOR=\"{VALUE_COLOR}\">{}</FONT>",
        html_escape(&w.value)
    );
    let below: Vec<String> = [&w.grad, &w.local]
        .into_iter()
        .flatten()
        .map(|s| html_escape(s))
        .collect();
    let grad = format!(
        "<FONT COLOR=\"{GRAD_COLOR}\"><I>{}</I></FONT>",
        below.join("<BR/>")
    );
    let mut attrs = Vec::new();
    if below.is_empty() {
        attrs.push(html("label", &value));
    } else if parallel {
        attrs.push(html("label", &format!("{value}<BR/>{grad}")));
    } else {
        attrs.push(html("label", &value));
        attrs.push(html("taillabel", &grad));
    }
    if w.fork {
        attrs.push(plain("penwidth", "1.8"));
        if !parallel {
            // Wires leaving a fork start close together: their gradients are
            // put further along, where the wires have parted.
            attrs.push(plain("labeldistance", "8"));
            attrs.push(plain("labelangle", "-10"));
        }
    }
    let end = |i: usize| Vertex::N(NodeId(Id::Plain(d.nodes[i].id.clone()), None));
    Edge {
        ty: EdgeTy::Pair(end(w.from), end(w.to)),
        attributes: attrs,
    }
}

/// Operators are drawn big, function names (`sigmoid`) at text size.
pub fn op_size(symbol: &str) -> usize {
    if symbol.chars().count() <= 2 { 18 } else { 14 }
}

fn plain(key: &str, value: &str) -> Attribute {
    Attribute(Id::Plain(key.into()), Id::Plain(value.into()))
}

fn quoted(key: &str, value: &str) -> Attribute {
    Attribute(
        Id::Plain(key.into()),
        Id::Escaped(format!("\"{}\"", dot_escape(value))),
    )
}

/// An HTML-like label; `body` is already escaped.
fn html(key: &str, body: &str) -> Attribute {
    Attribute(Id::Plain(key.into()), Id::Html(format!("<{body}>")))
}

/// Text for a quoted DOT string: backslashes and quotes escaped, line breaks as `\n`.
pub fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for an HTML-like label (and for an HTML page): the markup characters as
/// entities, line breaks as spaces, control characters dropped.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_break_the_syntax() {
        assert_eq!(dot_escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(html_escape("<b>&\"'>"), "&lt;b&gt;&amp;&quot;&#39;&gt;");
        assert_eq!(html_escape("a\u{0}b\nc"), "ab c");
    }
}
