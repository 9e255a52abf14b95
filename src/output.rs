//! Every file the tool writes goes through here, atomically: the bytes go to a
//! temporary file in the target's own directory, and only a complete file is
//! renamed over the target. A failed run therefore never leaves a half-written
//! file, and an existing file is replaced whole or not at all.
//!
//! Several files of one run are staged together ([`write_all_atomic`]): all of
//! them are written to temporary files first, and only when every one of them
//! is complete are they renamed into place, so that an error in the last output
//! does not leave the first one replaced.

use crate::error::{Error, ErrorKind, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Writes `bytes` to `path` atomically (a temporary file in the same directory,
/// then a rename). On failure the existing file is untouched and the error, of
/// kind [`ErrorKind::Io`] (exit 1), names the path and the reason.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.txt");
/// gradexplain::output::write_atomic(&path, b"hello").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_all_atomic(&[(path.to_path_buf(), bytes.to_vec())])
}

/// Writes several files as one step: each is staged in a temporary file beside
/// its target, and only when all are staged are they renamed into place. If any
/// cannot be staged, no target is touched.
pub fn write_all_atomic(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        staged.push((path, stage(path, bytes)?));
    }
    for (path, tmp) in staged {
        // A rename within one directory: the target is replaced whole or not at all.
        tmp.persist(path)
            .map_err(|e| cannot_write(path, &e.error))?;
    }
    Ok(())
}

/// Refuses an output path that names the program file being read: a slip such
/// as `-f net.gx --svg net.gx` would otherwise replace the program with its own
/// picture.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("p.gx");
/// std::fs::write(&p, "x * 2").unwrap();
/// let e = gradexplain::output::refuse_program(&p, &[Some(&p)]).unwrap_err();
/// assert!(e.message.ends_with("it is the program file (-f)"));
/// ```
pub fn refuse_program(program: &Path, outputs: &[Option<&Path>]) -> Result<()> {
    let Ok(program) = program.canonicalize() else {
        return Ok(()); // standard input, or a file that is not there to protect
    };
    for out in outputs.iter().flatten() {
        if out.canonicalize().is_ok_and(|o| o == program) {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "cannot write `{}`: it is the program file (-f)",
                    out.display()
                ),
            )
            .help("name the picture differently, as in --svg net.svg"));
        }
    }
    Ok(())
}

/// Creates `dir` (and its parents) for a set of output files.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot create the directory `{}`: {}",
                dir.display(),
                crate::app::io_reason(&e)
            ),
        )
    })
}

/// The bytes in a complete temporary file beside `path`.
fn stage(path: &Path, bytes: &[u8]) -> Result<NamedTempFile> {
    if path.is_dir() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("cannot write `{}`: it is a directory", path.display()),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    // A hidden name beside the target: `.out.svg.a1B2c3.tmp`.
    let prefix = format!(".{name}.");
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A replaced file keeps its mode; a new one gets the usual 0666 less the
        // umask, not the 0600 that temporary files are created with.
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o666);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| cannot_write(path, &e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| cannot_write(path, &e))?;
    Ok(tmp)
}

fn cannot_write(path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!(
            "cannot write `{}`: {}",
            path.display(),
            crate::app::io_reason(e)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.svg");
        std::fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target remains");
    }

    #[test]
    fn a_failed_set_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.svg");
        std::fs::write(&good, "old").unwrap();
        let bad = dir.path().join("missing-dir").join("bad.png");
        let err =
            write_all_atomic(&[(good.clone(), b"new".to_vec()), (bad, b"x".to_vec())]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Io);
        assert!(err.message.contains("bad.png"), "{}", err.message);
        assert!(err.message.contains("No such file"), "{}", err.message);
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "the staged file was removed");
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), b"x").unwrap_err();
        assert!(err.message.contains("is a directory"), "{}", err.message);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.svg");
        write_atomic(&path, b"x").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "readable by others as usual: {mode:o}");
    }
}
