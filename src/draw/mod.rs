//! The annotated circuit diagrams of the CS231n notes, for any program: one box
//! per gate, one wire per use, the forward value above each wire and the
//! gradient below it, left to right.
//!
//! - [`model`] decides what is drawn (boxes, wires, texts, blanks, steps);
//! - [`dot`] writes it as Graphviz DOT with graphviz-rust;
//! - [`render`] turns it into SVG or PNG through Graphviz's `dot`, or through
//!   [`embedded`], the pure-Rust renderer, where Graphviz is missing;
//! - [`steps`] cuts the backward pass into frames with their sentences, and
//!   [`html`] puts them on one self-contained page.
//!
//! ```
//! use gradexplain::{Analysis, Value, input::parse_assignments};
//! use gradexplain::draw::{dot_text, Options};
//! let mut a = Analysis::new("f(x, y) = x * y").unwrap();
//! a.evaluate(&parse_assignments("x=3,y=-4").unwrap(), &Value::Scalar(2.0)).unwrap();
//! let dot = dot_text(&a, &Options::default()).unwrap();
//! assert!(dot.contains("= -12") && dot.contains("∂ -8") && dot.contains("∂ 6"));
//! ```

pub mod dot;
pub mod embedded;
pub mod html;
pub mod model;
pub mod render;
pub mod steps;

pub use model::{Diagram, Options, Reveal};
pub use render::Renderer;

use crate::analysis::Analysis;
use crate::cli::Cli;
use crate::error::{Error, ErrorKind, Result};
use std::path::PathBuf;

/// The largest circuit written as DOT text: past this, Graphviz itself would
/// take minutes, and nobody reads the picture.
pub const MAX_DOT_GATES: usize = 50_000;
/// The largest picture (SVG, PNG) laid out, in [`Diagram::layout_cost`] units:
/// about 1 500 gates in a chain, or a value used by 50 gates along one, take
/// some seconds; much more would take minutes.
pub const MAX_PICTURE_COST: usize = 6_000;
/// The largest diagram cut into step-by-step frames (one picture per step).
pub const MAX_STEPS_COST: usize = 1_200;
/// The most frames of a step-by-step.
pub const MAX_STEPS: usize = 150;

/// What the command line asks to draw, besides standard output.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `--dot FILE`
    pub dot: Option<PathBuf>,
    /// `--svg FILE`
    pub svg: Option<PathBuf>,
    /// `--png FILE`
    pub png: Option<PathBuf>,
    /// `--steps DIR`
    pub steps: Option<PathBuf>,
    /// `--html FILE`
    pub html: Option<PathBuf>,
    /// `--blank`, `--local-grads`
    pub options: Options,
    /// The program file (`-f`), which no output may replace.
    pub program: Option<PathBuf>,
}

impl Request {
    /// True when any file is asked for.
    pub fn wanted(&self) -> bool {
        self.dot.is_some()
            || self.svg.is_some()
            || self.png.is_some()
            || self.steps.is_some()
            || self.html.is_some()
    }

    /// The drawing options of a command line.
    pub fn from_cli(cli: &Cli) -> Request {
        Request {
            dot: cli.dot.clone(),
            svg: cli.svg.clone(),
            png: cli.png.clone(),
            steps: cli.steps.clone(),
            html: cli.html.clone(),
            options: Options {
                blank: cli.blank,
                local: cli.local_grads,
            },
            program: cli.file.clone().filter(|f| f.as_os_str() != "-"),
        }
    }
}

/// The full diagram as DOT text (`--format dot`, `--dot`).
pub fn dot_text(a: &Analysis, opts: &Options) -> Result<String> {
    check_size(a, MAX_DOT_GATES, "a DOT diagram")?;
    Ok(dot::to_dot(&model::build(a, opts, Reveal::All)))
}

/// Renders every file that `req` asks for, in memory: (path, bytes). Nothing is
/// written, so that an error in any output leaves every file untouched.
pub fn render_files(
    a: &Analysis,
    req: &Request,
    renderer: Renderer,
) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let opts = &req.options;
    let mut files = Vec::new();
    if let Some(path) = &req.dot {
        files.push((path.clone(), dot_text(a, opts)?.into_bytes()));
    }
    if req.svg.is_some() || req.png.is_some() {
        check_size(a, MAX_DOT_GATES, "a picture")?;
        let d = model::build(a, opts, Reveal::All);
        check_cost(&d, MAX_PICTURE_COST, "a picture")?;
        if let Some(path) = &req.png {
            files.push((path.clone(), render::png(&d, renderer)?));
        }
        if let Some(path) = &req.svg {
            files.push((path.clone(), render::svg(&d, renderer, "gx")?));
        }
    }
    if req.steps.is_some() || req.html.is_some() {
        check_size(a, MAX_DOT_GATES, "step-by-step frames")?;
        if let Some(n) = &a.numeric {
            let count = model::steps(&a.circuit, n).len() + 1;
            if count > MAX_STEPS {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("the backward pass has {count} steps, too many for step-by-step frames (at most {MAX_STEPS})"),
                )
                .help("draw the whole circuit with --svg, or step through a smaller part of the program"));
            }
        }
        check_cost(
            &model::build(a, opts, Reveal::All),
            MAX_STEPS_COST,
            "step-by-step frames",
        )?;
        let frames = steps::frames(a, opts);
        let svgs: Vec<Vec<u8>> = frames
            .iter()
            .enumerate()
            .map(|(k, f)| render::svg(&f.diagram, renderer, &format!("s{k}")))
            .collect::<Result<_>>()?;
        if let Some(dir) = &req.steps {
            let width = (frames.len().saturating_sub(1)).to_string().len().max(2);
            for (k, svg) in svgs.iter().enumerate() {
                files.push((dir.join(format!("step-{k:0width$}.svg")), svg.clone()));
            }
        }
        if let Some(path) = &req.html {
            let page_frames: Vec<html::PageFrame> = frames
                .into_iter()
                .zip(svgs)
                .map(|(f, svg)| html::PageFrame {
                    svg,
                    title: f.title,
                    sentence: f.sentence,
                })
                .collect();
            let page = html::page(&a.source, &a.circuit.output_name, &page_frames);
            files.push((path.clone(), page.into_bytes()));
        }
    }
    Ok(files)
}

/// Renders and writes every file that `req` asks for, atomically and all
/// together: either every file is replaced or none is.
pub fn write_files(a: &Analysis, req: &Request) -> Result<()> {
    let files = render_files(a, req, Renderer::from_env())?;
    if files.is_empty() {
        return Ok(());
    }
    crate::output::check_targets(req.program.as_deref(), &files)?;
    let made = req.steps.as_deref().filter(|dir| !dir.exists());
    if let Some(dir) = &req.steps {
        crate::output::create_dir(dir)?;
    }
    let written = crate::output::write_all_atomic(&files);
    if let (Err(_), Some(dir)) = (&written, made) {
        // A failed run leaves nothing, not even the frames' directory it made
        // (`remove_dir` takes only an empty one).
        let _ = std::fs::remove_dir(dir);
    }
    written
}

fn check_size(a: &Analysis, max: usize, what: &str) -> Result<()> {
    let n = a.circuit.len();
    if n <= max {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Io,
        format!("the circuit has {n} gates, too many for {what} (at most {max})"),
    )
    .help("for large circuits use --format json, or draw a smaller part of the program"))
}

fn check_cost(d: &Diagram, max: usize, what: &str) -> Result<()> {
    let cost = d.layout_cost();
    if cost <= max {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Io,
        format!(
            "the diagram is too large to lay out as {what}: {} boxes and {} wires \
             (layout cost {cost}, at most {max})",
            d.nodes.len(),
            d.wires.len()
        ),
    )
    .help(
        "write the DOT with --dot FILE and lay it out with Graphviz yourself, or use --format json",
    ))
}
