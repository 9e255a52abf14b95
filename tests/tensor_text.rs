//! What a student reads about tensors, as snapshots: the SVM loss both ways (the
//! examples themselves), the transposes derived by dimension analysis, a
//! broadcast scalar's summed gradient, the hinge's active margins.

use gradexplain::Analysis;
use gradexplain::explain::text::{Options, explain};
use gradexplain::input::{parse_assignments, parse_grad};

fn text(program: &str, at: &str, grad: &str) -> String {
    let mut a = Analysis::new(program).expect("parses");
    a.evaluate(
        &parse_assignments(at).expect("--at"),
        &parse_grad(grad).expect("--grad"),
    )
    .expect("evaluates");
    explain(&a, Options::default()).render(false)
}

/// The cat image of the CS231n notes, classes cat, dog, ship.
const W_ROWS: &str =
    "w0=[0.2,-0.5,0.1,2.0],w1=[1.5,1.3,2.1,0.0],w2=[0,0.25,0.2,-0.3],x=[56,231,24,2]";
const W: &str = "W=[[0.2,-0.5,0.1,2.0],[1.5,1.3,2.1,0.0],[0,0.25,0.2,-0.3]],x=[56,231,24,2]";

#[test]
fn svm_rows_counts_the_active_margins_at_the_fork() {
    let t = text(include_str!("../examples/svm-rows.gx"), W_ROWS, "1");
    assert!(
        t.contains("2 of the 2 uses send a gradient, each -1: 2 × -1"),
        "{t}"
    );
    insta::assert_snapshot!(t);
}

#[test]
fn svm_vectorised_names_the_active_margins_and_the_row_of_the_correct_class() {
    let t = text(
        include_str!("../examples/svm-vectorised.gx"),
        &format!("{W},y=2"),
        "1",
    );
    assert!(t.contains("hinge active at 2 of 3 elements of t3"), "{t}");
    assert!(t.contains("row 2 → -1 · x"), "{t}");
    assert!(
        t.contains("2 of the 3 elements of t2 send t1 a gradient, each -1: 2 × -1 = -2"),
        "{t}"
    );
    insta::assert_snapshot!(t);
}

#[test]
fn both_svm_forms_agree() {
    let rows = text(include_str!("../examples/svm-rows.gx"), W_ROWS, "1");
    let vect = text(
        include_str!("../examples/svm-vectorised.gx"),
        &format!("{W},y=0"),
        "1",
    );
    let grads = |t: &str| {
        t.split("gradients —")
            .nth(1)
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(
        grads(&rows).contains("dw0 = [-112, -462, -48, -4]"),
        "{rows}"
    );
    assert!(
        grads(&vect).contains("dW = [[-112, -462, -48, -4], [56, 231, 24, 2], [56, 231, 24, 2]]"),
        "{vect}"
    );
    assert!(rows.contains("L0 = 694.45") && vect.contains("L = 694.45"));
}

#[test]
fn matrix_product_transposes_by_dimension_analysis() {
    let t = text(
        "D = W @ X",
        "W=[[1,2,3],[4,5,6]],X=[[1,0,2,1],[0,1,1,1],[1,1,0,2]]",
        "[[1,0,2,1],[0,1,1,-1]]",
    );
    assert!(
        t.contains("dW must be 2×3 like W; from grad (2×4) and X (3×4) only grad · Xᵀ gives that (2×4 · 4×3)"),
        "{t}"
    );
    assert!(
        t.contains("dX must be 3×4 like X; from grad (2×4) and W (2×3) only Wᵀ · grad gives that (3×2 · 2×4)"),
        "{t}"
    );
    insta::assert_snapshot!(t);
}

#[test]
fn vectors_scalars_and_broadcasting() {
    let t = text(
        "h = sigmoid(W · x + b); f(W, x, b, v, a) = sum(h) + sum(v · (a · W))",
        "W=[[1,-2],[0.5,1],[2,0]],x=[1,-1],b=0.5,v=[1,2,3],a=2",
        "1",
    );
    assert!(t.contains("b was broadcast to all 3 elements"), "{t}");
    assert!(t.contains("da = sum("), "{t}");
    insta::assert_snapshot!(t);
}
