//! Strings that share one allocation with their neighbours.
//!
//! A 100k-row import holds 100k email addresses. Each in its own `Box<str>` costs an
//! allocation, a free and the allocator's per-block overhead, about a tenth of the time
//! of checking a clean file. [`Arena`] copies them one after another into 16 KB chunks
//! instead; each [`SharedStr`] keeps its chunk alive through a count in the chunk's
//! header, and stays two words wide, the size of the `Box<str>` it replaces.
//!
//! Soundness rests on one rule: bytes are written only into the part of a chunk that no
//! [`SharedStr`] covers yet (`Arena::used..cap`), and never again once a `SharedStr`
//! covers them. Readers therefore only ever see initialised bytes that never change, and
//! the writer and readers never touch the same byte.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

/// Small enough that one address kept for long (a plan, a facts table) pins little.
const CHUNK: usize = 16 * 1024;

#[repr(C)]
struct Header {
    refs: AtomicUsize,
    cap: usize,
}

/// The chunk's allocation: the header, then `cap` bytes of text.
fn layout(cap: usize) -> Layout {
    let bytes =
        Layout::array::<u8>(cap).unwrap_or_else(|_| handle_alloc_error(Layout::new::<Header>()));
    match Layout::new::<Header>().extend(bytes) {
        Ok((l, _)) => l.pad_to_align(),
        Err(_) => handle_alloc_error(Layout::new::<Header>()),
    }
}

/// One counted reference to a chunk.
struct Chunk(NonNull<Header>);

// SAFETY: the header's count is atomic, and the text bytes a `Chunk` can be used to read
// are immutable (see the module's rule), so chunks may be shared and sent like `Arc`.
unsafe impl Send for Chunk {}
unsafe impl Sync for Chunk {}

impl Chunk {
    fn new(cap: usize) -> Chunk {
        let l = layout(cap);
        // SAFETY: the layout is never zero-sized: it holds at least the header.
        let raw = unsafe { alloc(l) }.cast::<Header>();
        let Some(ptr) = NonNull::new(raw) else {
            handle_alloc_error(l)
        };
        // SAFETY: freshly allocated, aligned for Header, and large enough for it.
        unsafe {
            ptr.as_ptr().write(Header {
                refs: AtomicUsize::new(1),
                cap,
            })
        };
        Chunk(ptr)
    }

    fn header(&self) -> &Header {
        // SAFETY: the allocation lives while this reference is counted.
        unsafe { self.0.as_ref() }
    }

    fn cap(&self) -> usize {
        self.header().cap
    }

    /// Start of the text bytes, right after the header.
    fn text(&self) -> *mut u8 {
        // SAFETY: the header is followed by `cap` bytes in the same allocation (see
        // `layout`); Header's size is a multiple of its alignment, so no padding between.
        unsafe {
            self.0
                .as_ptr()
                .cast::<u8>()
                .add(std::mem::size_of::<Header>())
        }
    }

    fn share(&self) -> Chunk {
        let before = self.header().refs.fetch_add(1, Ordering::Relaxed);
        // As `Arc` does: a count this high means references are being leaked in a loop.
        if before > isize::MAX as usize {
            std::process::abort();
        }
        Chunk(self.0)
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if self.header().refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Every other reference's reads happen before the memory is freed.
        fence(Ordering::Acquire);
        let cap = self.cap();
        // SAFETY: this was the last reference; the allocation was made with this layout.
        unsafe { dealloc(self.0.as_ptr().cast::<u8>(), layout(cap)) };
    }
}

/// Immutable text in a chunk, shared or alone.
pub(crate) struct SharedStr {
    chunk: Chunk,
    start: u32,
    len: u32,
}

impl SharedStr {
    /// Text in a chunk of its own: one allocation, as `Box<str>` would take.
    pub(crate) fn new(s: &str) -> SharedStr {
        let len = u32::try_from(s.len()).expect("strings kept here are short");
        let chunk = Chunk::new(s.len());
        // SAFETY: the chunk has exactly `s.len()` unwritten bytes; nothing refers to them.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), chunk.text(), s.len()) };
        SharedStr {
            chunk,
            start: 0,
            len,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // SAFETY: bytes start..start+len were copied from a &str before this value was
        // made and are never written again, and the chunk lives as long as `self`.
        unsafe {
            let bytes = std::slice::from_raw_parts(
                self.chunk.text().add(self.start as usize),
                self.len as usize,
            );
            std::str::from_utf8_unchecked(bytes)
        }
    }
}

impl Clone for SharedStr {
    fn clone(&self) -> Self {
        SharedStr {
            chunk: self.chunk.share(),
            start: self.start,
            len: self.len,
        }
    }
}

/// Appends strings into shared chunks. Only the arena writes, and only past `used`.
#[derive(Default)]
pub(crate) struct Arena {
    chunk: Option<Chunk>,
    used: usize,
}

impl Arena {
    pub(crate) fn store(&mut self, s: &str) -> SharedStr {
        let n = s.len();
        // Long strings would waste most of a chunk; they get their own.
        if n > CHUNK / 8 {
            return SharedStr::new(s);
        }
        let room = self.chunk.as_ref().map(|c| c.cap() - self.used);
        if room.is_none_or(|room| room < n) {
            self.chunk = Some(Chunk::new(CHUNK));
            self.used = 0;
        }
        let chunk = self
            .chunk
            .as_ref()
            .expect("a chunk with room was just ensured");
        // SAFETY: used + n <= cap, and bytes from `used` on are covered by no SharedStr.
        unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), chunk.text().add(self.used), n) };
        let out = SharedStr {
            chunk: chunk.share(),
            start: self.used as u32,
            len: n as u32,
        };
        self.used += n;
        out
    }
}

/// A copy starts its own chunks: two arenas writing into one chunk's free tail would
/// overwrite each other's text.
impl Clone for Arena {
    fn clone(&self) -> Self {
        Arena::default()
    }
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Arena {{ used: {} }}", self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_strings_read_back_after_the_arena_and_other_copies_are_gone() {
        let mut arena = Arena::default();
        let kept: Vec<SharedStr> = (0..2_000)
            .map(|i| arena.store(&format!("p{i}@x.org")))
            .collect();
        let copies: Vec<SharedStr> = kept.iter().step_by(7).cloned().collect();
        drop(arena);
        drop(kept);
        for (n, s) in copies.iter().enumerate() {
            assert_eq!(s.as_str(), format!("p{}@x.org", n * 7));
        }
    }

    #[test]
    fn long_and_empty_strings_stand_alone() {
        let mut arena = Arena::default();
        let long = "é".repeat(CHUNK);
        assert_eq!(arena.store(&long).as_str(), long);
        assert_eq!(arena.store("").as_str(), "");
        assert_eq!(SharedStr::new("").as_str(), "");
    }

    #[test]
    fn strings_move_to_other_threads() {
        let mut arena = Arena::default();
        let s = arena.store("ana@school.org");
        let t = std::thread::spawn(move || s.as_str().to_string());
        // The arena keeps writing into the same chunk meanwhile.
        let next = arena.store("bo@school.org");
        assert_eq!(t.join().unwrap(), "ana@school.org");
        assert_eq!(next.as_str(), "bo@school.org");
    }

    proptest::proptest! {
        #[test]
        fn any_strings_read_back_as_stored(
            runs in proptest::collection::vec((proptest::char::any(), 0usize..3_000), 0..200),
        ) {
            // Runs of one character: cheap to generate, and long enough to cross chunk
            // ends and to take the stand-alone path.
            let items: Vec<String> = runs.iter().map(|(c, n)| c.to_string().repeat(*n)).collect();
            let mut arena = Arena::default();
            let stored: Vec<SharedStr> = items.iter().map(|s| arena.store(s)).collect();
            for (s, t) in stored.iter().zip(&items) {
                proptest::prop_assert_eq!(s.as_str(), t.as_str());
            }
        }
    }
}
