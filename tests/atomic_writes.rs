//! Nothing is lost: every file the tool writes (`--dot`, `--svg`, `--html`,
//! `--steps`) is written whole or not at all. For each way a run can fail — a
//! syntax error, an evaluation error, a malformed `--at`, another output that
//! cannot be written — every existing output file keeps its bytes, nothing is
//! left behind in its directory, standard output stays empty, and the exit code
//! is the contract's. The program file itself is never overwritten.
//!
//! The embedded renderer is used (`GRADEXPLAIN_NO_GRAPHVIZ`), so that these
//! tests need no Graphviz.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_gradexplain");

fn gx() -> Command {
    let mut c = Command::new(BIN);
    c.env("NO_COLOR", "1").env("GRADEXPLAIN_NO_GRAPHVIZ", "1");
    c
}

/// A fresh directory with an old file at each output path and old step frames.
struct Outputs {
    dir: PathBuf,
}

impl Outputs {
    fn new(name: &str) -> Outputs {
        let dir = std::env::temp_dir().join(format!("gx-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("steps")).unwrap();
        for f in ["d.dot", "p.svg", "page.html", "steps/step-00.svg"] {
            std::fs::write(dir.join(f), format!("old {f}")).unwrap();
        }
        Outputs { dir }
    }

    fn path(&self, f: &str) -> String {
        self.dir.join(f).display().to_string()
    }

    /// Every output option, pointing at the old files.
    fn args(&self) -> Vec<String> {
        vec![
            "--dot".into(),
            self.path("d.dot"),
            "--svg".into(),
            self.path("p.svg"),
            "--html".into(),
            self.path("page.html"),
            "--steps".into(),
            self.path("steps"),
        ]
    }

    /// The old files are intact and nothing else is there.
    fn untouched(&self, ctx: &str) {
        for f in ["d.dot", "p.svg", "page.html", "steps/step-00.svg"] {
            let now = std::fs::read_to_string(self.dir.join(f)).unwrap();
            assert_eq!(now, format!("old {f}"), "{ctx}: {f} changed");
        }
        assert_eq!(
            listing(&self.dir),
            ["d.dot", "p.svg", "page.html", "steps"],
            "{ctx}"
        );
        assert_eq!(listing(&self.dir.join("steps")), ["step-00.svg"], "{ctx}");
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs and asserts a failure with `code`, empty stdout, no panic.
fn fails(args: &[String], code: i32) -> String {
    let out = gx().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout not empty");
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
    err
}

#[test]
fn a_failed_run_keeps_every_existing_output() {
    for (name, program, at, code) in [
        ("syntax", "f(x) = x + * 2", "x=1", 2),
        ("domain", "f(x) = log(x)", "x=-1", 1),
        ("shape", "f(v, w) = v + w", "v=[1, 2],w=[1, 2, 3]", 1),
        ("missing", "f(x, y) = x * y", "x=1", 1),
        ("malformed-at", "f(x) = x * 2", "x=[1,", 2),
    ] {
        let o = Outputs::new(name);
        let mut args: Vec<String> = vec![program.into(), "--at".into(), at.into()];
        args.extend(o.args());
        fails(&args, code);
        o.untouched(name);
    }
}

#[test]
fn one_output_that_cannot_be_written_stops_them_all() {
    let o = Outputs::new("sibling");
    let mut args: Vec<String> = vec!["f(x) = x * 2".into(), "--at".into(), "x=1".into()];
    args.extend(o.args());
    // A PNG needs Graphviz, which this run does not have: an error after the
    // other pictures were made in memory, before any was written.
    args.extend(["--png".into(), o.path("p.png")]);
    let err = fails(&args, 1);
    assert!(err.starts_with("error: cannot make a PNG"), "{err}");
    o.untouched("png without graphviz");
    if Path::new("/proc/version").is_file() {
        // A path whose parent is a file: the directory cannot hold it.
        let mut args: Vec<String> = vec!["f(x) = x * 2".into(), "--at".into(), "x=1".into()];
        args.extend(o.args());
        args[4] = "/proc/version/p.svg".into(); // in place of the --dot path
        let err = fails(&args, 1);
        assert_eq!(
            err.lines().next().unwrap(),
            "error: cannot write `/proc/version/p.svg`: Not a directory"
        );
        o.untouched("unwritable sibling");
    }
}

#[test]
fn unwritable_places_are_exit_1_errors() {
    for (path, message) in [
        (
            "/nonexistent-gx-dir/p.svg",
            "error: cannot write `/nonexistent-gx-dir/p.svg`: No such file or directory",
        ),
        ("/", "error: cannot write `/`: it is a directory"),
    ] {
        let args: Vec<String> = ["f(x) = x", "--at", "x=1", "--svg", path]
            .map(String::from)
            .to_vec();
        let err = fails(&args, 1);
        assert_eq!(err.lines().next().unwrap(), message);
    }
}

#[test]
fn success_replaces_each_file_whole_and_leaves_no_temporary_file() {
    let o = Outputs::new("success");
    let mut args: Vec<String> = vec![
        "q = x * y; f = q + x".into(),
        "--at".into(),
        "x=3,y=-4".into(),
    ];
    args.extend(o.args());
    let out = gx().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dot = std::fs::read_to_string(o.dir.join("d.dot")).unwrap();
    assert!(
        dot.starts_with("digraph") && dot.trim_end().ends_with('}'),
        "{dot}"
    );
    let svg = std::fs::read_to_string(o.dir.join("p.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("a whole SVG document");
    let html = std::fs::read_to_string(o.dir.join("page.html")).unwrap();
    assert!(html.trim_end().ends_with("</html>"), "a whole page");
    // No `.p.svg.XXXX.tmp` beside the targets.
    assert_eq!(listing(&o.dir), ["d.dot", "p.svg", "page.html", "steps"]);
    assert!(
        listing(&o.dir.join("steps"))
            .iter()
            .all(|f| f.starts_with("step-") && f.ends_with(".svg")),
        "{:?}",
        listing(&o.dir.join("steps"))
    );
}

#[test]
fn the_program_file_is_never_an_output() {
    let o = Outputs::new("program");
    let program = o.dir.join("net.gx");
    std::fs::write(&program, "f(x) = x * 2\n").unwrap();
    for option in ["--svg", "--dot", "--html"] {
        // The same file under another spelling of its path.
        let alias = o.dir.join("steps/../net.gx");
        let args: Vec<String> = vec![
            "-f".into(),
            program.display().to_string(),
            "--at".into(),
            "x=1".into(),
            option.into(),
            alias.display().to_string(),
        ];
        let err = fails(&args, 1);
        assert_eq!(
            err.lines().next().unwrap(),
            format!(
                "error: cannot write `{}`: it is the program file (-f)",
                alias.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&program).unwrap(), "f(x) = x * 2\n");
    }
}

/// A step frame is an output like any other: a program file that `--steps`
/// would write a frame over is refused (found by a hostile probe).
#[test]
fn a_step_frame_is_never_the_program_file() {
    let o = Outputs::new("frame");
    let program = o.dir.join("steps/step-00.svg");
    std::fs::write(&program, "f(x) = x * 2\n").unwrap();
    let args: Vec<String> = vec![
        "-f".into(),
        program.display().to_string(),
        "--at".into(),
        "x=1".into(),
        "--steps".into(),
        o.path("steps"),
    ];
    let err = fails(&args, 1);
    assert!(err.contains("it is the program file (-f)"), "{err}");
    assert_eq!(std::fs::read_to_string(&program).unwrap(), "f(x) = x * 2\n");
}

/// Two outputs that name one file would keep only the last written: a usage
/// error (exit 2), with every old file as it was (found by a hostile probe).
#[test]
fn two_outputs_never_name_one_file() {
    let o = Outputs::new("twice");
    for pair in [
        ["--dot", "p.svg", "--svg", "p.svg"],
        ["--svg", "p.svg", "--html", "./p.svg"],
        ["--svg", "p.svg", "--dot", "steps/../p.svg"],
        ["--svg", "steps/step-00.svg", "--steps", "steps"],
    ] {
        let mut args: Vec<String> = vec!["f(x) = x * 2".into(), "--at".into(), "x=1".into()];
        for k in [0, 2] {
            args.extend([pair[k].to_string(), o.path(pair[k + 1])]);
        }
        let err = fails(&args, 2);
        assert!(err.contains("named by two outputs"), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(o.dir.join("p.svg")).unwrap(),
            "old p.svg"
        );
        assert_eq!(
            std::fs::read_to_string(o.dir.join("steps/step-00.svg")).unwrap(),
            "old steps/step-00.svg"
        );
    }
}

/// A failed run leaves no trace, not even the `--steps` directory it made
/// for the frames (found by a hostile probe).
#[test]
fn a_failed_run_leaves_no_steps_directory() {
    let o = Outputs::new("nodir");
    let args: Vec<String> = vec![
        "f(x) = x * 2".into(),
        "--at".into(),
        "x=1".into(),
        "--steps".into(),
        o.path("new/frames"),
        "--dot".into(),
        o.path("missing/a.dot"),
    ];
    fails(&args, 1);
    assert!(!o.dir.join("new/frames").exists());
}
