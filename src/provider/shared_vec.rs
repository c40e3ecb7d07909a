//! A vector shared by reference count, for the bars a feed hands out in every snapshot
//! (issue 25 item 2): taking a snapshot clones a pointer per symbol instead of copying
//! each symbol's whole history for each consumer that asks.
//!
//! Reads go through `Deref<Target = [T]>`, so a consumer uses `snapshot.bars` as the
//! slice it always was (`len`, `last`, `iter`, `[..]`). The owner (the live session)
//! appends with [`SharedVec::push`]: in place while no snapshot holds the vector, else
//! on a fresh copy (copy on write), leaving the snapshot's bars exactly as they were.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone, PartialEq)]
pub struct SharedVec<T>(Arc<Vec<T>>);

impl<T> SharedVec<T> {
    /// Whether `other` is the same vector (not only equal elements): a snapshot shares it.
    pub fn shares_with(&self, other: &SharedVec<T>) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T: Clone> SharedVec<T> {
    /// The vector to change: the same one when nobody else holds it, else a copy with
    /// room for half as many again, so the appends after a snapshot copy once.
    pub fn make_mut(&mut self) -> &mut Vec<T> {
        if Arc::get_mut(&mut self.0).is_none() {
            let mut copy = Vec::with_capacity(self.0.len() + self.0.len() / 2 + 1);
            copy.extend_from_slice(&self.0);
            self.0 = Arc::new(copy);
        }
        Arc::get_mut(&mut self.0).expect("a vector just made unique")
    }

    pub fn push(&mut self, item: T) {
        self.make_mut().push(item);
    }
}

impl<T> Default for SharedVec<T> {
    fn default() -> Self {
        SharedVec(Arc::new(Vec::new()))
    }
}

impl<T> From<Vec<T>> for SharedVec<T> {
    fn from(v: Vec<T>) -> Self {
        SharedVec(Arc::new(v))
    }
}

impl<T> FromIterator<T> for SharedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        SharedVec(Arc::new(iter.into_iter().collect()))
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
    fn an_owner_alone_changes_in_place_and_an_empty_one_reads_as_empty() {
        let mut alone: SharedVec<u32> = SharedVec::default();
        assert!(alone.is_empty());
        alone.push(7);
        alone.make_mut()[0] = 8;
        assert_eq!(alone.iter().copied().collect::<Vec<_>>(), [8]);
    }
}
