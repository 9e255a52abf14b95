//! The embedded renderer: SVG without Graphviz. The layout-rs crate places the
//! boxes and routes the wires; the drawing itself is done here (a layout-rs
//! render backend), so that the picture keeps the look of the Graphviz one —
//! value above each wire, gradient below, one shape per kind of box, forks with
//! a heavy outline and their sum beside them — and so that every text is
//! escaped by one function ([`super::dot::html_escape`]).

use super::dot::{CURRENT_FILL, GRAD_COLOR, INPUT_FILL, NOTE_COLOR, VALUE_COLOR, op_size};
use super::model::{Diagram, NodeKind};
use crate::draw::dot::html_escape as esc;
use graph_layout::core::base::Orientation;
use graph_layout::core::color::Color;
use graph_layout::core::format::{ClipHandle, RenderBackend};
use graph_layout::core::geometry::Point;
use graph_layout::core::style::{LineStyleKind, StyleAttr};
use graph_layout::std_shapes::render::get_shape_size;
use graph_layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use graph_layout::topo::layout::VisualGraph;
use std::fmt::Write;

const NODE_FONT: usize = 14;
const WIRE_FONT: usize = 12;
/// Average glyph width of the sans-serif font, as a fraction of its size.
const GLYPH: f64 = 0.62;

/// Renders the diagram as a standalone SVG document. `id` makes the document's
/// element ids unique, so that several frames can share one HTML page.
///
/// layout-rs can panic on some layouts (an edge routed through a point that
/// coincides with its end: "Can't normalize the unit vector", found by the
/// fuzzer). Such a panic is caught, quietly, and the layout is tried again with
/// the wires' label room a little wider, which moves the points apart; if that
/// fails too, the error says so instead of crashing.
pub fn to_svg(d: &Diagram, id: &str) -> Result<String, String> {
    for nudge in [0, 1, 3] {
        let attempt = std::panic::AssertUnwindSafe(|| lay_out(d, id, nudge));
        if let Some(svg) = quietly(attempt) {
            return Ok(svg);
        }
    }
    Err("the built-in layout failed on this circuit".into())
}

/// Runs `f`, catching a panic without printing it.
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    result.ok()
}

/// One layout; `nudge` widens every wire's label room by that many columns.
fn lay_out(d: &Diagram, id: &str, nudge: usize) -> String {
    let mut vg = VisualGraph::new(Orientation::LeftToRight);
    // layout-rs checks that the graph stays acyclic after every edge, with a
    // search that takes exponential time on circuits with many paths. Ours is
    // acyclic by construction (gate order is topological), so the check is off;
    // and wires are added in order of their target, so that its remaining
    // "is this a back edge?" search stops at once (the target has no
    // successors yet).
    vg.dag.set_validate(false);
    // layout-rs lays out LR graphs by transposing; its shapes are made in the
    // flipped orientation, as its own DOT front end does.
    let dir = Orientation::TopToBottom;
    let handles: Vec<_> = d
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let text = match (&n.kind, &n.name) {
                (NodeKind::Gate, Some(name)) => format!("{}\n{name}", n.symbol),
                _ => n.symbol.clone(),
            };
            let (shape, square) = match n.kind {
                NodeKind::Gate => (ShapeKind::Circle(text), true),
                _ => (ShapeKind::Box(text), false),
            };
            let size = get_shape_size(dir, &shape, NODE_FONT, square);
            let look = StyleAttr::new(Color::fast("black"), 1, None, 0, NODE_FONT);
            vg.add_node(Element::create_with_properties(
                shape,
                look,
                dir,
                size,
                i.to_string(),
            ))
        })
        .collect();
    for (i, w) in d.wires.iter().enumerate() {
        // Blank text of the labels' size, so that the layout leaves room for them;
        // the labels themselves are drawn by the canvas, above and below the wire.
        let lines = wire_lines(w);
        let widest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let cols = ((widest as f64) * GLYPH).ceil() as usize;
        let room = vec![" ".repeat(cols.max(1) + nudge); lines.len() + 1].join("\n");
        let look = StyleAttr::new(Color::fast("black"), 1, None, 0, WIRE_FONT);
        let mut arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            &room,
            &look,
            &None,
            &None,
        );
        arrow.properties = Some(i.to_string());
        vg.add_edge(arrow, handles[w.from], handles[w.to]);
    }
    let mut canvas = Canvas::new(d, id);
    vg.do_it(false, false, false, &mut canvas);
    canvas.finish()
}

/// The texts on a wire, top to bottom: the value, then the gradient lines.
fn wire_lines(w: &super::model::Wire) -> Vec<&str> {
    let mut v = vec![w.value.as_str()];
    v.extend(w.grad.as_deref());
    v.extend(w.local.as_deref());
    v
}

/// A layout-rs render backend that writes our SVG.
struct Canvas<'d> {
    d: &'d Diagram,
    id: String,
    body: String,
    /// Top-left and bottom-right of everything drawn so far.
    lo: Point,
    hi: Point,
    /// The node whose shape was just drawn: its text comes next.
    pending: Option<usize>,
}

impl<'d> Canvas<'d> {
    fn new(d: &'d Diagram, id: &str) -> Self {
        Canvas {
            d,
            id: id.to_string(),
            body: String::new(),
            lo: Point::new(f64::INFINITY, f64::INFINITY),
            hi: Point::new(f64::NEG_INFINITY, f64::NEG_INFINITY),
            pending: None,
        }
    }

    fn grow(&mut self, a: Point, b: Point) {
        self.lo = Point::new(self.lo.x.min(a.x.min(b.x)), self.lo.y.min(a.y.min(b.y)));
        self.hi = Point::new(self.hi.x.max(a.x.max(b.x)), self.hi.y.max(a.y.max(b.y)));
    }

    /// A line of text centred at `x`, its baseline at `y`; `class` styles it.
    fn text(&mut self, x: f64, y: f64, s: &str, class: &str, size: usize) {
        let half = s.chars().count() as f64 * size as f64 * GLYPH / 2.0;
        self.grow(
            Point::new(x - half, y - size as f64),
            Point::new(x + half, y + 4.0),
        );
        let _ = writeln!(
            self.body,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" class=\"{class}\">{}</text>",
            esc(s)
        );
    }

    fn node_of(&self, properties: &Option<String>) -> Option<usize> {
        properties.as_deref()?.parse().ok()
    }

    /// The stroke and fill of node `i`.
    fn node_style(&self, i: Option<usize>) -> (String, &'static str) {
        let Some(n) = i.and_then(|i| self.d.nodes.get(i)) else {
            return ("node".into(), "white");
        };
        let mut class = match n.kind {
            NodeKind::Input => "node input",
            NodeKind::Const => "node const",
            NodeKind::Gate => "node gate",
            NodeKind::Output => "node output",
        }
        .to_string();
        if n.fork {
            class.push_str(" fork");
        }
        if n.current {
            class.push_str(" current");
        }
        let fill = match (n.current, n.kind) {
            (true, _) => CURRENT_FILL,
            (false, NodeKind::Input) => INPUT_FILL,
            _ => "white",
        };
        (class, fill)
    }

    /// The fork note over node `i`, whose shape starts at `top`: above a box the
    /// wires' labels leave room, below it they do not.
    fn note(&mut self, i: Option<usize>, x: f64, top: f64) {
        if let Some(note) = i.and_then(|i| self.d.nodes.get(i)?.note.clone()) {
            self.text(x, top - 8.0, &note, "grad", 11);
        }
    }

    fn finish(self) -> String {
        let pad = 12.0;
        let (lo, hi) = if self.lo.x.is_finite() {
            (self.lo, self.hi)
        } else {
            (Point::zero(), Point::zero())
        };
        let legend_y = hi.y + 22.0;
        let legend_w = self.d.legend.chars().count() as f64 * 11.0 * GLYPH;
        let cx = (lo.x + hi.x) / 2.0;
        // The legend is centred under the picture and may be the widest thing.
        let (lo, hi) = (
            Point::new(lo.x.min(cx - legend_w / 2.0), lo.y),
            Point::new(hi.x.max(cx + legend_w / 2.0), hi.y),
        );
        let width = hi.x - lo.x + 2.0 * pad;
        let height = legend_y - lo.y + 2.0 * pad;
        let (x0, y0) = (lo.x - pad, lo.y - pad);
        let id = &self.id;
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
             viewBox=\"{x0:.1} {y0:.1} {width:.1} {height:.1}\" role=\"img\">\n\
             <style>\n\
             text {{ font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; text-anchor: middle; }}\n\
             .node {{ stroke: black; stroke-width: 1.2; }}\n\
             .const {{ stroke: {NOTE_COLOR}; stroke-dasharray: 4 3; }}\n\
             .fork {{ stroke-width: 2.6; }}\n\
             .current {{ stroke-width: 3; }}\n\
             .wire {{ stroke: black; stroke-width: 1.1; fill: none; }}\n\
             .wire.fork {{ stroke-width: 1.8; }}\n\
             .sym {{ font-size: {NODE_FONT}px; }}\n\
             .op18 {{ font-size: 18px; }}\n\
             .op14 {{ font-size: 14px; }}\n\
             .name {{ font-size: 10px; font-style: italic; fill: {NOTE_COLOR}; }}\n\
             .input-name {{ font-weight: bold; }}\n\
             .value {{ font-size: {WIRE_FONT}px; fill: {VALUE_COLOR}; }}\n\
             .grad {{ font-size: {WIRE_FONT}px; font-style: italic; fill: {GRAD_COLOR}; }}\n\
             .legend {{ font-size: 11px; fill: {NOTE_COLOR}; }}\n\
             </style>\n\
             <defs><marker id=\"{id}-arrow\" markerWidth=\"8\" markerHeight=\"6\" refX=\"8\" refY=\"3\" \
             orient=\"auto\"><polygon points=\"0 0, 8 3, 0 6\" fill=\"black\"/></marker></defs>\n\
             <rect x=\"{x0:.1}\" y=\"{y0:.1}\" width=\"{width:.1}\" height=\"{height:.1}\" fill=\"white\"/>\n"
        );
        s.push_str(&self.body);
        let _ = write!(
            s,
            "<text x=\"{cx:.1}\" y=\"{legend_y:.1}\" class=\"legend\">{}</text>\n</svg>\n",
            esc(&self.d.legend)
        );
        s
    }
}

impl RenderBackend for Canvas<'_> {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        _look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        let i = self.node_of(&properties);
        let (class, fill) = self.node_style(i);
        let kind = i.and_then(|i| self.d.nodes.get(i)).map(|n| n.kind);
        // Boxes are drawn smaller than the room layout-rs leaves around text.
        let (w, h) = ((size.x * 0.8).max(36.0), 30.0_f64.min(size.y));
        let (x, y) = (xy.x + (size.x - w) / 2.0, xy.y + (size.y - h) / 2.0);
        self.grow(Point::new(x, y), Point::new(x + w, y + h));
        let rx = if kind == Some(NodeKind::Output) { 0 } else { 6 };
        let _ = writeln!(
            self.body,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"{rx}\" \
             fill=\"{fill}\" class=\"{class}\"/>"
        );
        if kind == Some(NodeKind::Output) {
            let _ = writeln!(
                self.body,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" class=\"node\"/>",
                x + 4.0,
                y + 4.0,
                w - 8.0,
                h - 8.0
            );
        }
        self.note(i, x + w / 2.0, y);
        self.pending = i;
    }

    fn draw_line(
        &mut self,
        start: Point,
        stop: Point,
        _look: &StyleAttr,
        _properties: Option<String>,
    ) {
        self.grow(start, stop);
        let _ = writeln!(
            self.body,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"wire\"/>",
            start.x, start.y, stop.x, stop.y
        );
    }

    fn draw_circle(
        &mut self,
        xy: Point,
        size: Point,
        _look: &StyleAttr,
        properties: Option<String>,
    ) {
        let i = self.node_of(&properties);
        let (class, fill) = self.node_style(i);
        let r = (size.x.min(size.y) / 2.0 * 0.75).max(20.0);
        self.grow(
            Point::new(xy.x - r, xy.y - r),
            Point::new(xy.x + r, xy.y + r),
        );
        let _ = writeln!(
            self.body,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{fill}\" class=\"{class}\"/>",
            xy.x, xy.y
        );
        self.note(i, xy.x, xy.y - r);
        self.pending = i;
    }

    fn draw_text(&mut self, xy: Point, _text: &str, _look: &StyleAttr) {
        // Wire labels are drawn with their wire; only a node's text comes here.
        let Some(n) = self.pending.take().and_then(|i| self.d.nodes.get(i)) else {
            return;
        };
        match (n.kind, &n.name) {
            (NodeKind::Gate, Some(name)) => {
                let (sym, name) = (n.symbol.clone(), name.clone());
                let size = op_size(&sym);
                self.text(xy.x, xy.y + 2.0, &sym, &format!("op{size}"), size);
                self.text(xy.x, xy.y + 15.0, &name, "name", 10);
            }
            (NodeKind::Gate, None) => {
                let sym = n.symbol.clone();
                let size = op_size(&sym);
                self.text(xy.x, xy.y + 6.0, &sym, &format!("op{size}"), size);
            }
            (NodeKind::Input | NodeKind::Output, _) => {
                let sym = n.symbol.clone();
                self.text(xy.x, xy.y + 5.0, &sym, "sym input-name", NODE_FONT);
            }
            (NodeKind::Const, _) => {
                let sym = n.symbol.clone();
                self.text(xy.x, xy.y + 5.0, &sym, "sym", NODE_FONT);
            }
        }
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        _head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        let Some(w) = properties
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .and_then(|i| self.d.wires.get(i))
        else {
            return;
        };
        if path.len() < 2 {
            return;
        }
        // The same cubic Bézier chain as layout-rs's own SVG writer.
        let mut p = format!(
            "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
            path[0].0.x,
            path[0].0.y,
            path[0].1.x,
            path[0].1.y,
            path[1].0.x,
            path[1].0.y,
            path[1].1.x,
            path[1].1.y
        );
        for q in &path[2..] {
            let _ = write!(p, " S {:.1} {:.1}, {:.1} {:.1}", q.0.x, q.0.y, q.1.x, q.1.y);
        }
        for (a, b) in path {
            self.grow(*a, *b);
        }
        let class = if w.fork { "wire fork" } else { "wire" };
        let _ = writeln!(
            self.body,
            "<path d=\"{p}\" class=\"{class}\" marker-end=\"url(#{}-arrow)\"/>",
            self.id
        );
        // The labels sit where the wire crosses the room left for them (the
        // first point after the source), value above, gradient lines below.
        let at = if path.len() >= 3 {
            path[1].0
        } else {
            Point::new(
                (path[0].0.x + path[1].0.x) / 2.0,
                (path[0].0.y + path[1].0.y) / 2.0,
            )
        };
        let (value, below): (String, Vec<String>) = (
            w.value.clone(),
            [&w.grad, &w.local].into_iter().flatten().cloned().collect(),
        );
        self.text(at.x, at.y - 5.0, &value, "value", WIRE_FONT);
        for (k, line) in below.iter().enumerate() {
            self.text(at.x, at.y + 15.0 + 14.0 * k as f64, line, "grad", WIRE_FONT);
        }
    }

    fn create_clip(&mut self, _xy: Point, _size: Point, _rounded_px: usize) -> ClipHandle {
        0
    }
}
