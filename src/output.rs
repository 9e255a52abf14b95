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
///
/// A symbolic link is written through: the file it points to is replaced, and
/// the link stays. A target that is not a regular file (`/dev/stdout`, a
/// device, a named pipe) cannot be replaced by a rename, and must not be: it is
/// written to directly, after every file is staged and before any is renamed,
/// so that a failed write there (a full device) leaves every file untouched.
pub fn write_all_atomic(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    let mut direct = Vec::new();
    for (path, bytes) in files {
        match target(path)? {
            Target::File(real) => staged.push((path, stage(path, &real, bytes)?, real)),
            Target::Special => direct.push((path, bytes)),
        }
    }
    for (path, bytes) in direct {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| cannot_write(path, &e))?;
    }
    for (path, tmp, real) in staged {
        // A rename within one directory: the target is replaced whole or not at all.
        tmp.persist(real)
            .map_err(|e| cannot_write(path, &e.error))?;
    }
    Ok(())
}

/// What an output path names.
enum Target {
    /// A regular file, or none yet: the path of the file itself, through any
    /// symbolic links.
    File(PathBuf),
    /// Something other than a regular file or a directory, written in place.
    Special,
}

/// Symbolic links followed at most, as the kernel does.
const MAX_LINKS: usize = 40;

fn target(path: &Path) -> Result<Target> {
    // `metadata` follows links, `/proc/self/fd` ones included.
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(Error::new(
            ErrorKind::Io,
            format!("cannot write `{}`: it is a directory", path.display()),
        )),
        Ok(m) if m.is_file() => path
            .canonicalize()
            .map(Target::File)
            .map_err(|e| cannot_write(path, &e)),
        Ok(_) => Ok(Target::Special),
        Err(_) => {
            // Not there yet, or a link to a file that is not there yet: the
            // file the links lead to is the one to create.
            let mut real = path.to_path_buf();
            for _ in 0..MAX_LINKS {
                let is_link =
                    std::fs::symlink_metadata(&real).is_ok_and(|m| m.file_type().is_symlink());
                if !is_link {
                    return Ok(Target::File(real));
                }
                let link = std::fs::read_link(&real).map_err(|e| cannot_write(path, &e))?;
                real = match real.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            Err(Error::new(
                ErrorKind::Io,
                format!(
                    "cannot write `{}`: too many levels of symbolic links",
                    path.display()
                ),
            ))
        }
    }
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

/// Checks a run's output files before any is written: none may be the
/// program file (`program`, from `-f`), and no two may be the same file (a
/// `--svg` and a `--png` of one name, or a `--steps` frame that `--svg`
/// names too), which would keep only the last written. Paths are compared
/// as the files they name, through links and `..`. A device or a pipe
/// (`/dev/stdout`) may take several.
pub fn check_targets(program: Option<&Path>, files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let paths: Vec<Option<&Path>> = files.iter().map(|(p, _)| Some(p.as_path())).collect();
    if let Some(program) = program {
        refuse_program(program, &paths)?;
    }
    let mut seen: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    for (path, _) in files {
        let id = match target(path) {
            Ok(Target::Special) => continue,
            Ok(Target::File(real)) => identity(&real),
            // Not writable at all: the write says why.
            Err(_) => continue,
        };
        if let Some((_, first)) = seen.iter().find(|(other, _)| *other == id) {
            let same = if *first == path.as_path() {
                format!("`{}` is named by two outputs", path.display())
            } else {
                format!(
                    "`{}` and `{}` are the same file, named by two outputs",
                    first.display(),
                    path.display()
                )
            };
            return Err(Error::new(ErrorKind::Usage, same).help(
                "give each of --dot, --svg, --png, --html and the --steps frames a file of its own",
            ));
        }
        seen.push((id, path));
    }
    Ok(())
}

/// The file `real` (a [`Target::File`], links followed) is, as far as can
/// be told before it exists: its canonical path, or its directory's with its
/// name.
fn identity(real: &Path) -> PathBuf {
    if let Ok(p) = real.canonicalize() {
        return p;
    }
    match (dir_of(real).canonicalize(), real.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => real.to_path_buf(),
    }
}

/// The directory a file is in: `.` for a bare name.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
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

/// The bytes in a complete temporary file beside `real`, the file that the
/// output path `path` names.
fn stage(path: &Path, real: &Path, bytes: &[u8]) -> Result<NamedTempFile> {
    let dir = dir_of(real);
    let name = real
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
        let mode = std::fs::metadata(real)
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

    /// Two outputs are the same file through a link to a file not there yet,
    /// and through `..`; a device may take several.
    #[cfg(unix)]
    #[test]
    fn outputs_that_name_one_file_are_found_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let (file, link) = (dir.path().join("a.svg"), dir.path().join("link.svg"));
        std::os::unix::fs::symlink("a.svg", &link).unwrap();
        let same = [(file.clone(), vec![]), (link, vec![])];
        let err = check_targets(None, &same).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Usage);
        assert!(err.message.contains("are the same file"), "{}", err.message);
        let dotted = dir.path().join("sub/../a.svg");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(check_targets(None, &[(file.clone(), vec![]), (dotted, vec![])]).is_err());
        let other = dir.path().join("b.svg");
        assert!(check_targets(None, &[(file, vec![]), (other, vec![])]).is_ok());
        #[cfg(target_os = "linux")]
        {
            let null = PathBuf::from("/dev/null");
            assert!(check_targets(None, &[(null.clone(), vec![]), (null, vec![])]).is_ok());
        }
    }

    fn is_link(p: &Path) -> bool {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let (file, link) = (dir.path().join("a.svg"), dir.path().join("link.svg"));
        std::fs::write(&file, "old").unwrap();
        std::os::unix::fs::symlink("a.svg", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert!(is_link(&link));
        // A link to a file not there yet, through a second link, creates it.
        let (later, first) = (dir.path().join("sub/later.svg"), dir.path().join("first"));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("sub/via", &first).unwrap();
        std::os::unix::fs::symlink("later.svg", dir.path().join("sub/via")).unwrap();
        write_atomic(&first, b"made").unwrap();
        assert_eq!(std::fs::read_to_string(&later).unwrap(), "made");
        assert!(is_link(&first));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
        // A loop of links is an error, not a hang.
        let (p, q) = (dir.path().join("p"), dir.path().join("q"));
        std::os::unix::fs::symlink("q", &p).unwrap();
        std::os::unix::fs::symlink("p", &q).unwrap();
        let err = write_atomic(&p, b"x").unwrap_err();
        assert!(err.message.contains("symbolic links"), "{}", err.message);
    }

    /// A device is written to, never replaced: `/dev/null` takes the bytes and
    /// stays a device; `/dev/full` refuses them, which is an error that
    /// leaves the other files of the set as they were.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_device_is_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let is_device =
            |p: &str| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device());
        assert!(is_device("/dev/null") && is_device("/dev/full"));
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
        assert!(is_device("/dev/null"));
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.svg");
        std::fs::write(&good, "old").unwrap();
        let files = [
            (good.clone(), b"new".to_vec()),
            (PathBuf::from("/dev/full"), b"x".to_vec()),
        ];
        let err = write_all_atomic(&files).unwrap_err();
        assert!(err.message.contains("/dev/full"), "{}", err.message);
        assert!(is_device("/dev/full"));
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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
