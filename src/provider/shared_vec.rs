//! A vector shared by reference count, for the bars a feed hands out in every snapshot
//! (issue 25 item 2): taking a snapshot clones a pointer per symbol instead of copying
//! each symbol's whole history for each consumer that asks.
//!
//! Reads go through `Deref<Target = [T]>`, so a consumer uses `snapshot.bars` as the
//! slice it always was (`len`, `last`, `iter`, `[..]`). The owner (the live session)
//! appends with [`SharedVec::push`]: in place while no snapshot holds the vector, else
//! on a fresh copy (copy on write), leaving the snapshot's bars exactly as they were.
//!
//! Memory (issue 25 item 1): a vector is held with no spare room when it is made (the
//! REST answers arrive in vectors grown by doubling, and a filtered `collect` may keep a
//! whole answer's buffer for a few bars: at 8,000 symbols ~57 KB per symbol unused), and
//! it grows by at most [`MAX_SPARE`] elements at a time (a day's minute bars by an hour
//! at a time, instead of doubling to 1,024 for 960).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Most spare elements an append leaves room for (elements, not bytes): 64 minute bars
/// are 3.6 KB, about an hour of a symbol's minutes.
pub const MAX_SPARE: usize = 64;

/// Room to add to a full vector of `len` elements: half as many again plus one, at most
/// [`MAX_SPARE`].
fn spare_for(len: usize) -> usize {
    (len / 2 + 1).min(MAX_SPARE)
}

#[derive(Clone, PartialEq)]
pub struct SharedVec<T>(Arc<Vec<T>>);

impl<T> SharedVec<T> {
    /// Whether `other` is the same vector (not only equal elements): a snapshot shares it.
    pub fn shares_with(&self, other: &SharedVec<T>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Elements the held vector has room for (its length plus spare room).
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<T: Clone> SharedVec<T> {
    /// The vector to change: the same one when nobody else holds it, else a copy with
    /// room for half as many again (at most [`MAX_SPARE`]), so the appends after a
    /// snapshot copy once.
    pub fn make_mut(&mut self) -> &mut Vec<T> {
        if Arc::get_mut(&mut self.0).is_none() {
            let mut copy = Vec::with_capacity(self.0.len() + spare_for(self.0.len()));
            copy.extend_from_slice(&self.0);
            self.0 = Arc::new(copy);
        }
        Arc::get_mut(&mut self.0).expect("a vector just made unique")
    }

    /// Appends `item`; a full vector grows by [`spare_for`] its length, not by doubling.
    pub fn push(&mut self, item: T) {
        let v = self.make_mut();
        if v.len() == v.capacity() {
            v.reserve_exact(spare_for(v.len()));
        }
        v.push(item);
    }
}

impl<T> Default for SharedVec<T> {
    fn default() -> Self {
        SharedVec(Arc::new(Vec::new()))
    }
}

/// Held with no spare room (see the module's note on memory).
impl<T> From<Vec<T>> for SharedVec<T> {
    fn from(mut v: Vec<T>) -> Self {
        v.shrink_to_fit();
        SharedVec(Arc::new(v))
    }
}

impl<T> FromIterator<T> for SharedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        iter.into_iter().collect::<Vec<T>>().into()
    }
}

impl<T> Deref for SharedVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T> IntoIterator for &'a SharedVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for SharedVec<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.0.as_slice() == other.as_slice()
    }
}

impl<T: fmt::Debug> fmt::Debug for SharedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_slice().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_shares_the_bars_and_keeps_them_when_the_owner_appends() {
        let mut owner: SharedVec<u32> = vec![1, 2, 3].into();
        let snapshot = owner.clone();
        assert!(snapshot.shares_with(&owner), "taking it copied nothing");
        owner.push(4);
        assert_eq!(snapshot, vec![1, 2, 3], "the snapshot is as it was taken");
        assert_eq!(owner, vec![1, 2, 3, 4]);
        assert!(!snapshot.shares_with(&owner));
        let before = owner.as_ptr();
        owner.push(5);
        assert_eq!(
            owner.as_ptr(),
            before,
            "no snapshot holds it: appended in place"
        );
        assert_eq!(owner.len(), 5);
    }

    #[test]
    fn history_is_held_without_spare_room_and_grows_by_at_most_max_spare() {
        // a REST answer's buffer: room for 512 bars, 15 of them today's
        let mut answer: Vec<u32> = Vec::with_capacity(512);
        answer.extend(0..15);
        let mut held: SharedVec<u32> = answer.into();
        assert_eq!(held.capacity(), 15, "no spare room once held");
        held.push(15);
        assert_eq!((held.len(), held.capacity()), (16, 15 + 8));
        for i in 16..1_000 {
            held.push(i);
            assert!(
                held.capacity() - held.len() <= MAX_SPARE,
                "at {} bars the spare room is {}",
                held.len(),
                held.capacity() - held.len()
            );
        }
        assert_eq!(held.len(), 1_000);
        assert_eq!(
            held.iter().copied().collect::<Vec<_>>(),
            (0..1_000).collect::<Vec<_>>()
        );
        // a snapshot holds it: the copy gets bounded room too, the snapshot none added
        let snapshot = held.clone();
        held.push(1_000);
        assert_eq!(held.capacity(), 1_000 + MAX_SPARE);
        assert_eq!(snapshot.len(), 1_000);
        let collected: SharedVec<u32> = (0..300).filter(|i| i % 3 == 0).collect();
        assert_eq!(collected.capacity(), 100);
    }

    #[test]
    fn an_owner_alone_changes_in_place_and_an_empty_one_reads_as_empty() {
        let mut alone: SharedVec<u32> = SharedVec::default();
        assert!(alone.is_empty());
        alone.push(7);
        alone.make_mut()[0] = 8;
        assert_eq!(alone.iter().copied().collect::<Vec<_>>(), [8]);
    }
}
