//! Reading zip entries without trusting them.
//!
//! A zip entry's declared size is only a claim: deflate can expand a few KB into
//! gigabytes, and a lying header can declare 1 KB for an entry that inflates to 1 GB. So
//! every entry is read through [`CappedEntry`], which fails as soon as the entry inflates
//! past its declared size, as soon as the bytes inflated from the whole file pass
//! `Limits::max_uncompressed_bytes`, and as soon as one XML event (a tag, a text node)
//! grows past what any honest cell needs. The XML parsers above it read in small
//! chunks, so none of these can be reached by buffering first.

use std::cell::Cell;
use std::io::{self, Read};

use super::ParseError;

/// Bytes inflated so far from one zip file, shared by all of its entries.
#[derive(Debug)]
pub(crate) struct Budget {
    used: Cell<u64>,
    limit: u64,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Self {
        Budget {
            used: Cell::new(0),
            limit,
        }
    }

    #[cfg(test)]
    pub(crate) fn used(&self) -> u64 {
        self.used.get()
    }
}

/// Why a [`CappedEntry`] stopped reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Overrun {
    /// The entry inflated past the size its header declared.
    Declared { entry: String, declared: u64 },
    /// All entries together passed the file's unpacked-size limit.
    Budget { used: u64, limit: u64 },
    /// One XML event grew past `max_event` bytes.
    Event { entry: String, limit: u64 },
}

impl Overrun {
    pub(crate) fn into_error(self) -> ParseError {
        match self {
            Overrun::Declared { entry, declared } => ParseError::CorruptSpreadsheet {
                message: format!(
                    "the part {entry} unpacks to more than the {declared} bytes it declares, so the file is damaged or deliberately inflated"
                ),
            },
            Overrun::Budget { used, limit } => ParseError::UnpackedTooLarge {
                uncompressed: used,
                limit,
            },
            Overrun::Event { entry, limit } => ParseError::CorruptSpreadsheet {
                message: format!(
                    "the part {entry} holds a single piece of XML over {} KB, more than any cell within the limits needs",
                    limit / 1024
                ),
            },
        }
    }
}

/// A reader over one inflated zip entry that refuses to give more than the entry
/// declared, more than the file's budget, or more than `max_event` bytes since the
/// caller last called [`CappedEntry::mark`].
pub(crate) struct CappedEntry<'b, R> {
    inner: R,
    entry: String,
    declared: u64,
    read: u64,
    budget: &'b Budget,
    mark: u64,
    max_event: u64,
    overrun: Option<Overrun>,
}

impl<'b, R: Read> CappedEntry<'b, R> {
    pub(crate) fn new(inner: R, entry: &str, declared: u64, budget: &'b Budget) -> Self {
        CappedEntry {
            inner,
            entry: entry.to_string(),
            declared,
            read: 0,
            budget,
            mark: 0,
            max_event: u64::MAX,
            overrun: None,
        }
    }

    /// Fails reads once `max_event` bytes have been read past the last mark.
    pub(crate) fn with_max_event(mut self, max_event: u64) -> Self {
        self.max_event = max_event;
        self
    }

    /// Records that everything read so far has been consumed by a finished event.
    pub(crate) fn mark(&mut self) {
        self.mark = self.read;
    }

    /// What stopped the reader, if it stopped on a limit rather than a real I/O error.
    pub(crate) fn overrun(&self) -> Option<&Overrun> {
        self.overrun.as_ref()
    }

    fn stop(&mut self, why: Overrun) -> io::Error {
        self.overrun = Some(why);
        io::Error::other("limit reached")
    }
}

impl<R: Read> Read for CappedEntry<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.overrun.is_some() {
            return Err(io::Error::other("limit reached"));
        }
        // Ask for at most one byte past the declared size: enough to notice a lie
        // without inflating a large chunk of it.
        let room = self.declared.saturating_sub(self.read).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(n) => n,
            // The zip reader may notice the lie itself, while inflating the last chunk.
            Err(e) if e.to_string().contains("larger than its declared") => {
                let why = Overrun::Declared {
                    entry: self.entry.clone(),
                    declared: self.declared,
                };
                return Err(self.stop(why));
            }
            Err(e) => return Err(e),
        };
        self.read += n as u64;
        let used = self.budget.used.get() + n as u64;
        self.budget.used.set(used);
        if self.read > self.declared {
            let why = Overrun::Declared {
                entry: self.entry.clone(),
                declared: self.declared,
            };
            return Err(self.stop(why));
        }
        if used > self.budget.limit {
            let why = Overrun::Budget {
                used,
                limit: self.budget.limit,
            };
            return Err(self.stop(why));
        }
        if self.read - self.mark > self.max_event {
            let why = Overrun::Event {
                entry: self.entry.clone(),
                limit: self.max_event,
            };
            return Err(self.stop(why));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn an_entry_within_its_declared_size_reads_whole() {
        let budget = Budget::new(100);
        let mut r = CappedEntry::new(&b"hello"[..], "a.xml", 5, &budget);
        assert_eq!(read_all(&mut r).unwrap(), b"hello");
        assert_eq!(budget.used(), 5);
    }

    #[test]
    fn an_entry_inflating_past_its_declared_size_stops_one_byte_later() {
        let budget = Budget::new(1_000);
        let data = vec![b'x'; 500];
        let mut r = CappedEntry::new(&data[..], "xl/worksheets/sheet1.xml", 10, &budget);
        assert!(read_all(&mut r).is_err());
        assert_eq!(
            r.overrun(),
            Some(&Overrun::Declared {
                entry: "xl/worksheets/sheet1.xml".into(),
                declared: 10
            })
        );
        assert_eq!(budget.used(), 11);
    }

    #[test]
    fn the_budget_is_shared_by_every_entry_of_a_file() {
        let budget = Budget::new(8);
        let mut a = CappedEntry::new(&b"12345"[..], "a", 5, &budget);
        read_all(&mut a).unwrap();
        let mut b = CappedEntry::new(&b"12345"[..], "b", 5, &budget);
        assert!(read_all(&mut b).is_err());
        assert!(matches!(
            b.overrun(),
            Some(Overrun::Budget { limit: 8, .. })
        ));
    }

    #[test]
    fn an_event_longer_than_the_cap_stops_the_reader_until_marked() {
        let budget = Budget::new(u64::MAX);
        let data = [b'x'; 64];
        let mut r = CappedEntry::new(&data[..], "s", 64, &budget).with_max_event(16);
        let mut buf = [0u8; 10];
        assert_eq!(r.read(&mut buf).unwrap(), 10);
        r.mark();
        assert_eq!(r.read(&mut buf).unwrap(), 10);
        assert!(r.read(&mut buf).is_err());
        assert!(matches!(
            r.overrun(),
            Some(Overrun::Event { limit: 16, .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn the_capped_reader_gives_exactly_the_data_or_stops_on_the_first_limit(
            len in 0usize..4096,
            declared in 0u64..4096,
            limit in 0u64..4096,
            chunk in 1usize..700,
        ) {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let budget = Budget::new(limit);
            let mut r = CappedEntry::new(&data[..], "e", declared, &budget);
            let mut out = Vec::new();
            let mut buf = vec![0u8; chunk];
            let result = loop {
                match r.read(&mut buf) {
                    Ok(0) => break Ok(()),
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                    Err(e) => break Err(e),
                }
            };
            let fits = len as u64 <= declared && len as u64 <= limit;
            proptest::prop_assert_eq!(result.is_ok(), fits);
            if fits {
                proptest::prop_assert_eq!(&out, &data);
            } else {
                // Never more than one byte past whichever limit was hit.
                proptest::prop_assert!(budget.used() <= declared.min(limit) + chunk as u64);
                proptest::prop_assert!(out.len() as u64 <= declared.min(limit));
                proptest::prop_assert!(r.overrun().is_some());
            }
        }
    }
}
