//! Lowering's decisions as the circuit shows them: forks, names, parameters
//! and their roles, errors, topological order, and petgraph's view.

use super::*;
use crate::syntax::parse;

fn lower_src(src: &str) -> Result<Circuit> {
    lower(&parse(src).unwrap())
}

#[test]
fn repeated_subexpressions_become_one_gate() {
    let c = lower_src("f(x, y) = (x*y + 1) * (x*y + 1)").unwrap();
    // x, y, x*y, 1, +, *
    assert_eq!(c.len(), 6);
    let out = c.output;
    let ins = c.inputs(out);
    assert_eq!(ins[0], ins[1]);
}

#[test]
fn stages_keep_names_and_fork() {
    let c = lower_src("q = x + y\nf = q * q + z").unwrap();
    let q = c
        .stage_names
        .iter()
        .find(|(_, n)| *n == "q")
        .map(|(g, _)| g)
        .unwrap();
    assert_eq!(c.consumers(q).len(), 2);
    assert_eq!(c.label(q), "q");
    assert_eq!(c.output_name, "f");
    let names: Vec<_> = c.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["x", "y", "z"]);
}

#[test]
fn header_fixes_order_and_must_cover_free_names() {
    let c = lower_src("f(y, x) = x * y").unwrap();
    assert_eq!(c.params[0].name, "y");
    let e = lower_src("f(x) = x * y").unwrap_err();
    assert_eq!(e.message, "`y` is not a parameter of `f(x)`");
    assert_eq!(e.help.as_deref(), Some("add it to the header: `f(x, y)`"));
}

#[test]
fn roles_of_parameters() {
    let c = lower_src("L(s, y, z) = s[y] * 2").unwrap();
    assert_eq!(
        c.param_roles(),
        [
            ParamRole::Differentiable,
            ParamRole::Index,
            ParamRole::Unused
        ]
    );
}

#[test]
fn redefinition_and_use_before_definition() {
    assert!(
        lower_src("a = x; a = 2")
            .unwrap_err()
            .message
            .contains("already defined")
    );
    assert!(
        lower_src("b = a + 1; a = 2; b")
            .unwrap_err()
            .message
            .contains("before it is defined")
    );
}

/// petgraph's view has the circuit's gates and edges under the same
/// indices, and agrees with the flat lists on inputs and consumers.
#[test]
fn the_petgraph_view_is_the_circuit() {
    use petgraph::visit::EdgeRef;
    let c = lower_src("a = x * y; b = a * a + x; c = max(b, a) - y; c * a").unwrap();
    let g = c.graph();
    assert_eq!((g.node_count(), g.edge_count()), (c.len(), c.edge_count()));
    assert!(!petgraph::algo::is_cyclic_directed(g));
    for id in c.gates() {
        assert_eq!(g[id.0].op, c.op(id));
        for (edge, slot, input) in c.input_edges(id) {
            let e = g.edge_endpoints(edge).unwrap();
            assert_eq!((e, g[edge] as usize), ((input.0, id.0), slot));
        }
        let mut from_view: Vec<_> = g
            .edges_directed(id.0, petgraph::Direction::Outgoing)
            .map(|e| (e.id(), usize::from(*e.weight()), GateId(e.target())))
            .collect();
        from_view.sort_unstable();
        assert_eq!(c.consumers(id), from_view, "consumers of {}", c.label(id));
    }
    // `a` feeds `a * a` twice, `max` once and the output once.
    let a = c.stage_names.iter().find(|(_, n)| *n == "a").unwrap().0;
    assert_eq!(c.consumers(a).len(), 4);
}

#[test]
fn index_order_is_topological() {
    let c = lower_src("a = exp(x); b = a * a; c = b + a; c * x").unwrap();
    for g in c.gates() {
        assert!(c.inputs(g).iter().all(|i| *i < g));
    }
}

/// A program that names no output gets the first of `f`, `out`, `output`,
/// `result` that no parameter or stage of it is bound to, `f_out` past them;
/// a name the program only mentions in a stage's body counts as bound too
/// (it is a parameter). Both ways of lowering agree.
#[test]
fn an_unnamed_output_takes_a_name_the_program_does_not_bind() {
    for (src, want) in [
        ("x * 2", "f"),
        ("f * 2", "out"),
        ("f = x * 2\nf + 1", "out"),
        ("out = f * 2\nout + output", "result"),
        ("f + out + output + result", "f_out"),
    ] {
        assert_eq!(lower_src(src).unwrap().output_name, want, "{src}");
        let (_, streamed) = crate::lowering::parse_and_lower(src).unwrap();
        assert_eq!(streamed.output_name, want, "{src}, streamed");
    }
}

/// Temporaries are named so as not to clash with the user's names, `t_1`
/// included, which LaTeX writes as it writes `t1` (found by a hostile probe).
#[test]
fn temporaries_clash_with_no_name_in_any_notation() {
    for (src, want) in [
        ("f(x) = x * x + x", "t1"),
        ("f(t1, x) = t1 * x + x", "_t1"),
        ("f(t_1, x) = t_1 * x + x", "_t1"),
        ("f(t_1, _t2, x) = t_1 * x + _t2", "__t1"),
    ] {
        let c = lower_src(src).unwrap();
        let temp = c
            .gates()
            .find(|&g| c.label(g).ends_with('1') && c.params.iter().all(|p| p.name != c.label(g)));
        assert_eq!(temp.map(|g| c.label(g)).as_deref(), Some(want), "{src}");
    }
}
