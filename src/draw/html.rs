//! One self-contained HTML page that steps through the backward pass: every
//! frame's SVG inline, the sentence for each step beside it, buttons and arrow
//! keys to move, and `#step-N` in the address to open at a step. No network, no
//! external script or style: the page works from a USB stick in a lecture hall.

use super::dot::html_escape as esc;
use super::render::inline_svg;

/// A frame ready for the page: its picture (SVG bytes), heading and sentence.
#[derive(Clone, Debug)]
pub struct PageFrame {
    /// The SVG document.
    pub svg: Vec<u8>,
    /// A short heading.
    pub title: String,
    /// The explanation.
    pub sentence: String,
}

/// The page. `program` is shown at the top; `name` is the output's name.
pub fn page(program: &str, name: &str, frames: &[PageFrame]) -> String {
    let n = frames.len();
    let mut figures = String::new();
    let mut texts = String::new();
    for (k, f) in frames.iter().enumerate() {
        let hidden = if k == 0 { "" } else { " hidden" };
        figures.push_str(&format!(
            "<figure class=\"frame\" id=\"frame-{k}\" data-step=\"{k}\"{hidden}>\n{}\n</figure>\n",
            inline_svg(&f.svg)
        ));
        let current = if k == 0 { " class=\"current\"" } else { "" };
        texts.push_str(&format!(
            "<li data-step=\"{k}\"{current}><a href=\"#step-{k}\"><b>{}</b></a> \
             <span class=\"sentence\">{}</span></li>\n",
            esc(&f.title),
            code_spans(&esc(&f.sentence))
        ));
    }
    let first = frames
        .first()
        .map(|f| (esc(&f.title), code_spans(&esc(&f.sentence))))
        .unwrap_or_default();
    // Line by line: the escape makes a line break a space (right inside a
    // diagram's label), and a program of several lines would read as one.
    let program: Vec<String> = program.trim().lines().map(esc).collect();
    let program = program.join("\n");
    let name = esc(name);
    format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backpropagation through {name} — gradexplain</title>
<style>
body {{ font-family: "DejaVu Sans", Verdana, Arial, sans-serif; margin: 1.2rem; color: #111; background: #fff; }}
h1 {{ font-size: 1.2rem; margin: 0 0 .3rem; }}
pre.program {{ background: #f4f4f4; padding: .4rem .6rem; margin: 0 0 .8rem; white-space: pre-wrap; }}
main {{ display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }}
.frames {{ flex: 3 1 32rem; min-width: 0; }}
.frame {{ margin: 0; }}
.frame svg {{ max-width: 100%; height: auto; }}
aside {{ flex: 1 1 18rem; max-width: 36rem; }}
#counter {{ font-weight: bold; }}
#title {{ font-family: monospace; font-size: 1.05rem; margin: .4rem 0; }}
code {{ background: #f4f4f4; padding: 0 .2em; }}
#sentence {{ border-left: 4px solid #c0392b; padding: .3rem .7rem; background: #fdf3f1; line-height: 1.45; }}
nav button {{ font-size: 1rem; padding: .3rem .7rem; margin: .2rem .2rem .2rem 0; }}
.hint {{ color: #555; font-size: .85rem; }}
ol.steps {{ font-size: .85rem; color: #444; padding-left: 1.6rem; }}
ol.steps li.current {{ color: #000; background: #fff1a8; }}
ol.steps a {{ color: inherit; }}
</style>
</head>
<body data-step="0" data-steps="{n}">
<h1>Backpropagation through <code>{name}</code>, step by step</h1>
<pre class="program">{program}</pre>
<main>
<div class="frames">
{figures}</div>
<aside>
<p id="counter">Step <span id="k">0</span> of {last}</p>
<p id="title">{t0}</p>
<p id="sentence" aria-live="polite">{s0}</p>
<nav>
<button id="first" type="button" title="first step (Home)">« First</button>
<button id="prev" type="button" title="previous step (←)">◀ Back</button>
<button id="next" type="button" title="next step (→ or space)">Next ▶</button>
<button id="last" type="button" title="last step (End)">Last »</button>
</nav>
<p class="hint">Keys: → or space for the next step, ← for the previous one, Home and End.</p>
<ol class="steps" start="0">
{texts}</ol>
</aside>
</main>
<script>
(function () {{
  "use strict";
  var frames = document.querySelectorAll(".frame");
  var items = document.querySelectorAll("ol.steps li");
  var n = frames.length, k = 0;
  function show(i) {{
    k = Math.max(0, Math.min(n - 1, i));
    for (var j = 0; j < n; j++) {{
      frames[j].hidden = j !== k;
      items[j].className = j === k ? "current" : "";
    }}
    document.getElementById("k").textContent = String(k);
    document.getElementById("title").textContent = items[k].querySelector("b").textContent;
    document.getElementById("sentence").innerHTML = items[k].querySelector(".sentence").innerHTML;
    document.body.setAttribute("data-step", String(k));
    if (location.hash !== "#step-" + k) {{
      try {{ history.replaceState(null, "", "#step-" + k); }} catch (e) {{ /* a file: page may refuse */ }}
    }}
  }}
  function fromHash() {{
    var m = /^#step-(\d+)$/.exec(location.hash);
    show(m ? parseInt(m[1], 10) : k);
  }}
  document.getElementById("first").onclick = function () {{ show(0); }};
  document.getElementById("prev").onclick = function () {{ show(k - 1); }};
  document.getElementById("next").onclick = function () {{ show(k + 1); }};
  document.getElementById("last").onclick = function () {{ show(n - 1); }};
  document.addEventListener("keydown", function (e) {{
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var to = {{ ArrowRight: k + 1, ArrowDown: k + 1, PageDown: k + 1, " ": k + 1,
               ArrowLeft: k - 1, ArrowUp: k - 1, PageUp: k - 1, Home: 0, End: n - 1 }}[e.key];
    if (to === undefined) return;
    e.preventDefault();
    show(to);
  }});
  window.addEventListener("hashchange", fromHash);
  fromHash();
}})();
</script>
</body>
</html>
"##,
        last = n.saturating_sub(1),
        t0 = first.0,
        s0 = first.1,
    )
}

/// `` `q = x + y` `` in an (escaped) sentence becomes `<code>q = x + y</code>`.
fn code_spans(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + 16);
    for (k, piece) in escaped.split('`').enumerate() {
        if k > 0 {
            out.push_str(if k % 2 == 1 { "<code>" } else { "</code>" });
        }
        out.push_str(piece);
    }
    if escaped.matches('`').count() % 2 == 1 {
        out.push_str("</code>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code() {
        assert_eq!(code_spans("a `b` c"), "a <code>b</code> c");
        assert_eq!(code_spans("odd `b"), "odd <code>b</code>");
    }

    #[test]
    fn page_escapes_program_and_sentences() {
        let f = PageFrame {
            svg: b"<?xml version=\"1.0\"?><svg></svg>".to_vec(),
            title: "<t>".into(),
            sentence: "a < b & `c`".into(),
        };
        let p = page("x <script>", "f", &[f]);
        assert!(p.contains("x &lt;script&gt;"));
        assert!(p.contains("a &lt; b &amp; <code>c</code>"));
        assert!(!p.contains("<?xml"), "the prolog is stripped");
        // A program of several lines keeps them (found by a hostile probe).
        let p = page("q = x*y  # first\r\nf = q + q*x\n", "f", &[]);
        assert!(
            p.contains("<pre class=\"program\">q = x*y  # first\nf = q + q*x</pre>"),
            "{p}"
        );
    }
}
