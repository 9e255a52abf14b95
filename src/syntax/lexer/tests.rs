use super::*;

fn kinds(src: &str) -> Vec<Tok> {
    tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
}

#[test]
fn numbers_in_every_form() {
    for (s, x) in [
        ("3", 3.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1e-3", 1e-3),
        ("2.5E+4", 2.5e4),
        ("3.", 3.0),
    ] {
        assert_eq!(kinds(s), vec![Tok::Num, Tok::Eof], "{s}");
        assert_eq!(number_value(s), x, "{s}");
    }
    assert_eq!(kinds("1e999"), vec![Tok::Num, Tok::Eof]);
    assert_eq!(number_value("1e999"), f64::INFINITY);
}

/// The fast path for plain decimals gives what the nom path gives: the
/// same token, or the same error, for every shape of number.
#[test]
fn plain_decimals_the_fast_way_and_the_long_way() {
    for s in [
        "0",
        "7",
        "12",
        "3.",
        "3.25",
        "10.5)",
        "1e5",
        "1.5e-3",
        "2E+4",
        "1e",
        "1e+",
        ".5",
        "2x",
        "3.x",
        "3._",
        "12_",
        "1.2.3",
        "7σ",
        "5 ",
        "5\n",
        "5*x",
        "0.25,",
        "99999999999999999999",
    ] {
        let fast = Lexer::new(s).next_token();
        let slow = Lexer::new(s).other(0);
        assert_eq!(fast, slow, "{s:?}");
    }
}

/// `fill` gives the tokens, and the error, that `next_token` gives, with
/// windows of every small size (so that texts end and fail mid-window).
#[test]
fn filling_a_window_lexes_like_next_token() {
    for src in [
        "h1 = tanh(h0 * x1 + h0)\nh2 = tanh(h1 * x1 + h1)\n",
        "f(x, y) = x**2 + y ^ 3 - 1.5e3 @ W[0, 1] · v; z = −x",
        "σ(x) + xσ + βeta_2\r\n\t# comment ( [\n y",
        "a = 2x",
        "a = x $ y",
        "x\u{0}",
        "\u{feff}a=b",
        "",
        "   ",
        "1e+",
        "((((a))))",
    ] {
        let mut one = Lexer::new(src);
        let mut expected = Vec::new();
        let end = loop {
            match one.next_token() {
                Ok(t) if t.tok == Tok::Eof => {
                    expected.push(t);
                    break None;
                }
                Ok(t) => expected.push(t),
                Err(e) => break Some(e),
            }
        };
        for size in 1..6 {
            let mut lexer = Lexer::new(src);
            let mut got = Vec::new();
            let mut window = vec![
                Token {
                    tok: Tok::Comma,
                    span: Span::new(0, 0)
                };
                size
            ];
            let error = loop {
                let (n, r) = lexer.fill(&mut window);
                got.extend_from_slice(&window[..n]);
                if let Err(e) = r {
                    break Some(e);
                }
                if got.last().is_some_and(|t| t.tok == Tok::Eof) {
                    break None;
                }
            };
            assert_eq!(got, expected, "{src:?}, windows of {size}");
            assert_eq!(error, end, "{src:?}, windows of {size}");
        }
    }
}

#[test]
fn operators_and_unicode() {
    use Tok::*;
    assert_eq!(
        kinds("σ·β − x**2 @ y # comment\n;"),
        vec![
            Name, Dot, Name, Minus, Name, Caret, Num, Dot, Name, Newline, Semi, Eof
        ]
    );
}

#[test]
fn glued_names_and_bad_characters() {
    let e = tokenize("2x").unwrap_err();
    assert!(
        e.message
            .contains("expected an operator after the number `2`"),
        "{}",
        e.message
    );
    let e = tokenize("1e+").unwrap_err();
    assert!(e.message.contains("exponent"), "{}", e.message);
    let e = tokenize("x $ y").unwrap_err();
    assert_eq!(e.message, "unexpected character `$`");
    assert_eq!(e.span, Some(Span::new(2, 3)));
    let e = tokenize("x\u{0}").unwrap_err();
    assert!(e.message.contains("\\0"), "{}", e.message);
}
