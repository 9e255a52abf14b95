//! The parser on arbitrary bytes: it never panics, and what it accepts it also
//! lowers; an error renders with its place; a parsed expression printed back
//! in the language parses to the same tree (the printer and the parser agree).
#![no_main]

use gradexplain::{Analysis, syntax};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Invalid UTF-8 is refused before parsing; the lossy text still exercises the parser.
    let src = String::from_utf8_lossy(data);
    match syntax::parse(&src) {
        Ok(program) => {
            for stmt in &program.stmts {
                let printed = program.ast.to_source(stmt.body);
                let again = syntax::parse(&printed)
                    .unwrap_or_else(|e| panic!("printed {printed:?} does not parse: {e}"));
                let last = again.stmts.last().expect("a program has a statement");
                assert_eq!(
                    again.ast.bracketed(last.body),
                    program.ast.bracketed(stmt.body),
                    "{printed:?} printed back from {src:?}"
                );
            }
            let _ = gradexplain::lower(&program);
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            assert_eq!(e.kind.exit_code(), 2, "{}", e.message);
        }
    }
    match Analysis::new(&src) {
        Ok(a) => {
            let _ = a.explain();
        }
        Err(e) => {
            let text = e.render(false);
            assert!(text.starts_with("error: "), "{text}");
            let _ = e.render(true);
            let _ = e.line_col();
        }
    }
});
