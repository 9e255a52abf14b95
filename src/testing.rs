//! What the unit tests share.

/// A xorshift generator from `seed`: each call gives a number below `n`.
/// Tests draw their random programs from it, the same ones on every run.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}
