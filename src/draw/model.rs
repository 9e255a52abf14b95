//! The diagram as data: which boxes, which wires, and the words and numbers on
//! them — decided once, here, so that the DOT text and the embedded renderer
//! draw the same picture. Nothing in this room knows any drawing syntax.

use crate::analysis::{Analysis, Numeric};
use crate::cli::Blank;
use crate::explain::local;
use crate::gate::Op;
use crate::graph::{Circuit, GateId};
use crate::value::{Shape, Value};

/// What goes on the diagram besides the circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// A worksheet: these numbers are left as blanks.
    pub blank: Option<Blank>,
    /// Also write each wire's local gradient ∂gate/∂input.
    pub local: bool,
}

/// How much of the backward pass a picture shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// Everything.
    All,
    /// Frame `k` of the step-by-step: 0 is the forward pass alone; frame k ≥ 1
    /// adds what the k-th gate of [`steps`] sent back, and highlights that gate.
    Step(usize),
}

/// What a box stands for; each kind is drawn in its own shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A parameter.
    Input,
    /// A numeric literal.
    Const,
    /// An operation.
    Gate,
    /// The end of the output wire, carrying the output's name.
    Output,
}

/// One box.
#[derive(Clone, Debug)]
pub struct Node {
    /// A name safe in any syntax: `g3`, `out`.
    pub id: String,
    /// What it stands for.
    pub kind: NodeKind,
    /// The big text: the operator (`*`, `exp`), the parameter's name, the number.
    pub symbol: String,
    /// The small text under a gate's operator: its stage name, or `t3`.
    pub name: Option<String>,
    /// Used more than once: its gradient is the sum of its branches.
    pub fork: bool,
    /// At a fork, the sum written out: `dx = 3 + 3 = 6`.
    pub note: Option<String>,
    /// The gate that the current step of the backward pass is at.
    pub current: bool,
}

/// One wire: one use of a value.
#[derive(Clone, Debug)]
pub struct Wire {
    /// Index of the source node in [`Diagram::nodes`].
    pub from: usize,
    /// Index of the target node.
    pub to: usize,
    /// Above the wire: `= 3`, or the value's name without numbers.
    pub value: String,
    /// Below the wire: `∂ -8`, or the symbolic local gradient; `None` where no
    /// gradient flows (a constant, an index) or it is not reached yet.
    pub grad: Option<String>,
    /// On request, the local gradient: `local y = -4`.
    pub local: Option<String>,
    /// The source is a fork.
    pub fork: bool,
}

/// The whole picture.
#[derive(Clone, Debug)]
pub struct Diagram {
    /// Boxes: one per gate in gate order, then the output's box, then one per
    /// use of each constant.
    pub nodes: Vec<Node>,
    /// Wires, by target gate and operand slot, the output wire last.
    pub wires: Vec<Wire>,
    /// One line that says how to read the numbers.
    pub legend: String,
}

impl Diagram {
    /// An estimate of the work of laying the picture out: the boxes, plus the
    /// ranks each wire crosses (a layered layout adds a hidden point on every
    /// rank a wire crosses, and orders them all), more for long wires. Wires
    /// come in order of their target gate, so one pass finds each box's rank
    /// (its longest path from an input).
    pub fn layout_cost(&self) -> usize {
        let n = self.nodes.len();
        let mut rank = vec![0usize; n];
        let mut fed = vec![false; n];
        for w in &self.wires {
            rank[w.to] = rank[w.to].max(rank[w.from] + 1);
            fed[w.to] = true;
        }
        // A box nothing feeds (an input, a constant) is placed next to its
        // earliest use, as layout engines do, not at the far left.
        let mut first_use = vec![usize::MAX; n];
        for w in &self.wires {
            first_use[w.from] = first_use[w.from].min(rank[w.to]);
        }
        let placed = |i: usize| {
            if fed[i] || first_use[i] == usize::MAX {
                rank[i]
            } else {
                first_use[i] - 1
            }
        };
        // Long wires cost more than their length: every hidden point on them
        // takes part in the ordering of its rank (measured: a value used by 100
        // gates along a chain takes Graphviz a minute, and layout-rs longer).
        self.wires
            .iter()
            .map(|w| {
                let span = rank[w.to].saturating_sub(placed(w.from));
                span + span * span / 10
            })
            .fold(n, usize::saturating_add)
    }
}

/// The blank a student fills in.
pub const BLANK: &str = "____";

/// The gates the backward pass stops at, in the order it visits them: every gate
/// that receives a gradient, by descending index, except inputs and constants
/// that are used only once (at a fork, the frame shows its sum). The text
/// explanation walks the same list.
pub fn steps(c: &Circuit, n: &Numeric) -> Vec<GateId> {
    let b = &n.backward;
    c.gates()
        .rev()
        .filter(|g| b.grads[g.index()].is_some())
        .filter(|&g| {
            !matches!(c.op(g), Op::Input(_) | Op::Const(_)) || contributions(c, n, g).len() >= 2
        })
        .collect()
}

/// How many times `g` is used: its out-degree in petgraph's view of the
/// circuit, a fork from 2 on.
fn uses(c: &Circuit, g: GateId) -> usize {
    c.graph()
        .neighbors_directed(g.0, petgraph::Direction::Outgoing)
        .count()
}

/// What flowed back along each use of `g`: (consumer, contribution).
pub fn contributions<'n>(c: &Circuit, n: &'n Numeric, g: GateId) -> Vec<(GateId, &'n Value)> {
    c.consumers(g)
        .into_iter()
        .filter_map(|(e, _, user)| n.backward.edge_grads[e.index()].as_ref().map(|v| (user, v)))
        .collect()
}

/// A number for a wire: tensors small enough are written out with their shape,
/// larger ones summarised (as [`Value`]'s `Display` does) — shape included.
pub fn wire_number(v: &Value) -> String {
    let s = v.to_string();
    match v.shape() {
        Shape::Scalar => s,
        sh if sh.len() > 12 => s,
        Shape::Vector(n) => format!("{s}  (len {n})"),
        sh => format!("{s}  ({sh})"),
    }
}

/// The operator as drawn in a gate.
pub fn gate_symbol(op: Op) -> &'static str {
    match op {
        Op::Sub => "−",
        Op::Neg => "neg",
        Op::Index => "[ ]",
        op => op.symbol(),
    }
}

/// Builds the picture of `a`.
pub fn build(a: &Analysis, opts: &Options, reveal: Reveal) -> Diagram {
    let c = &a.circuit;
    let n = a.numeric.as_ref();
    let blank_values = matches!(opts.blank, Some(Blank::Values | Blank::All));
    let blank_grads = matches!(opts.blank, Some(Blank::Grads | Blank::All));
    // Which gates have sent their gradients back in this picture.
    let order = n.map(|n| steps(c, n)).unwrap_or_default();
    let (shown, current): (Vec<bool>, Option<GateId>) = match (reveal, n) {
        (Reveal::Step(k), Some(_)) => {
            let mut shown = vec![false; c.len()];
            for g in order.iter().take(k) {
                shown[g.index()] = true;
            }
            (shown, k.checked_sub(1).and_then(|i| order.get(i)).copied())
        }
        _ => (vec![true; c.len()], None),
    };
    let upstream_shown = !matches!(reveal, Reveal::Step(0));

    // One box per gate — except constants, which get one small box per use:
    // a literal shared by many gates (`0.5` in every stage) would otherwise pull
    // wires across the whole picture and make the layout quadratic.
    let mut nodes: Vec<Node> = Vec::with_capacity(c.len() + 1);
    let mut node_of: Vec<usize> = vec![usize::MAX; c.len()];
    for g in c.gates() {
        let (kind, symbol, name) = match c.op(g) {
            Op::Const(_) => continue,
            Op::Input(_) => (NodeKind::Input, c.label(g), None),
            op => (
                NodeKind::Gate,
                gate_symbol(op).to_string(),
                Some(gate_name(c, g)),
            ),
        };
        let uses = uses(c, g);
        node_of[g.index()] = nodes.len();
        nodes.push(Node {
            id: format!("g{}", g.index()),
            kind,
            symbol,
            name,
            fork: uses >= 2,
            note: (uses >= 2 && shown[g.index()])
                .then(|| fork_note(c, n, g, uses, blank_grads))
                .flatten(),
            current: current == Some(g),
        });
    }
    let out_node = nodes.len();
    nodes.push(Node {
        id: "out".into(),
        kind: NodeKind::Output,
        symbol: c.output_name.clone(),
        name: None,
        fork: false,
        note: None,
        current: false,
    });
    let mut const_uses = vec![0usize; c.len()];
    let mut source = |g: GateId, nodes: &mut Vec<Node>| -> usize {
        let Op::Const(x) = c.op(g) else {
            return node_of[g.index()];
        };
        let k = &mut const_uses[g.index()];
        *k += 1;
        nodes.push(Node {
            id: format!("g{}_{}", g.index(), k),
            kind: NodeKind::Const,
            symbol: crate::print::number(x),
            name: None,
            fork: false,
            note: None,
            current: false,
        });
        nodes.len() - 1
    };

    let req = c.requires_grad();
    let mut wires = Vec::with_capacity(c.edge_count() + 1);
    for g in c.gates() {
        let op = c.op(g);
        let ins = c.input_edges(g);
        for &(edge, slot, input) in &ins {
            let value = match n {
                Some(_) if blank_values && !is_leaf(c, input) => format!("= {BLANK}"),
                Some(n) => format!("= {}", wire_number(&n.forward.values[input.index()])),
                None => c.label(input),
            };
            let carries = op.carries_gradient(slot) && req[input.index()];
            let (grad, local) = match n {
                Some(n) if shown[g.index()] => match &n.backward.edge_grads[edge.index()] {
                    Some(v) if blank_grads => (
                        Some(format!("∂ {BLANK}")),
                        opts.local.then(|| format!("local {BLANK}")),
                    ),
                    Some(v) => (
                        Some(format!("∂ {}", wire_number(v))),
                        opts.local
                            .then(|| local_numeric(c, n, g, slot, !blank_values))
                            .flatten(),
                    ),
                    None => (None, None),
                },
                Some(_) => (None, None),
                None if carries => {
                    let f = local::formula(c, g, slot)
                        .map(|f| if blank_grads { BLANK.to_string() } else { f })
                        .unwrap_or_else(|| format!("the {} rule", op.name()));
                    (
                        Some(format!("∂{}/∂{} = {f}", c.label(g), c.label(input))),
                        None,
                    )
                }
                None => (None, None),
            };
            wires.push(Wire {
                from: source(input, &mut nodes),
                to: node_of[g.index()],
                value,
                grad,
                local,
                fork: !is_leaf_const(c, input) && uses(c, input) >= 2,
            });
        }
    }
    let out = c.output.index();
    wires.push(Wire {
        from: source(c.output, &mut nodes),
        to: out_node,
        value: match n {
            Some(_) if blank_values && !is_leaf(c, c.output) => format!("= {BLANK}"),
            Some(n) => format!("= {}", wire_number(&n.forward.values[out])),
            None => c.output_name.clone(),
        },
        grad: match n {
            Some(n) if upstream_shown => Some(format!("∂ {}", wire_number(&n.backward.upstream))),
            Some(_) => None,
            None => Some("∂ grad".into()),
        },
        local: None,
        fork: false,
    });
    Diagram {
        nodes,
        wires,
        legend: legend(n.is_some(), opts),
    }
}

fn is_leaf_const(c: &Circuit, g: GateId) -> bool {
    matches!(c.op(g), Op::Const(_))
}

fn is_leaf(c: &Circuit, g: GateId) -> bool {
    matches!(c.op(g), Op::Input(_) | Op::Const(_))
}

/// The small name under a gate: its stage names, or its generated `t3`.
fn gate_name(c: &Circuit, g: GateId) -> String {
    match c.stage_names.get(&g) {
        Some(names) if g != c.output => names.join(", "),
        _ => c.label(g),
    }
}

/// `dx = 3 + 3 = 6`: the branches' contributions added up at a fork.
fn fork_note(
    c: &Circuit,
    n: Option<&Numeric>,
    g: GateId,
    uses: usize,
    blank: bool,
) -> Option<String> {
    let d = format!("d{}", c.label(g));
    let Some(n) = n else {
        return Some(format!("{d} = the sum of its {uses} branches"));
    };
    let parts = contributions(c, n, g);
    if parts.len() < 2 {
        return None;
    }
    if blank {
        let blanks = vec![BLANK; parts.len()].join(" + ");
        return Some(format!("{d} = {blanks} = {BLANK}"));
    }
    let total = n.backward.grads[g.index()].as_ref()?;
    let terms: Vec<String> = parts.iter().map(|(_, v)| wrap_negative(v)).collect();
    Some(format!(
        "{d} = {} = {}",
        terms.join(" + "),
        wire_number(total)
    ))
}

/// `-3` is written `(-3)` inside a sum, so that `3 + (-3)` reads as one.
fn wrap_negative(v: &Value) -> String {
    let s = v.to_string();
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s
    }
}

/// `local y = -4`: the local gradient's formula and, for scalars and with
/// `number`, its number. A worksheet that blanks the values shows no number:
/// a local gradient is often an input's value (`local y = -4` at `x * y`).
fn local_numeric(c: &Circuit, n: &Numeric, g: GateId, slot: usize, number: bool) -> Option<String> {
    let f = local::formula(c, g, slot)?;
    if !number {
        return Some(format!("local {f}"));
    }
    let ins = c.inputs(g);
    let vals: Vec<&Value> = ins.iter().map(|i| &n.forward.values[i.index()]).collect();
    let l = c.op(g).local(slot, &vals, &n.forward.values[g.index()])?;
    Some(if l.shape().is_scalar() {
        format!("local {f} = {l}")
    } else {
        format!("local {f}")
    })
}

fn legend(numeric: bool, opts: &Options) -> String {
    let mut s = if numeric {
        "above each wire “= value” (forward, green) · below it “∂ gradient” (backward, red italic)"
            .to_string()
    } else {
        "above each wire the value’s name · below it “∂gate/∂input” its local gradient (red italic)"
            .to_string()
    };
    if opts.blank.is_some() {
        s.push_str(&format!(" · worksheet: fill in each {BLANK}"));
    }
    s
}
