//! The whole pipeline on arbitrary bytes, as the command line runs it:
//! `PROGRAM [\0 AT [\0 GRAD [\0 FLAGS]]]`. Without an AT part every parameter
//! gets a small number, so that most inputs are evaluated and explained. FLAGS
//! may hold `s` (`--summary`), `c` (`--check`) and `d` (also draw the pictures).
//!
//! Every view is made: text, JSON (with the symbolic derivatives), LaTeX, DOT,
//! and the SVG and HTML pictures in memory. Checked: no panic, no hang; an
//! error renders with `error:` and maps to exit 1 or 2; the JSON is valid, its
//! values are never `null` (a non-finite number is "inf", "-inf" or "nan") and
//! each derivative program reads back; the LaTeX balances its braces and
//! environments; the DOT parses (graphviz-rust); the SVG is well-formed XML.
#![no_main]

use gradexplain::{Analysis, app, cli};
use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;

const DEFAULTS: [&str; 7] = ["0.5", "-1.5", "2", "0", "3", "-0.25", "1e300"];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let program = parts.next().unwrap_or_default();
    let at = parts.next().map(str::to_string);
    let grad = parts.next();
    let flags = parts.next().unwrap_or_default();
    // `@FILE` reads the machine's files; their content has its own target.
    if at.as_deref().is_some_and(|a| a.contains('@')) || grad.is_some_and(|g| g.contains('@')) {
        return;
    }
    let at = at.or_else(|| {
        let a = Analysis::new(program).ok()?;
        let seed = data
            .iter()
            .fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(b.into()));
        let pairs: Vec<String> = a
            .circuit
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{}={}", p.name, DEFAULTS[(seed + i) % DEFAULTS.len()]))
            .collect();
        Some(pairs.join(","))
    });
    let mut args: Vec<String> = vec!["gradexplain".into()];
    if let Some(at) = at.filter(|a| !a.is_empty()) {
        args.extend(["--at".into(), at]);
    }
    if let Some(g) = grad {
        args.extend(["--grad".into(), g.to_string()]);
    }
    if flags.contains('s') {
        args.push("--summary".into());
    }
    if flags.contains('c') {
        args.push("--check".into());
    }
    // Laying out pictures is slow under the fuzzer's instrumentation: only when
    // asked (the seeds include some that ask).
    if flags.contains('d') {
        draw(program, &args);
    }
    for format in ["text", "json", "latex", "dot"] {
        let mut args = args.clone();
        args.extend(["--format".into(), format.into()]);
        let Ok(cli) = cli::parse_from(&args) else {
            return; // clap refused the arguments (an --at that looks like an option)
        };
        match app::render(program, &cli) {
            Ok(out) => {
                if format == "json" {
                    let report: Json = serde_json::from_str(&out)
                        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {out}"));
                    check_report(&report);
                }
                if format == "latex" {
                    check_latex(&out);
                }
                if format == "dot" {
                    if let Err(e) = graphviz_rust::parse(&out) {
                        panic!("the DOT does not parse ({e}): {out}");
                    }
                }
            }
            Err(e) => {
                let code = e.kind.exit_code();
                assert!(code == 1 || code == 2);
                let rendered = e.render(false);
                assert!(rendered.starts_with("error: "), "{rendered}");
                let _ = e.render(true);
            }
        }
    }
});

/// The pictures, rendered in memory by the embedded renderer (nothing is
/// written): the SVG is well-formed XML; the HTML page and the steps are made.
fn draw(program: &str, args: &[String]) {
    let Ok(cli) = cli::parse_from(args) else {
        return;
    };
    let Ok(mut a) = Analysis::new(program) else {
        return;
    };
    // Laying out a large picture takes seconds; the size limits have their own tests.
    if a.circuit.len() > 120 {
        return;
    }
    let mut at = Vec::new();
    for arg in &cli.at {
        match gradexplain::input::parse_assignments(arg) {
            Ok(v) => at.extend(v),
            Err(_) => return,
        }
    }
    if !at.is_empty() && a.evaluate(&at, &gradexplain::Value::Scalar(1.0)).is_err() {
        return;
    }
    // The page lays out one picture per step: kept to small circuits.
    let req = gradexplain::draw::Request {
        svg: Some("fuzz.svg".into()),
        html: (a.circuit.len() <= 40).then(|| "fuzz.html".into()),
        ..gradexplain::draw::Request::default()
    };
    let Ok(files) =
        gradexplain::draw::render_files(&a, &req, gradexplain::draw::Renderer::Embedded)
    else {
        return;
    };
    for (path, bytes) in files {
        let text = String::from_utf8(bytes).expect("pictures are UTF-8");
        if path.extension().is_some_and(|e| e == "svg") {
            if let Err(e) = roxmltree::Document::parse(&text) {
                panic!("the SVG is not well-formed ({e}): {text}");
            }
        }
    }
}

/// Values are numbers, arrays or the strings of non-finite numbers; never `null`.
fn check_report(r: &Json) {
    let numeric = |v: &Json, what: &str| {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Json::Number(_) => {}
                Json::String(s) => {
                    assert!(matches!(s.as_str(), "inf" | "-inf" | "nan"), "{what}: {s}")
                }
                Json::Array(items) => stack.extend(items),
                other => panic!("{what} is {other}"),
            }
        }
    };
    for key in ["value", "upstream"] {
        if let Some(v) = r.get(key) {
            numeric(v, key);
        }
    }
    if let Some(Json::Array(gates)) = r.get("gates") {
        for g in gates {
            for key in ["value", "const"] {
                if let Some(v) = g.get(key) {
                    numeric(v, key);
                }
            }
            if let Some(v) = g.get("grad").filter(|v| !v.is_null()) {
                numeric(v, "grad");
            }
        }
    }
    // A derivative is a program in the tool's own language: it reads back.
    if let Some(Json::Object(sym)) = r.get("symbolic") {
        for program in sym.values().filter_map(Json::as_str) {
            if let Err(e) = Analysis::new(program) {
                panic!("the derivative {program:?} does not read back: {e}");
            }
        }
    }
    if let Some(Json::Object(grads)) = r.get("gradients") {
        for v in grads.values().filter(|v| !v.is_null()) {
            numeric(v, "gradient");
        }
    }
}

/// The LaTeX fragment's syntax holds whatever the names and values: braces
/// balance outside comments, every `\begin{…}` has its `\end{…}`, every
/// `\left` its `\right`.
fn check_latex(tex: &str) {
    let mut envs: Vec<&str> = Vec::new();
    for line in tex.lines() {
        // A `%` that is not escaped starts a comment.
        let bytes = line.as_bytes();
        let code_end = (0..bytes.len())
            .find(|&i| bytes[i] == b'%' && (i == 0 || bytes[i - 1] != b'\\'))
            .unwrap_or(bytes.len());
        let code = &line[..code_end];
        let mut depth = 0i64;
        let mut escaped = false;
        for c in code.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    assert!(depth >= 0, "unbalanced `}}` in {line:?}");
                }
                _ => {}
            }
        }
        assert_eq!(depth, 0, "unbalanced braces in {line:?}");
        assert_eq!(
            code.matches("\\left").count(),
            code.matches("\\right").count(),
            "\\left without \\right in {line:?}"
        );
        for (i, _) in code.match_indices("\\begin{") {
            let name = &code[i + 7..];
            envs.push(&name[..name.find('}').unwrap_or(name.len())]);
        }
        for (i, _) in code.match_indices("\\end{") {
            let name = &code[i + 5..];
            let name = &name[..name.find('}').unwrap_or(name.len())];
            assert_eq!(
                envs.pop(),
                Some(name),
                "\\end{{{name}}} without its begin: {tex}"
            );
        }
    }
    assert!(envs.is_empty(), "unclosed environments {envs:?}: {tex}");
}
