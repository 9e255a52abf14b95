//! On a real terminal — a pty that nix opens, so no `script` or `expect` is
//! needed: color when the stream is a terminal and none under `NO_COLOR`; the
//! interactive mode with rustyline, typed into as a person would.

use super::ESC;
use nix::pty::openpty;
use std::fs::File;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Which of the child's streams are the terminal; the others are pipes.
#[derive(Clone, Copy)]
struct On {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

/// A child on a pty, and what it has written to the terminal so far.
struct Session {
    child: Child,
    master: File,
    chunks: Receiver<Vec<u8>>,
    seen: String,
}

impl Session {
    fn spawn(args: &[&str], env: &[(&str, &str)], on: On) -> Session {
        let pty = openpty(None, None).expect("openpty");
        let child = {
            let tty = |yes: bool| {
                if yes {
                    Stdio::from(pty.slave.try_clone().unwrap())
                } else {
                    Stdio::piped()
                }
            };
            let mut c = Command::new(env!("CARGO_BIN_EXE_gradexplain"));
            c.args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env_remove("NO_COLOR")
                .env_remove("CLICOLOR_FORCE")
                .env_remove("CLICOLOR")
                .env("TERM", "xterm")
                .stdin(tty(on.stdin))
                .stdout(tty(on.stdout))
                .stderr(tty(on.stderr));
            for (k, v) in env {
                c.env(k, v);
            }
            c.spawn().unwrap()
            // `c` and its copies of the slave close here, so that reading the
            // master ends when the child is gone.
        };
        drop(pty.slave);
        let master = File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let (tx, chunks) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Linux answers EIO once no process holds the slave: the end.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            master,
            chunks,
            seen: String::new(),
        }
    }

    /// Waits until the terminal shows `what` after position `from`; panics
    /// with what it did show after 30 s.
    fn expect(&mut self, from: usize, what: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(i) = self.seen[from..].find(what) {
                return from + i + what.len();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(c) => self.seen.push_str(&String::from_utf8_lossy(&c)),
                Err(_) => panic!("waited for {what:?}; the terminal shows:\n{}", self.seen),
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        self.master.write_all(line.as_bytes()).unwrap();
        self.master.write_all(b"\r").unwrap();
    }

    /// Everything until the child exits, and its exit code.
    fn finish(mut self) -> (String, Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "no exit: {}", self.seen);
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(c) = self.chunks.recv_timeout(Duration::from_millis(300)) {
            self.seen.push_str(&String::from_utf8_lossy(&c));
        }
        let mut piped = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut piped).unwrap();
        }
        if let Some(mut o) = self.child.stdout.take() {
            o.read_to_string(&mut piped).unwrap();
        }
        (self.seen, status.code(), piped)
    }
}

const STDOUT: On = On {
    stdin: false,
    stdout: true,
    stderr: false,
};
const STDERR: On = On {
    stdin: false,
    stdout: false,
    stderr: true,
};

fn run(args: &[&str], env: &[(&str, &str)], on: On) -> (String, Option<i32>, String) {
    Session::spawn(args, env, on).finish()
}

#[test]
fn color_on_a_terminal_unless_no_color() {
    let mul = ["f(x,y)=x*y", "--at", "x=3,y=-4"];
    let (tty, code, _) = run(&mul, &[], STDOUT);
    assert_eq!(code, Some(0));
    assert!(tty.contains("dx = "), "{tty}");
    assert!(tty.contains(ESC), "a terminal gets color: {tty:?}");

    let (tty, _, _) = run(&mul, &[("NO_COLOR", "1")], STDOUT);
    assert!(tty.contains("dx = "), "{tty}");
    assert!(!tty.contains(ESC), "NO_COLOR: {tty:?}");

    let (tty, _, _) = run(&[&mul[..], &["--color", "never"]].concat(), &[], STDOUT);
    assert!(!tty.contains(ESC), "--color never: {tty:?}");

    // An empty NO_COLOR does not count (no-color.org).
    let (tty, _, _) = run(&mul, &[("NO_COLOR", "")], STDOUT);
    assert!(tty.contains(ESC), "empty NO_COLOR: {tty:?}");
}

#[test]
fn each_stream_is_judged_on_its_own() {
    // The error goes to a terminal: color there, nothing on the piped stdout.
    let (tty, code, piped) = run(&["x + * y"], &[], STDERR);
    assert_eq!(code, Some(2));
    assert!(tty.contains("error") && tty.contains(ESC), "{tty:?}");
    assert_eq!(piped, "");
    let (tty, _, _) = run(&["x + * y"], &[("NO_COLOR", "1")], STDERR);
    assert!(tty.contains("error:") && !tty.contains(ESC), "{tty:?}");
    // The explanation goes to a pipe while stderr is a terminal: no color.
    let (tty, code, piped) = run(&["f(x,y)=x*y", "--at", "x=3,y=-4"], &[], STDERR);
    assert_eq!(code, Some(0));
    assert_eq!(tty, "");
    assert!(
        piped.contains("dx = -4") && !piped.contains(ESC),
        "{piped:?}"
    );
    // clap's errors too.
    let (tty, code, _) = run(&["--frobnicate"], &[], STDERR);
    assert_eq!(code, Some(2));
    assert!(tty.contains(ESC), "{tty:?}");
    let (tty, _, _) = run(&["--frobnicate"], &[("NO_COLOR", "1")], STDERR);
    assert!(tty.contains("error:") && !tty.contains(ESC), "{tty:?}");
}

#[test]
fn interactive_mode_on_a_terminal() {
    let dir = super::tempdir();
    let history = dir.join("history");
    let all = On {
        stdin: true,
        stdout: true,
        stderr: true,
    };
    let mut s = Session::spawn(
        &["--color", "never"],
        &[("GRADEXPLAIN_HISTORY", history.to_str().unwrap())],
        all,
    );
    let mut at = s.expect(0, "gx> ");
    s.type_line("f(x,y) = x*y");
    at = s.expect(at, "gx> ");
    s.type_line(":at x=3,y=-4");
    at = s.expect(at, "dx = y · grad = -4 · 1 = -4");
    at = s.expect(at, "gx> ");
    s.type_line(":grad 2");
    at = s.expect(at, "dx = y · grad = -4 · 2 = -8");
    at = s.expect(at, "gx> ");
    // A mistake is reported, and the session goes on.
    s.type_line("x + * y");
    at = s.expect(at, "error: expected a value");
    at = s.expect(at, "gx> ");
    // Line editing: type `:format jsno`, fix it with two backspaces.
    s.master.write_all(b":format jsno\x7f\x7fon\r").unwrap();
    at = s.expect(at, "\"gradients\"");
    at = s.expect(at, "gx> ");
    // Tab completes a command.
    s.master.write_all(b":sho\t\r").unwrap();
    at = s.expect(at, "gradexplain 'f(x,y) = x*y' --at x=3,y=-4 ");
    let end = s.expect(at, "gx> ");
    let shown = &s.seen[at..end];
    assert!(shown.contains("--grad 2") && shown.contains("--format json"));
    s.type_line(":quit");
    let (_, code, _) = s.finish();
    assert_eq!(code, Some(0));
    let kept = std::fs::read_to_string(&history).unwrap();
    assert!(kept.contains(":at x=3,y=-4"), "history: {kept}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ctrl_d_leaves_the_prompt() {
    let all = On {
        stdin: true,
        stdout: true,
        stderr: true,
    };
    let mut s = Session::spawn(&[], &[("GRADEXPLAIN_HISTORY", "")], all);
    s.expect(0, "gx> ");
    s.master.write_all(b"\x04").unwrap();
    let (_, code, _) = s.finish();
    assert_eq!(code, Some(0));
}
