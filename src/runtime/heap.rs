//! Gives the memory the C allocator holds free back to the system, after the start-up's
//! burst (issue 25 item 1): loading every symbol's history and priming the detectors
//! allocate and free hundreds of MB at 8,000 symbols, and glibc's malloc keeps freed
//! pages inside its heaps and arenas, so the process stays that large for its life.
//! `malloc_trim(0)` returns every whole free page (the top of each heap and the holes).
//! Elsewhere than glibc it does nothing.

/// Arenas glibc's malloc may keep: two (one per core here), not its default of eight per
/// core. Each thread that allocates under contention gets an arena of its own, and memory
/// freed in one arena serves no other: with tokio's workers and blocking threads the
/// dashboard and `coach serve` held up to a third more than their heap (issue 25: `coach
/// serve` on 8,000 simulated symbols, steady 522 MB with the default, 343 MB with two).
const MALLOC_ARENAS: i32 = 2;

/// Caps glibc's malloc arenas at [`MALLOC_ARENAS`]; call first in `main`, before any thread
/// starts. A no-op where the allocator is not glibc's.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets one of glibc's own tunables; it takes no pointer of ours.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}

/// Returns whole free pages of the allocator's heaps to the system; a no-op where the
/// allocator is not glibc's. Costs a walk of the free lists (milliseconds): call it after
/// a burst, never per event.
pub fn release_freed_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims glibc's own free lists; it takes no
    // pointer of ours and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
