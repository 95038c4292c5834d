//! Content-derived unit ids.
//!
//! An id hashes what a reviewer approves: the file's path(s), the hunk's position on the old side
//! and its lines. It survives a re-diff while that hunk is unchanged (other hunks of the file may
//! come and go, since they do not move its old-side position) and changes with its content or
//! position, so an approval given to an older version is refused as stale, never guessed.
//! The new-side start is left out on purpose: rejecting a hunk above must not invalidate the
//! approval of one below.

use git2::{ObjectType, Oid};

pub struct IdHasher(Vec<u8>);

impl IdHasher {
    pub fn new(kind: &str, old_path: &[u8], new_path: &[u8]) -> Self {
        let mut buf = b"arcbench-unit-v1\0".to_vec();
        for part in [kind.as_bytes(), old_path, new_path] {
            buf.extend_from_slice(&(part.len() as u64).to_le_bytes());
            buf.extend_from_slice(part);
        }
        IdHasher(buf)
    }

    pub fn num(&mut self, n: u64) -> &mut Self {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }

    pub fn bytes(&mut self, tag: u8, b: &[u8]) -> &mut Self {
        self.0.push(tag);
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
        self
    }

    /// 16 hex digits (64 bits): ample for the units of one session, short enough for URLs.
    pub fn finish(&self) -> String {
        let oid =
            Oid::hash_object(ObjectType::Blob, &self.0).expect("hashing a buffer cannot fail");
        oid.to_string()[..16].to_owned()
    }
}
