//! Session ids.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::key_hash::KeyHasher;

/// The length of a session id: 15 random bytes in URL-safe base64.
const LEN: usize = 20;

/// An Engine.IO session id: 20 characters of URL-safe base64 drawn from 120 random bits (the
/// shape of the Node server's ids), kept inline so that copying and hashing it costs nothing.
///
/// The id is a bearer credential for its session over HTTP long-polling, so it comes from the
/// operating system's cryptographically secure generator (through `rand`'s `ThreadRng`).
///
/// ```
/// use tower_socketio::engine::Sid;
///
/// let sid = Sid::new();
/// assert_eq!(sid.as_str().len(), 20);
/// let parsed: Sid = sid.to_string().parse().unwrap();
/// assert_eq!(parsed, sid);
/// assert!("not an id".parse::<Sid>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sid([u8; LEN]);

impl Sid {
    /// A new random id.
    ///
    /// ```
    /// use tower_socketio::engine::Sid;
    ///
    /// assert_ne!(Sid::new(), Sid::new());
    /// ```
    pub fn new() -> Self {
        let mut random = [0u8; 15];
        rand::rng().fill_bytes(&mut random);
        let mut id = [0u8; LEN];
        // 15 bytes encode to exactly 20 base64 characters.
        let written = URL_SAFE_NO_PAD
            .encode_slice(random, &mut id)
            .expect("15 bytes always fit in 20 base64 characters");
        debug_assert_eq!(written, LEN);
        Sid(id)
    }

    /// The id as text.
    ///
    /// ```
    /// use tower_socketio::engine::Sid;
    ///
    /// let sid = Sid::new();
    /// let room: &str = sid.as_str(); // a socket's own room is named by its id
    /// # let _ = room;
    /// ```
    pub fn as_str(&self) -> &str {
        // Only ever built from base64 characters, checked in `from_str`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Hash for Sid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Random characters: the first eight carry 48 random bits, plenty for a hash table.
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

/// A map keyed by session id.
pub(crate) type SidMap<V> = HashMap<Sid, V, BuildHasherDefault<KeyHasher>>;
/// A set of session ids.
pub(crate) type SidSet = HashSet<Sid, BuildHasherDefault<KeyHasher>>;

/// Gives back the spare room of a table after a removal, once it holds under a quarter of its
/// capacity: a table that held the peak of a burst of connections keeps that capacity otherwise
/// (about 30 bytes a peak entry). Shrinking to twice the length leaves room to grow again, so
/// the cost stays constant per removal on average.
pub(crate) fn shrink_map<K: Eq + Hash, V, S: BuildHasher>(map: &mut HashMap<K, V, S>) {
    if map.capacity() > 64 && map.len() < map.capacity() / 4 {
        map.shrink_to(map.len() * 2);
    }
}

/// [`shrink_map`] for a set.
pub(crate) fn shrink_set<K: Eq + Hash, S: BuildHasher>(set: &mut HashSet<K, S>) {
    if set.capacity() > 64 && set.len() < set.capacity() / 4 {
        set.shrink_to(set.len() * 2);
    }
}

/// As its text.
impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// From its text; anything but 20 URL-safe base64 characters is an error.
impl<'de> serde::Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Default for Sid {
    fn default() -> Self {
        Sid::new()
    }
}

/// Which bytes are URL-safe base64 characters.
const BASE64_URL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    table
};

/// The error of parsing a [`Sid`] that is not 20 URL-safe base64 characters.
///
/// ```
/// use tower_socketio::engine::{InvalidSid, Sid};
///
/// assert_eq!("too short".parse::<Sid>(), Err(InvalidSid));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidSid;

impl fmt::Display for InvalidSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid session id")
    }
}

impl std::error::Error for InvalidSid {}

impl FromStr for Sid {
    type Err = InvalidSid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes: [u8; LEN] = s.as_bytes().try_into().map_err(|_| InvalidSid)?;
        if bytes.iter().all(|b| BASE64_URL[usize::from(*b)]) {
            Ok(Sid(bytes))
        } else {
            Err(InvalidSid)
        }
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_give_back_their_peak() {
        let mut map = SidMap::default();
        let ids: Vec<Sid> = (0..10_000).map(|_| Sid::new()).collect();
        for id in &ids {
            map.insert(*id, ());
        }
        let peak = map.capacity();
        for id in &ids[10..] {
            map.remove(id);
            shrink_map(&mut map);
        }
        assert_eq!(map.len(), 10);
        assert!(map.capacity() <= 128, "{} of {peak}", map.capacity());
        // It grows again as needed.
        for _ in 0..100 {
            map.insert(Sid::new(), ());
        }
        assert_eq!(map.len(), 110);
        let mut set = SidSet::default();
        set.extend(ids.iter().copied());
        for id in &ids[1..] {
            set.remove(id);
            shrink_set(&mut set);
        }
        assert!(set.capacity() <= 128);
    }

    #[test]
    fn ids_are_unique_and_parse_back() {
        let a = Sid::new();
        let b = Sid::new();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 20);
        assert_eq!(a.as_str().parse::<Sid>(), Ok(a));
        assert_eq!("short".parse::<Sid>(), Err(InvalidSid));
        assert_eq!("aaaaaaaaaaaaaaaaaaa/".parse::<Sid>(), Err(InvalidSid));
    }
}
