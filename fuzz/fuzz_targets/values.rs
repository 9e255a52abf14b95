//! `--at` and `--grad` values on arbitrary bytes, and the content of an
//! `--at NAME=@FILE` file (`.npy` or JSON): never a panic, every error a usage
//! error (exit 2) with a place that renders.
#![no_main]

use gradexplain::error::ErrorKind;
use gradexplain::input::{parse_assignments, parse_grad};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A file's content, as `--at W=@W.npy` would read it.
    let _ = gradexplain::datafile::parse(data);
    let text = String::from_utf8_lossy(data);
    // `@FILE` would read the machine's files (`@/dev/zero`, `@/dev/tty`): the
    // file's content is fuzzed above instead.
    if text.contains('@') {
        return;
    }
    for result in [
        parse_assignments(&text).map(|_| ()),
        parse_grad(&text).map(|_| ()),
    ] {
        if let Err(e) = result {
            assert_eq!(e.kind, ErrorKind::Usage, "{}", e.message);
            assert!(e.span.is_some(), "an --at error has a place: {}", e.message);
            let rendered = e.render(false);
            assert!(rendered.starts_with("error: "), "{rendered}");
        }
    }
});
