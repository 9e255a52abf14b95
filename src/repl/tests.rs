//! The session, driven line by line as a student would type.

use super::*;

fn session() -> Session {
    Session::new(["gradexplain", "--color", "never"]).unwrap()
}

/// Feeds lines; returns the reply to the last one.
fn feed(s: &mut Session, lines: &[&str]) -> Reply {
    let mut last = Reply::default();
    for l in lines {
        last = s.handle(l);
    }
    last
}

#[test]
fn program_then_values_then_gradient() {
    let mut s = session();
    let r = s.handle("f(x,y) = x*y");
    assert!(
        r.out.contains("symbolic") || r.out.contains("program"),
        "{r:?}"
    );
    let r = s.handle(":at x=3,y=-4");
    assert!(r.out.contains("f = -12"), "{}", r.out);
    assert!(r.out.contains("dx = -4"), "{}", r.out);
    let r = s.handle(":grad 2");
    assert!(
        r.out.contains("dx = -8") && r.out.contains("dy = 6"),
        "{}",
        r.out
    );
    assert_eq!(r.err, "");
}

#[test]
fn at_merges_by_name() {
    let mut s = session();
    let r = feed(&mut s, &["f(x,y) = x*y", ":at x=3,y=-4", ":at x=5"]);
    assert!(r.out.contains("f = -20"), "{}", r.out);
    assert_eq!(s.handle(":at").out, "x=5,y=-4\n");
}

#[test]
fn json_format_is_the_report() {
    let mut s = session();
    let r = feed(
        &mut s,
        &["f(x,y) = x*y", ":at x=3,y=-4", ":grad 2", ":format json"],
    );
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["value"], -12);
    assert_eq!(v["gradients"]["x"], -8);
    assert_eq!(v["gradients"]["y"], 6);
    assert_eq!(s.handle(":format").out, "format: json\n");
}

#[test]
fn errors_are_reported_and_the_session_goes_on() {
    let mut s = session();
    // A syntax error keeps no program.
    let r = s.handle("f(x,y) = x * * y");
    assert!(r.err.starts_with("error:"), "{r:?}");
    assert!(r.err.contains('^'), "the caret: {}", r.err);
    assert_eq!(r.out, "");
    // A missing value is an evaluation error: kept, and fixed by the next line.
    let r = feed(&mut s, &["f(x,y) = x*y", ":at x=3"]);
    assert!(r.err.contains("missing value for `y`"), "{r:?}");
    let r = s.handle(":at y=-4");
    assert!(r.out.contains("f = -12"), "{r:?}");
    // A malformed value is refused, and the old values stay.
    let r = s.handle(":at y=abc");
    assert!(r.err.contains("malformed --at value"), "{r:?}");
    assert_eq!(s.handle(":at").out, "x=3,y=-4\n");
    // So is a malformed option value, reported by clap's parser.
    let r = s.handle(":format xml");
    assert!(
        r.err.starts_with("error:") && r.err.contains("xml"),
        "{r:?}"
    );
    assert_eq!(s.handle(":format").out, "format: text\n");
    let r = s.handle(":grad [1,");
    assert!(r.err.contains("--grad"), "{r:?}");
    assert!(s.handle(":show").out.contains("--at x=3,y=-4"));
    assert!(!s.handle(":show").out.contains("--grad"));
    let r = s.handle(":frobnicate");
    assert!(r.err.contains("unknown command `:frobnicate`"), "{r:?}");
    // After all that, the explanation still comes.
    assert!(s.handle(":grad 2").out.contains("dx = -8"));
}

#[test]
fn a_new_program_drops_values_it_does_not_use() {
    let mut s = session();
    let r = feed(&mut s, &["f(x,y) = x*y", ":at x=3,y=-4", "g(x) = x*x"]);
    assert!(r.out.contains("g = 9"), "{r:?}");
    assert!(r.err.contains("dropped the values of y"), "{r:?}");
}

#[test]
fn continued_lines_make_one_program() {
    let mut s = session();
    assert_eq!(s.handle("q = x + y \\"), Reply::default());
    assert!(s.continuing());
    let r = feed(&mut s, &["f = q * z", ":at x=-2,y=5,z=-4"]);
    assert!(!s.continuing());
    assert!(r.out.contains("f = -12"), "{}", r.out);
    assert!(r.out.contains("dz = 3"), "{}", r.out);
}

#[test]
fn flags_switch_on_and_off() {
    let mut s = session();
    feed(&mut s, &["f(x,y) = x*y", ":at x=3,y=-4"]);
    let r = s.handle(":summary");
    assert!(!r.out.contains("forward pass"), "{}", r.out);
    assert!(s.handle(":show").out.contains("--summary"));
    let r = s.handle(":summary off");
    assert!(r.out.contains("forward pass"), "{}", r.out);
    assert!(s.handle(":summary maybe").err.contains("is a switch"));
}

#[test]
fn starts_from_the_command_line_options() {
    let mut s = Session::new([
        "gradexplain",
        "--color=never",
        "--at",
        "x=3",
        "--at",
        "y=-4",
        "--grad",
        "2",
    ])
    .unwrap();
    let r = s.handle("x*y");
    assert!(r.out.contains("dx = -8"), "{}", r.out);
    assert_eq!(
        s.handle(":show").out,
        "gradexplain 'x*y' --at x=3,y=-4 --grad 2 --color never\n"
    );
}

#[test]
fn load_help_reset_quit() {
    let dir = std::env::temp_dir().join(format!("gx-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mul.gx");
    std::fs::write(&file, "# the multiply gate\nf(x, y) = x * y\n").unwrap();
    let mut s = session();
    s.handle(":at x=3,y=-4");
    let r = s.handle(&format!(":load {}", file.display()));
    assert!(r.out.contains("f = -12"), "{r:?}");
    let r = s.handle(":load /nonexistent/nope.gx");
    assert!(r.err.starts_with("error: cannot read"), "{r:?}");
    let help = s.handle(":help").out;
    for cmd in [":at", ":grad", ":svg", ":format", ":quit"] {
        assert!(help.contains(cmd), "{cmd} in {help}");
    }
    s.handle(":reset");
    assert!(s.handle(":grad 2").out.starts_with("no program yet"));
    assert!(s.handle(":quit").quit);
    assert!(s.handle(":q").quit);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_options_say_when_nothing_was_written() {
    // Whatever this build does with --dot: either the file is written, or the
    // session says that it was not; never a silent no-op.
    let dir = std::env::temp_dir().join(format!("gx-repl-dot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.dot");
    let mut s = session();
    let r = feed(
        &mut s,
        &[
            "f(x,y) = x*y",
            ":at x=3,y=-4",
            &format!(":dot {}", path.display()),
        ],
    );
    assert!(
        path.exists() || r.err.contains("--dot is not available"),
        "{r:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_readme_session() {
    // README.md shows this session; keep them in step.
    let mut s = Session::new(["gradexplain"]).unwrap();
    feed(
        &mut s,
        &["f(x,y) = x*y", ":at x=3,y=-4", ":grad 2", ":format json"],
    );
    assert_eq!(
        s.handle(":show").out,
        "gradexplain 'f(x,y) = x*y' --at x=3,y=-4 --grad 2 --format json\n"
    );
}

#[test]
fn tab_completes_commands_values_and_options() {
    use rustyline::completion::Completer;
    let history = rustyline::history::DefaultHistory::new();
    let ctx = rustyline::Context::new(&history);
    let helper = completion::Helper::default();
    let complete = |line: &str| {
        let (start, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
        let words: Vec<String> = pairs.into_iter().map(|p| p.replacement).collect();
        (start, words)
    };
    assert_eq!(complete(":sho"), (1, vec!["show".to_string()]));
    assert_eq!(complete(":format j"), (8, vec!["json".to_string()]));
    assert_eq!(complete(":unset gr"), (7, vec!["grad".to_string()]));
    let (_, all) = complete(":");
    for cmd in ["at", "grad", "svg", "check", "help", "quit"] {
        assert!(all.iter().any(|c| c == cmd), "{cmd} in {all:?}");
    }
    assert!(!all.iter().any(|c| c == "generate"), "{all:?}");
    assert_eq!(complete("f(x) = x"), (8, vec![]));
}

#[test]
fn odd_lines_never_panic_and_never_quit() {
    let mut s = session();
    let junk = [
        ":",
        ": ",
        "::",
        ":at",
        ":at ,",
        ":at =",
        ":at x",
        ":grad",
        ":unset",
        ":unset nothing",
        ":load",
        ":format",
        ":color",
        ":color sometimes",
        ":summary on",
        ":check off",
        "\\",
        "",
        "   ",
        "# a comment",
        "((((",
        "f(x) = ",
        "σ(",
        "\u{0}\u{1}",
        ":show",
        ":at x=1",
        "x",
        ":generate man",
        ":help me",
        ":file",
        ":version",
    ];
    for line in junk {
        let r = s.handle(line);
        assert!(!r.quit, "{line:?}");
        assert!(
            r.err.is_empty() || r.err.starts_with("error") || r.err.starts_with("note"),
            "{line:?}: {r:?}"
        );
    }
    s.cancel();
    assert!(s.handle("f(x) = x*x").err.is_empty());
    assert!(s.handle(":at x=3").out.contains("f = 9"));
}

/// The file a program was loaded from is no output's, as `-f`'s is not on
/// the command line; a setting that cannot be written is undone, so that the
/// commands after it work (both found by a hostile probe).
#[test]
fn a_loaded_program_file_is_never_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("prog.gx");
    std::fs::write(&program, "f(x, y) = x * y\n").unwrap();
    let mut s = session();
    let path = program.display().to_string();
    feed(&mut s, &[&format!(":load {path}"), ":at x=3,y=-4"]);
    let r = s.handle(&format!(":svg {path}"));
    assert!(r.err.contains("it is the program file"), "{r:?}");
    assert!(r.err.contains("the last change was undone"), "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&program).unwrap(),
        "f(x, y) = x * y\n"
    );
    assert!(!s.handle(":show").out.contains("--svg"));
    let r = s.handle(":at x=5");
    assert!(r.out.contains("f = -20") && r.err.is_empty(), "{r:?}");
    // A program typed afterwards is no file's: the path is free again.
    s.handle("f(x, y) = x + y");
    let r = s.handle(&format!(":svg {path}"));
    assert!(r.err.is_empty(), "{r:?}");
    assert!(std::fs::read_to_string(&program).unwrap().contains("<svg"));
}

/// A file's time comes from the kernel's coarse clock, a tick behind the
/// precise one: a file written just after a command began still counts as
/// written by it (a lone `:dot` was reported as never written).
#[test]
fn a_file_stamped_a_tick_early_counts_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.dot");
    std::fs::write(&p, "x").unwrap();
    let now = SystemTime::now();
    assert!(written_since(
        &p,
        false,
        now + std::time::Duration::from_millis(20)
    ));
    assert!(!written_since(
        &p,
        false,
        now + std::time::Duration::from_secs(5)
    ));
}
