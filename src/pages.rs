//! The binary's allocator: the system's, with one change. Allocations of
//! [`HUGE`] bytes or more are marked for transparent huge pages
//! (`madvise(MADV_HUGEPAGE)`), so that the kernel backs them with 2 MiB pages
//! where it can instead of faulting them in 4 KiB at a time.
//!
//! Why: a large circuit's buffers (the DAG, every gate's value and gradient)
//! are written once, front to back, right after they are allocated. Profiled on
//! the 100 000-stage forked chain, the 4 KiB page faults of those first writes
//! were a fifth to a quarter of the whole `--summary` run (about 12 000 faults,
//! each zeroing a page and charging it to the memory cgroup); marked, they are
//! a few hundred. Smaller allocations — every run on a small program — are
//! untouched, and where the kernel has no huge pages the advice is ignored.
//!
//! Linux only; elsewhere the binary uses the system allocator as it is.

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations from this size on are advised: big enough that at most one
/// partly used huge page per allocation (memory the process may hold beyond
/// what it writes) is a small fraction of it.
pub const HUGE: usize = 4 << 20;

/// A huge page. Large blocks start on one, so that all of the block but its
/// last part is whole huge pages (glibc puts a large block 16 bytes into a
/// fresh mapping: up to two huge pages' worth at its ends would be faulted in
/// 4 KiB at a time).
const HUGE_PAGE: usize = 2 << 20;

/// The system allocator, advising the kernel to back large blocks with huge
/// pages. Install it with `#[global_allocator]`.
pub struct HugePageAlloc;

/// True for blocks this allocator places itself, with `malloc`'s family.
fn huge(layout: &Layout) -> bool {
    layout.size() >= HUGE && layout.align() <= 16
}

/// Advises huge pages for the block `[ptr, ptr + size)`.
fn advise(ptr: *mut u8, size: usize) {
    if ptr.is_null() {
        return;
    }
    // madvise takes page-aligned ranges: the whole pages inside the block.
    const PAGE: usize = 4096;
    let start = (ptr as usize).next_multiple_of(PAGE);
    let end = (ptr as usize + size) & !(PAGE - 1);
    if end > start {
        // SAFETY: the range lies inside a block just handed out; MADV_HUGEPAGE
        // changes how it is backed, never its contents. A failure (a kernel
        // without THP) leaves it as it was.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

// SAFETY: small blocks and unusual alignments go to `System` unchanged. Large
// blocks come from `posix_memalign`, `calloc` or `realloc` and go back with
// `free`, which is how `System` itself allocates on Unix; `huge` decides from
// the layout alone, so every block is freed by the family that made it.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !huge(&layout) {
            // SAFETY: the caller's contract is `System`'s.
            return unsafe { System.alloc(layout) };
        }
        let mut p: *mut libc::c_void = std::ptr::null_mut();
        // SAFETY: HUGE_PAGE is a power of two and a multiple of the pointer size.
        if unsafe { libc::posix_memalign(&mut p, HUGE_PAGE, layout.size()) } != 0 {
            return std::ptr::null_mut();
        }
        advise(p.cast(), layout.size());
        p.cast()
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !huge(&layout) {
            // SAFETY: as above.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // calloc maps fresh memory without touching it, so the advice still counts.
        // SAFETY: a plain calloc of one block.
        let p = unsafe { libc::calloc(1, layout.size()) }.cast::<u8>();
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if huge(&layout) {
            // SAFETY: a large block came from malloc's family (see above).
            unsafe { libc::free(ptr.cast()) }
        } else {
            // SAFETY: as above.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if layout.align() > 16 || (old < HUGE && new_size < HUGE) {
            // SAFETY: as above.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if old < HUGE {
            // Growing into a large block: a fresh one on a huge page boundary.
            // SAFETY: `new_size` is nonzero (it is at least HUGE) and the
            // alignment is the caller's.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as for `alloc`.
            let p = unsafe { self.alloc(new_layout) };
            if !p.is_null() {
                // SAFETY: both blocks hold at least `old` bytes and are distinct.
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, p, old);
                    self.dealloc(ptr, layout);
                }
            }
            return p;
        }
        // A large block grows (glibc moves it with mremap, without copying) or
        // shrinks; either way it stays malloc's.
        // SAFETY: `ptr` came from malloc's family (see above).
        let p = unsafe { libc::realloc(ptr.cast(), new_size) }.cast::<u8>();
        if new_size >= HUGE {
            advise(p, new_size);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks cross the threshold both ways and keep their bytes.
    #[test]
    fn blocks_keep_their_contents_across_the_threshold() {
        let a = HugePageAlloc;
        let small = Layout::from_size_align(HUGE / 2, 8).unwrap();
        // SAFETY: each block is used within its size and freed with its layout.
        unsafe {
            let p = a.alloc(small);
            assert!(!p.is_null());
            for k in 0..small.size() {
                *p.add(k) = (k % 251) as u8;
            }
            let big = a.realloc(p, small, 3 * HUGE);
            assert_eq!(
                big as usize % HUGE_PAGE,
                0,
                "a large block starts on a huge page"
            );
            assert!((0..small.size()).all(|k| *big.add(k) == (k % 251) as u8));
            let bigger = a.realloc(big, Layout::from_size_align(3 * HUGE, 8).unwrap(), 5 * HUGE);
            assert!((0..small.size()).all(|k| *bigger.add(k) == (k % 251) as u8));
            let back = a.realloc(bigger, Layout::from_size_align(5 * HUGE, 8).unwrap(), 100);
            assert!((0..100).all(|k| *back.add(k) == (k % 251) as u8));
            a.dealloc(back, Layout::from_size_align(100, 8).unwrap());

            let zeroed = Layout::from_size_align(2 * HUGE, 8).unwrap();
            let z = a.alloc_zeroed(zeroed);
            assert!((0..zeroed.size()).step_by(4093).all(|k| *z.add(k) == 0));
            a.dealloc(z, zeroed);
        }
    }
}
