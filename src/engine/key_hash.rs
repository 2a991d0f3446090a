//! The hasher of tables whose keys the server chooses: session ids (random, made by the
//! server), namespace and event names (registered by the application). Requests look keys up
//! but never decide what is inserted, so nobody can aim collisions at these tables, and a
//! plain multiply-rotate hash, eight bytes at a time, spreads the keys as well as SipHash does
//! at a fraction of its cost on the broadcast and event paths.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A map keyed by names the server chose: a namespace's event routes, a client's joined
/// namespaces.
pub(crate) type NameMap<V> = HashMap<String, V, BuildHasherDefault<KeyHasher>>;

/// See the [module](self).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // The multiply leaves the high bits best mixed; fold them into the low ones, which
        // pick the bucket.
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        // The length first: "a" and "a\0" pad to the same last word.
        self.add(bytes.len() as u64);
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("eight bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn name_maps_find_names_and_hash_them_apart() {
        let names = [
            "",
            "a",
            "a\0",
            "ab",
            "ba",
            "message",
            "messages",
            "chat message",
            "/",
            "/admin",
        ];
        let mut map: HashMap<String, usize, BuildHasherDefault<KeyHasher>> = HashMap::default();
        for (i, name) in names.iter().enumerate() {
            map.insert(name.to_string(), i);
        }
        for (i, name) in names.iter().enumerate() {
            assert_eq!(map.get(*name), Some(&i));
        }
        assert_eq!(map.get("abc"), None);
        let hashes: HashSet<u64> = names
            .iter()
            .map(|name| BuildHasherDefault::<KeyHasher>::default().hash_one(name))
            .collect();
        assert_eq!(hashes.len(), names.len());
    }
}
