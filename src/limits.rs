//! The tool's stated limits on size, in one place, and the readers that keep
//! to them. Depth has no limit: every stage walks by index or with explicit
//! stacks, so `((((…x…))))` 100 000 deep costs memory, not stack. What is
//! limited is what would otherwise exhaust memory before a word is printed:
//! an endless input (`-f /dev/zero`, `yes | gradexplain -f -`) and a value too
//! large to hold (`outer(v, v)` of two long vectors).

use std::io::Read;
use std::path::Path;

/// The most bytes read from a program file, standard input or an `--at @FILE`
/// file: 256 MiB, seven times a 1 000 000-stage program.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The most numbers one value may hold: 2²⁶ (512 MiB of `f64`), a
/// 8192×8192 matrix. Shape inference refuses a gate that would hold more,
/// before any number is computed.
pub const MAX_VALUE_ELEMENTS: usize = 1 << 26;

/// The most numbers all gates' values may hold together: 2²⁷ (1 GiB of
/// `f64`; the backward pass holds as much again in gradients).
pub const MAX_TOTAL_ELEMENTS: usize = 1 << 27;

/// Why a limited read failed.
#[derive(Debug)]
pub enum ReadError {
    /// The operating system's error.
    Io(std::io::Error),
    /// The input holds more than [`MAX_FILE_BYTES`].
    TooLarge,
}

/// Reads all of `r`, refusing more than [`MAX_FILE_BYTES`].
pub fn read_all(r: impl Read) -> Result<Vec<u8>, ReadError> {
    read_sized(r, 0)
}

/// [`read_all`] into a buffer made for `expected` bytes, so that a file whose
/// size is known is read without growing (and copying) the buffer.
fn read_sized(r: impl Read, expected: u64) -> Result<Vec<u8>, ReadError> {
    // One byte more, so that reading to the end needs no second buffer.
    let room = expected.min(MAX_FILE_BYTES).saturating_add(1);
    let mut buf = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
    r.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(buf)
}

/// Reads the file at `path`, refusing more than [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    // A directory opens on Unix; reading it fails with the OS's own reason.
    // The size is a hint only: the file may change while it is read.
    let expected = file.metadata().map_or(0, |m| m.len());
    read_sized(file, expected)
}

/// Why a read failed, in words: the OS's reason, or the limit.
pub fn reason(e: &ReadError) -> String {
    match e {
        ReadError::Io(e) => crate::app::io_reason(e),
        ReadError::TooLarge => format!(
            "it is larger than {}, the most the tool reads",
            describe_bytes(MAX_FILE_BYTES)
        ),
    }
}

/// A byte count in words: `256 MiB`.
pub fn describe_bytes(n: u64) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_input_stops_at_the_limit() {
        let endless = std::io::repeat(b'x');
        assert!(matches!(read_all(endless), Err(ReadError::TooLarge)));
        assert_eq!(read_all(&b"x = 1"[..]).unwrap(), b"x = 1");
        assert_eq!(describe_bytes(MAX_FILE_BYTES), "256 MiB");
    }
}
