//! Values read from files for `--at NAME=@FILE`: numpy's `.npy` format (how a
//! CS231n student keeps `W` and `X`) and `.json` files of nested arrays.
//!
//! The two failures are kept apart because the contract gives them different
//! exit codes: a file that cannot be read is [`FileError::Unreadable`] (exit 1),
//! a file that is read but does not hold a scalar, vector or matrix of numbers is
//! [`FileError::Malformed`] (exit 2, a malformed `--at` value).

use crate::value::Value;
use ndarray::{ArrayD, IxDyn};
use ndarray_npy::ReadNpyExt;
use ndarray_npy::npy::ReadNpyError;
use ndarray_npy::npy::header::Header;
use serde_json::Value as Json;
use std::path::Path;

/// Why a file did not give a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// The file could not be read (missing, a directory, no permission): the
    /// reason, as the operating system gives it.
    Unreadable(String),
    /// The file was read, but its content is not a value the tool takes.
    Malformed(String),
}

/// The magic string every `.npy` file starts with.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a scalar, vector or matrix from `path`. The format is chosen by the
/// content (a `.npy` file starts with numpy's magic string), so a misnamed file
/// still reads; anything else is taken as JSON.
///
/// ```
/// let dir = std::env::temp_dir().join("gradexplain-doc-datafile");
/// std::fs::create_dir_all(&dir).unwrap();
/// let p = dir.join("m.json");
/// std::fs::write(&p, "[[1, 2], [3, 4]]").unwrap();
/// let v = gradexplain::datafile::read(&p).unwrap();
/// assert_eq!(v.shape(), gradexplain::Shape::Matrix(2, 2));
/// ```
pub fn read(path: &Path) -> Result<Value, FileError> {
    let bytes = crate::limits::read_file(path).map_err(|e| match e {
        crate::limits::ReadError::Io(_) => {
            FileError::Unreadable(crate::limits::reason(&e).to_lowercase())
        }
        crate::limits::ReadError::TooLarge => FileError::Malformed(crate::limits::reason(&e)),
    })?;
    parse(&bytes)
}

/// Parses a file's content: `.npy` when it starts with numpy's magic string,
/// JSON otherwise.
///
/// ```
/// let v = gradexplain::datafile::parse(b"[1, 2, 3]").unwrap();
/// assert_eq!(v.shape(), gradexplain::Shape::Vector(3));
/// ```
pub fn parse(bytes: &[u8]) -> Result<Value, FileError> {
    let array = if bytes.starts_with(NPY_MAGIC) {
        from_npy(bytes)?
    } else {
        from_json(bytes)?
    };
    if array.ndim() > 0 && array.is_empty() {
        return Err(FileError::Malformed(format!(
            "it holds an empty array (shape {:?}); a vector or matrix needs at least one element",
            array.shape()
        )));
    }
    if array.iter().any(|x| x.is_nan()) {
        return Err(FileError::Malformed(
            "it holds nan: a value with no gradient to explain".into(),
        ));
    }
    Ok(Value::from_array(array))
}

/// Parses `.npy` bytes: format versions 1 to 3, either byte order, C or Fortran
/// order (ndarray-npy handles all of these), of any float, integer or bool dtype.
fn from_npy(bytes: &[u8]) -> Result<ArrayD<f64>, FileError> {
    let bad = |what: String| FileError::Malformed(format!("it is not a valid .npy file: {what}"));
    // ndarray-npy allocates the header's promised length before reading it: a
    // forged length (4 bytes of a version 2 file) asked for gigabytes. Check it
    // against the file first (the fuzzer found this).
    let (len_at, len_size) = match bytes.get(6) {
        Some(1) => (8, 2),
        Some(2 | 3) => (8, 4),
        _ => (8, 0), // ndarray-npy says what is wrong with the version
    };
    if len_size > 0 {
        let field = bytes.get(len_at..len_at + len_size).unwrap_or_default();
        let promised = field
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let available = bytes.len().saturating_sub(len_at + len_size) as u64;
        if field.len() < len_size || promised > available {
            return Err(bad(format!(
                "its header claims {promised} bytes, but the file holds {available} after it"
            )));
        }
    }
    let mut data = bytes;
    let header = Header::from_reader(&mut data).map_err(|e| bad(e.to_string()))?;
    // ndarray-npy allocates what the header promises before it reads: check the
    // promise against the bytes that are there, so that a forged header cannot
    // ask for terabytes.
    let item = header
        .type_descriptor
        .as_string()
        .filter(|d| matches!(d.get(1..2), Some("f" | "i" | "u" | "b")))
        .and_then(|d| d.get(2..))
        .and_then(|n| n.parse::<usize>().ok());
    if let Some(item) = item {
        let promised = header
            .shape
            .iter()
            .try_fold(item, |acc, &d| acc.checked_mul(d));
        if promised != Some(data.len()) {
            return Err(bad(format!(
                "its header promises shape {:?} ({} bytes of data), but the file holds {} bytes after the header",
                header.shape,
                promised.map_or_else(|| "too many".to_string(), |p| p.to_string()),
                data.len()
            )));
        }
    }
    if header.shape.len() > 2 {
        return Err(FileError::Malformed(format!(
            "it holds a {}-D array of shape {:?}; the tool takes scalars (0-D), vectors (1-D) and matrices (2-D)",
            header.shape.len(),
            header.shape
        )));
    }
    // ndarray-npy reads one element type at a time and says so when the file's
    // dtype is another: try the numeric types in turn, converting to f64.
    macro_rules! attempt {
        ($($t:ty),*) => {$(
            match ArrayD::<$t>::read_npy(bytes) {
                Ok(a) => return Ok(a.mapv(|x| x as f64)),
                Err(ReadNpyError::WrongDescriptor(_)) => {}
                Err(e) => return Err(bad(e.to_string())),
            }
        )*};
    }
    attempt!(f64, f32, i64, i32, i16, i8, u64, u32, u16, u8);
    match ArrayD::<bool>::read_npy(bytes) {
        Ok(a) => return Ok(a.mapv(|x| if x { 1.0 } else { 0.0 })),
        Err(ReadNpyError::WrongDescriptor(_)) => {}
        Err(e) => return Err(bad(e.to_string())),
    }
    Err(FileError::Malformed(format!(
        "its dtype {} is not supported; save it as float64, float32 or an integer type",
        header.type_descriptor
    )))
}

/// Parses JSON: a number, an array of numbers, or an array of equally long
/// arrays of numbers. `"inf"` and `"-inf"` are accepted, as the report writes them.
fn from_json(bytes: &[u8]) -> Result<ArrayD<f64>, FileError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| {
        FileError::Malformed(format!("it is neither a .npy file nor valid JSON ({e})"))
    })?;
    let number = |v: &Json, at: &str| -> Result<f64, FileError> {
        match v {
            Json::Number(n) => n
                .as_f64()
                .ok_or_else(|| FileError::Malformed(format!("the number at {at} is out of range"))),
            Json::String(s) if s == "inf" => Ok(f64::INFINITY),
            Json::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
            other => Err(FileError::Malformed(format!(
                "expected a number at {at}, found {}",
                kind(other)
            ))),
        }
    };
    let Json::Array(outer) = &json else {
        let x = number(&json, "the top level")?;
        return Ok(ArrayD::from_elem(IxDyn(&[]), x));
    };
    if !outer.first().is_some_and(Json::is_array) {
        let items = outer
            .iter()
            .enumerate()
            .map(|(i, v)| number(v, &format!("[{i}]")))
            .collect::<Result<Vec<f64>, _>>()?;
        return Ok(
            ArrayD::from_shape_vec(IxDyn(&[items.len()]), items).expect("length matches the shape")
        );
    }
    let mut flat = Vec::new();
    let mut cols = None;
    for (i, row) in outer.iter().enumerate() {
        let Json::Array(row) = row else {
            return Err(FileError::Malformed(format!(
                "row [{i}] is {}, but row [0] is an array",
                kind(row)
            )));
        };
        match cols {
            None => cols = Some(row.len()),
            Some(c) if c != row.len() => {
                return Err(FileError::Malformed(format!(
                    "matrix rows differ in length: row [0] has {c} elements, row [{i}] has {}",
                    row.len()
                )));
            }
            Some(_) => {}
        }
        for (j, v) in row.iter().enumerate() {
            if v.is_array() {
                return Err(FileError::Malformed(format!(
                    "[{i}][{j}] is an array: the tool takes vectors and matrices, not deeper arrays"
                )));
            }
            flat.push(number(v, &format!("[{i}][{j}]"))?);
        }
    }
    let shape = [outer.len(), cols.unwrap_or(0)];
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), flat).expect("length matches the shape"))
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Result<Value, FileError> {
        from_json(s.as_bytes()).map(Value::from_array)
    }

    #[test]
    fn json_scalars_vectors_matrices() {
        assert_eq!(json("2.5"), Ok(Value::Scalar(2.5)));
        assert_eq!(json("[1, 2]"), Ok(ndarray::array![1.0, 2.0].into()));
        assert_eq!(
            json("[[1, 2], [3, 4]]"),
            Ok(ndarray::array![[1.0, 2.0], [3.0, 4.0]].into())
        );
        assert_eq!(
            json("[\"-inf\"]"),
            Ok(ndarray::array![f64::NEG_INFINITY].into())
        );
    }

    /// A number in a JSON file is the double its text names, to the last
    /// bit: serde_json's default parser was off by an ulp for one number in
    /// six of these (its `float_roundtrip` feature is on since).
    #[test]
    fn json_numbers_are_read_exactly() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let numbers: Vec<f64> = (0..2000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                f64::from_bits(seed >> 2) // positive, finite, of every exponent
            })
            .collect();
        let text: Vec<String> = numbers.iter().map(|x| format!("{x:e}")).collect();
        let Value::Tensor(read) = json(&format!("[{}]", text.join(", "))).unwrap() else {
            panic!("a vector")
        };
        for (x, y) in numbers.iter().zip(read.iter()) {
            assert_eq!(x.to_bits(), y.to_bits(), "{x:e} read as {y:e}");
        }
    }

    #[test]
    fn malformed_json_says_why() {
        for (bad, why) in [
            ("[[1, 2], [3]]", "differ in length"),
            ("[[[1]]]", "not deeper arrays"),
            ("[1, [2]]", "expected a number at [1]"),
            ("{\"a\": 1}", "found an object"),
            ("[1, 2", "neither a .npy file nor valid JSON"),
            ("[[1], 2]", "row [1] is a number"),
        ] {
            match json(bad) {
                Err(FileError::Malformed(m)) => assert!(m.contains(why), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn npy_of_every_numeric_dtype_and_a_forged_header() {
        use ndarray_npy::WriteNpyExt;
        let mut f32s = Vec::new();
        ndarray::array![[1.5f32, 2.0]].write_npy(&mut f32s).unwrap();
        let v = Value::from_array(from_npy(&f32s).unwrap());
        assert_eq!(v, ndarray::array![[1.5, 2.0]].into());
        let mut ints = Vec::new();
        ndarray::arr0(7i64).write_npy(&mut ints).unwrap();
        assert_eq!(
            Value::from_array(from_npy(&ints).unwrap()),
            Value::Scalar(7.0)
        );
        // A header that promises 10¹¹ elements over 8 bytes of data is refused
        // before anything is allocated.
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }";
        let header = format!("{dict:<117}\n");
        let mut forged = b"\x93NUMPY\x01\x00".to_vec();
        forged.extend_from_slice(&(header.len() as u16).to_le_bytes());
        forged.extend_from_slice(header.as_bytes());
        forged.extend_from_slice(&[0; 8]);
        match from_npy(&forged) {
            Err(FileError::Malformed(m)) => assert!(m.contains("header promises"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_forged_header_length_is_refused_before_anything_is_allocated() {
        // Fuzzer (`values`, oom-a7ffad49…): version 2, a header length of 2.6 GB.
        let mut forged = b"\x93NUMPY\x02\x00\x9c\x9c\x9c\x9c".to_vec();
        forged.extend_from_slice(&[0x9c; 90]);
        match from_npy(&forged) {
            Err(FileError::Malformed(m)) => assert!(
                m.ends_with("its header claims 2627509404 bytes, but the file holds 90 after it"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        let short = b"\x93NUMPY\x01\x00\x05";
        assert!(matches!(from_npy(short), Err(FileError::Malformed(_))));
    }

    #[test]
    fn npy_header_errors_are_malformed() {
        let e = from_npy(b"\x93NUMPY\x01\x00junk").unwrap_err();
        assert!(matches!(e, FileError::Malformed(_)), "{e:?}");
    }
}
