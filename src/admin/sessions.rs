//! The admin UI's login sessions: ids handed out after a password login, so that a page reload
//! logs in again without the password (Node's `InMemoryStore`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bounded, expiring set of session ids.
///
/// At most `capacity` sessions are kept: a login when the store is full first drops the expired
/// ones, then the oldest. A session lasts `ttl` from its creation (Node's Redis store: one day).
#[derive(Debug)]
pub(super) struct Sessions {
    ttl: Duration,
    capacity: usize,
    ids: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    pub(super) fn new(ttl: Duration, capacity: usize) -> Self {
        Sessions {
            ttl,
            capacity: capacity.max(1),
            ids: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session: 8 random bytes in hex, as Node's `randomBytes(8).toString("hex")`.
    pub(super) fn create(&self) -> String {
        let id: String = rand::random::<[u8; 8]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = Instant::now();
        let mut ids = self.lock();
        if ids.len() >= self.capacity {
            ids.retain(|_, created| now.duration_since(*created) < self.ttl);
        }
        if ids.len() >= self.capacity {
            let oldest = ids
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                ids.remove(&oldest);
            }
        }
        ids.insert(id.clone(), now);
        id
    }

    /// Whether `id` is a live session (an expired one is forgotten).
    pub(super) fn exists(&self, id: &str) -> bool {
        let mut ids = self.lock();
        match ids.get(id) {
            Some(created) if created.elapsed() < self.ttl => true,
            Some(_) => {
                ids.remove(id);
                false
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_and_expire() {
        let sessions = Sessions::new(Duration::from_secs(60), 2);
        let a = sessions.create();
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        let b = sessions.create();
        let c = sessions.create(); // full: the oldest goes
        assert!(!sessions.exists(&a));
        assert!(sessions.exists(&b) && sessions.exists(&c));
        assert!(!sessions.exists("nope"));
        let short = Sessions::new(Duration::ZERO, 4);
        let d = short.create();
        assert!(!short.exists(&d));
    }
}
