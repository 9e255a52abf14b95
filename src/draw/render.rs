//! From a diagram to the bytes of a picture: through Graphviz's `dot` when it is
//! installed (graphviz-rust runs it), through the embedded renderer when it is
//! not — for SVG. PNG needs Graphviz, and says how to get it.

use super::model::Diagram;
use super::{dot, embedded};
use crate::error::{Error, ErrorKind, Result};
use graphviz_rust::cmd::{CommandArg, Format};

/// Set to a non-empty value (other than `0`), this environment variable makes
/// the tool behave as if Graphviz were not installed: SVG comes from the
/// embedded renderer and PNG is an error. Tests use it to reach the embedded
/// path on machines that have Graphviz.
pub const NO_GRAPHVIZ_ENV: &str = "GRADEXPLAIN_NO_GRAPHVIZ";

/// Which renderer makes the pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renderer {
    /// Graphviz's `dot`, falling back to the embedded renderer for SVG when `dot`
    /// cannot be run.
    Auto,
    /// The embedded renderer only, as if Graphviz were absent.
    Embedded,
}

impl Renderer {
    /// [`Renderer::Embedded`] when [`NO_GRAPHVIZ_ENV`] is set, else [`Renderer::Auto`].
    pub fn from_env() -> Renderer {
        match std::env::var(NO_GRAPHVIZ_ENV) {
            Ok(v) if !v.is_empty() && v != "0" => Renderer::Embedded,
            _ => Renderer::Auto,
        }
    }
}

/// Why `dot` gave no picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DotFailure {
    /// No `dot` on the PATH (or [`Renderer::Embedded`] was asked for).
    Missing,
    /// `dot` ran and failed; its message.
    Failed(String),
}

/// Runs Graphviz's `dot` on DOT text, with the output format `-T…`.
pub fn run_dot(dot_text: &str, format: Format) -> std::result::Result<Vec<u8>, DotFailure> {
    match graphviz_rust::exec_dot(dot_text.to_string(), vec![CommandArg::Format(format)]) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DotFailure::Missing),
        Err(e) => Err(DotFailure::Failed(e.to_string().trim().to_string())),
    }
}

/// True when Graphviz's `dot` can be run.
pub fn graphviz_available() -> bool {
    std::process::Command::new("dot")
        .arg("-V")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The diagram as an SVG document. `id` keeps element ids unique between the
/// frames of one HTML page.
pub fn svg(d: &Diagram, renderer: Renderer, id: &str) -> Result<Vec<u8>> {
    if renderer == Renderer::Auto {
        // Whatever stops `dot` — missing, or failing on this graph — SVG is still
        // made, by the embedded renderer.
        if let Ok(bytes) = run_dot(&dot::to_dot(d), Format::Svg) {
            return Ok(bytes);
        }
    }
    embedded::to_svg(d, id).map(String::into_bytes).map_err(|why| {
        Error::new(ErrorKind::Io, format!("cannot draw the diagram: {why}")).help(
            "install Graphviz (`apt-get install graphviz`, `brew install graphviz`), which lays it out, \
             or write the DOT with --dot FILE",
        )
    })
}

/// The diagram as a PNG image; Graphviz is needed for it.
pub fn png(d: &Diagram, renderer: Renderer) -> Result<Vec<u8>> {
    let failure = match renderer {
        Renderer::Embedded => DotFailure::Missing,
        Renderer::Auto => match run_dot(&dot::to_dot(d), Format::Png) {
            Ok(bytes) => return Ok(bytes),
            Err(f) => f,
        },
    };
    Err(match failure {
        DotFailure::Missing => Error::new(
            ErrorKind::Io,
            "cannot make a PNG: Graphviz (the `dot` program) is not installed",
        )
        .help(
            "install Graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: \
             `brew install graphviz`), or write SVG with --svg, which works without it",
        ),
        DotFailure::Failed(msg) => Error::new(
            ErrorKind::Io,
            format!("cannot make a PNG: Graphviz's `dot` failed: {msg}"),
        ),
    })
}

/// Strips the XML prolog and doctype that `dot` writes before `<svg`, so that a
/// frame can be put inline in an HTML page.
pub fn inline_svg(svg: &[u8]) -> String {
    let s = String::from_utf8_lossy(svg);
    match s.find("<svg") {
        Some(i) => s[i..].to_string(),
        None => s.into_owned(),
    }
}
