//! Gives the memory the C allocator holds free back to the system, after the start-up's
//! burst (issue 25 item 1): loading every symbol's history and priming the detectors
//! allocate and free hundreds of MB at 8,000 symbols, and glibc's malloc keeps freed
//! pages inside its heaps and arenas, so the process stays that large for its life.
//! `malloc_trim(0)` returns every whole free page (the top of each heap and the holes).
//! Elsewhere than glibc it does nothing.

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
