//! Each stage on its own, in-process (`cargo bench --bench stages`): parse,
//! lower, forward, backward, symbolic, simplify, print, DOT. The whole-process
//! numbers, peak memory and the baselines are `bench/run.sh`'s; this is where a
//! change to one stage shows.
//!
//! Workloads are made here, as `bench/gen.py` makes them: the forked chain
//! `h_i = tanh(h_{i-1} * x1 + h_{i-1})` and the nested chain
//! `tanh(… tanh(x0 * x1 + x0) … * x1 + x0)`.

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use gradexplain::explain::json;
use gradexplain::symbolic::{Symbolic, expr::Arena};
use gradexplain::{Analysis, Value, eval, lower, lowering, parse};
use std::hint::black_box;
use std::time::Duration;

fn chain(n: usize) -> String {
    let mut s = String::from("h0 = x0\n");
    for i in 1..=n {
        s.push_str(&format!("h{i} = tanh(h{} * x1 + h{})\n", i - 1, i - 1));
    }
    s
}

fn nested(depth: usize) -> String {
    let mut f = String::from("x0");
    for _ in 0..depth {
        f = format!("tanh({f} * x1 + x0)");
    }
    format!("f(x0, x1) = {f}\n")
}

fn evaluated(src: &str) -> Analysis {
    let mut a = Analysis::new(src).unwrap();
    a.evaluate_with(&[("x0", 0.5.into()), ("x1", 0.3.into())], 1.0)
        .unwrap();
    a
}

fn stages(c: &mut Criterion) {
    let mut g = c.benchmark_group("stages");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for n in [10_000, 100_000] {
        let src = chain(n);
        let id = |what| BenchmarkId::new(what, format!("chain-{n}"));
        g.bench_function(id("parse"), |b| b.iter(|| parse(black_box(&src)).unwrap()));
        let program = parse(&src).unwrap();
        g.bench_function(id("lower"), |b| {
            b.iter(|| lower(black_box(&program)).unwrap())
        });
        g.bench_function(id("parse+lower, streamed"), |b| {
            b.iter(|| lowering::parse_and_lower(black_box(&src)).unwrap())
        });
        let c = lower(&program).unwrap();
        let params = [Value::Scalar(0.5), Value::Scalar(0.3)];
        g.bench_function(id("forward"), |b| {
            b.iter(|| eval::forward(black_box(&c), &params).unwrap())
        });
        let fwd = eval::forward(&c, &params).unwrap();
        let one = Value::Scalar(1.0);
        // Results only, as --summary and the report run it.
        g.bench_function(id("backward"), |b| {
            b.iter(|| eval::backward_with(black_box(&c), &fwd, &one, false).unwrap())
        });
        // With every edge's contribution kept, as the explanation runs it.
        g.bench_function(id("backward, edges kept"), |b| {
            b.iter(|| eval::backward(black_box(&c), &fwd, &one).unwrap())
        });
    }
    g.finish();
}

fn symbolic(c: &mut Criterion) {
    let mut g = c.benchmark_group("symbolic");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    // The SymPy comparison: both derivatives of the 100-deep nested chain.
    let deep = Analysis::new(&nested(100)).unwrap();
    g.bench_function("derivatives/nested-100", |b| {
        b.iter(|| Symbolic::for_report(black_box(&deep)))
    });
    g.bench_function("derivatives and programs/nested-100", |b| {
        b.iter(|| Symbolic::new(black_box(&deep)))
    });
    let a = evaluated(&chain(10_000));
    g.bench_function("derivatives/chain-10000", |b| {
        b.iter(|| Symbolic::for_report(black_box(&a)))
    });
    // Simplification: the circuit's forward expressions built in the
    // simplifying arena, against the same built as they are.
    let c = &a.circuit;
    let build = |mut arena: Arena| {
        let mut ids = Vec::with_capacity(c.len());
        for g in c.gates() {
            let id = match c.op(g) {
                gradexplain::gate::Op::Input(i) => {
                    arena.var(&c.params[i as usize].name, gradexplain::Shape::Scalar)
                }
                gradexplain::gate::Op::Const(x) => arena.number(x),
                op => {
                    let args: Vec<_> = c.input_slice(g).iter().map(|i| ids[i.index()]).collect();
                    arena.build(op, &args)
                }
            };
            ids.push(id);
        }
        arena
    };
    g.bench_function("simplify/chain-10000", |b| b.iter(|| build(Arena::new())));
    g.bench_function("no simplification/chain-10000", |b| {
        b.iter(|| build(Arena::unsimplified()))
    });
    g.finish();
}

fn print(c: &mut Criterion) {
    let mut g = c.benchmark_group("print");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let a = evaluated(&chain(10_000));
    let s = Symbolic::for_report(&a);
    g.bench_function("derivative programs/chain-10000", |b| {
        b.iter(|| {
            let mut out = String::new();
            for k in 0..a.circuit.params.len() {
                s.write_program(k, &mut out).unwrap();
            }
            out
        })
    });
    let extras = json::Extras {
        derivatives: Some(Box::new(Symbolic::for_report(&a))),
        ..json::Extras::default()
    };
    g.bench_function("JSON report/chain-10000", |b| {
        b.iter_batched_ref(
            Vec::new,
            |out: &mut Vec<u8>| json::write_report(out, &a, &extras).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("text explanation/chain-10000", |b| {
        b.iter(|| black_box(&a).explain())
    });
    let small = evaluated(&chain(1_000));
    g.bench_function("DOT/chain-1000", |b| {
        b.iter(|| gradexplain::draw::dot_text(black_box(&small), &Default::default()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, stages, symbolic, print);
criterion_main!(benches);
