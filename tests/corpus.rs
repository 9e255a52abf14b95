//! Walks grammar/corpus: every good program parses and lowers (and prints in the
//! bracketed form its `# bracketed:` line gives); every bad one fails with the
//! exact line, column and message its `# expect:` line gives.

use gradexplain::Analysis;
use std::fs;
use std::path::Path;

fn programs(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("grammar/corpus")
        .join(dir);
    let mut v: Vec<(String, String)> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "gx"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 10, "the {dir} corpus is unexpectedly small");
    v
}

fn directive<'a>(src: &'a str, key: &str) -> Option<&'a str> {
    src.lines()
        .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
}

#[test]
fn good_programs_parse_with_the_expected_precedence() {
    let mut failures = Vec::new();
    for (name, src) in programs("good") {
        match Analysis::new(&src) {
            Ok(a) => {
                if let Some(want) = directive(&src, "bracketed") {
                    let last = a.program.stmts.last().unwrap();
                    let got = a.program.ast.bracketed(last.body);
                    if got != want {
                        failures.push(format!("{name}: printed {got}, expected {want}"));
                    }
                }
            }
            Err(e) => failures.push(format!("{name}: {}", e.render(false))),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_programs_fail_at_the_stated_place_with_the_stated_message() {
    let mut failures = Vec::new();
    for (name, src) in programs("bad") {
        let want =
            directive(&src, "expect").unwrap_or_else(|| panic!("{name} has no `# expect:` line"));
        let (place, message) = want.split_once(": ").unwrap();
        let (line, col) = place.split_once(':').unwrap();
        let want_lc = (
            line.parse::<usize>().unwrap(),
            col.parse::<usize>().unwrap(),
        );
        match Analysis::new(&src) {
            Ok(_) => failures.push(format!("{name}: parsed, but should fail with {want}")),
            Err(e) => {
                if e.message != message || e.line_col() != Some(want_lc) {
                    failures.push(format!(
                        "{name}: got {:?}: {}, expected {want}",
                        e.line_col(),
                        e.message
                    ));
                }
                assert_eq!(e.kind.exit_code(), 2, "{name}: syntax errors exit 2");
                let text = e.render(false);
                assert!(text.starts_with("error: "), "{name}: {text}");
                assert!(
                    text.contains('^'),
                    "{name}: a caret under the place: {text}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
