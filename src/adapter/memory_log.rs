//! Connection state recovery in memory: one namespace's stored events (each with its offset) and
//! the sessions of its disconnected sockets, bounded in time and in memory
//! ([`RecoveryConfig`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::{BroadcastOptions, EncodedPacket, RecoveryConfig, Restored, Room, Session};

/// A stored event.
struct Entry {
    seq: u64,
    rooms: Vec<Room>,
    except: Vec<Room>,
    packet: EncodedPacket,
    at: Instant,
    wall_ms: u64,
    bytes: usize,
}

#[derive(Default)]
struct State {
    packets: VecDeque<Entry>,
    /// The sequence number the next event gets.
    next_seq: u64,
    bytes: usize,
    /// The wall clock of the newest event dropped, if any.
    evicted_ms: Option<u64>,
    sessions: HashMap<String, (Session, Instant)>,
    /// Sessions in the order they were stored (some may be gone already).
    order: VecDeque<(String, Instant)>,
}

pub(crate) struct RecoveryLog {
    config: RecoveryConfig,
    /// The offsets' prefix: random, so that an offset from another server or an earlier run
    /// matches nothing here.
    prefix: String,
    state: Mutex<State>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl RecoveryLog {
    pub(crate) fn new(config: RecoveryConfig) -> Self {
        let random: [u8; 6] = rand::random();
        let prefix: String = random.iter().map(|b| format!("{b:02x}")).collect();
        RecoveryLog {
            config,
            prefix: format!("{prefix}-"),
            state: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn offset(&self, seq: u64) -> String {
        format!("{}{seq}", self.prefix)
    }

    fn seq_of(&self, offset: &str) -> Option<u64> {
        offset.strip_prefix(&self.prefix)?.parse().ok()
    }

    /// Gives `packet` its offset, stores it (unless it is volatile: then it carries the latest
    /// offset, so that the client's last offset stays right) and calls `send` with it, all under
    /// the log's lock: events reach every client in the order of their offsets.
    pub(crate) fn stamped<R>(
        &self,
        packet: EncodedPacket,
        opts: &BroadcastOptions,
        send: impl FnOnce(EncodedPacket) -> R,
    ) -> R {
        let mut state = self.lock();
        if opts.volatile {
            let packet = match state.next_seq.checked_sub(1) {
                Some(latest) => packet.with_offset(&self.offset(latest)),
                None => packet,
            };
            return send(packet);
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let packet = packet.with_offset(&self.offset(seq));
        let bytes = packet.text.len() + packet.attachments.iter().map(|a| a.len()).sum::<usize>();
        state.bytes += bytes;
        state.packets.push_back(Entry {
            seq,
            rooms: opts.rooms.iter().cloned().collect(),
            except: opts.except.iter().cloned().collect(),
            packet: packet.clone(),
            at: Instant::now(),
            wall_ms: now_ms(),
            bytes,
        });
        self.evict(&mut state);
        send(packet)
    }

    /// Drops the events past the time or memory bound.
    fn evict(&self, state: &mut State) {
        let max_age = self.config.max_disconnection_duration;
        while let Some(first) = state.packets.front() {
            if state.bytes <= self.config.max_log_bytes && first.at.elapsed() <= max_age {
                break;
            }
            let first = state.packets.pop_front().expect("a front entry");
            state.bytes -= first.bytes;
            state.evicted_ms = Some(first.wall_ms);
        }
    }

    /// Keeps `session` for recovery.
    pub(crate) fn persist(&self, session: Session) {
        let mut state = self.lock();
        let now = Instant::now();
        let max_age = self.config.max_disconnection_duration;
        // Forget the expired sessions, and the oldest past the count.
        while let Some((pid, at)) = state.order.front().cloned() {
            let stale = state
                .sessions
                .get(&pid)
                .is_none_or(|(_, stored)| *stored != at);
            if stale || at.elapsed() > max_age || state.sessions.len() >= self.config.max_sessions {
                state.order.pop_front();
                if !stale {
                    state.sessions.remove(&pid);
                }
            } else {
                break;
            }
        }
        state.order.push_back((session.pid.clone(), now));
        state.sessions.insert(session.pid.clone(), (session, now));
        self.evict(&mut state);
    }

    /// The session of `pid` with the events its client missed since `offset` (or since it
    /// connected, without one), if the session is still kept and every such event too.
    pub(crate) fn restore(&self, pid: &str, offset: Option<&str>) -> Option<Restored> {
        let mut state = self.lock();
        self.evict(&mut state);
        let (session, at) = state.sessions.remove(pid)?;
        if at.elapsed() > self.config.max_disconnection_duration {
            return None;
        }
        let first_seq = state
            .packets
            .front()
            .map(|e| e.seq)
            .unwrap_or(state.next_seq);
        let from = match offset {
            Some(offset) => {
                let seq = self.seq_of(offset)?;
                // Everything after the offset must still be here.
                if seq >= state.next_seq || seq + 1 < first_seq {
                    return None;
                }
                seq + 1
            }
            None => {
                if state
                    .evicted_ms
                    .is_some_and(|ms| ms >= session.connected_at)
                {
                    return None;
                }
                state
                    .packets
                    .iter()
                    .find(|e| e.wall_ms >= session.connected_at)
                    .map(|e| e.seq)
                    .unwrap_or(state.next_seq)
            }
        };
        let rooms: HashSet<&str> = session.rooms.iter().map(String::as_str).collect();
        let missed = state
            .packets
            .iter()
            .filter(|e| e.seq >= from)
            .filter(|e| e.rooms.is_empty() || e.rooms.iter().any(|r| rooms.contains(r.as_str())))
            .filter(|e| !e.except.iter().any(|r| rooms.contains(r.as_str())))
            .map(|e| e.packet.clone())
            .collect();
        Some(Restored { session, missed })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::Sid;
    use crate::parser::encode_event;
    use crate::value::Value;

    fn event(n: i64) -> EncodedPacket {
        encode_event("/", "e", &n, None).unwrap()
    }

    fn to(rooms: &[&str], except: &[&str], volatile: bool) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            except: except.iter().map(|r| r.to_string()).collect(),
            volatile,
            ..BroadcastOptions::default()
        }
    }

    fn session(pid: &str, rooms: &[&str], connected_at: u64) -> Session {
        Session {
            sid: Sid::new(),
            pid: pid.into(),
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
            data: Value::Null,
            connected_at,
        }
    }

    fn texts(packets: &[EncodedPacket]) -> Vec<String> {
        packets.iter().map(|p| p.text().to_owned()).collect()
    }

    #[test]
    fn missed_events_by_room_in_order_with_their_offsets() {
        let log = RecoveryLog::new(RecoveryConfig::default());
        let sent = |n, opts: &BroadcastOptions| log.stamped(event(n), opts, |p| p);
        let first = sent(1, &to(&[], &[], false));
        let offset = first.text().rsplit('"').nth(1).unwrap().to_owned();
        assert!(
            first.text().starts_with(r#"42["e",1,""#),
            "{}",
            first.text()
        );
        sent(2, &to(&["red"], &[], false));
        sent(3, &to(&["blue"], &[], false));
        sent(4, &to(&[], &["red"], false));
        let volatile = sent(5, &to(&[], &[], true));
        // A volatile event is not kept, and carries the latest offset.
        assert!(
            volatile.text().contains(&log.offset(3)),
            "{}",
            volatile.text()
        );
        sent(6, &to(&["red", "blue"], &[], false));
        log.persist(session("p", &["red"], 0));
        let restored = log.restore("p", Some(&offset)).unwrap();
        let missed = texts(&restored.missed);
        assert_eq!(missed.len(), 2, "{missed:?}");
        assert!(missed[0].starts_with(r#"42["e",2,"#));
        assert!(missed[1].starts_with(r#"42["e",6,"#));
        // Used once.
        assert!(log.restore("p", Some(&offset)).is_none());
    }

    #[test]
    fn without_an_offset_every_event_since_the_connection() {
        let log = RecoveryLog::new(RecoveryConfig::default());
        let before = now_ms();
        log.stamped(event(1), &to(&[], &[], false), |p| p);
        log.persist(session("p", &[], before));
        let restored = log.restore("p", None).unwrap();
        assert_eq!(restored.missed.len(), 1);
        log.persist(session("q", &[], now_ms() + 10_000));
        assert!(log.restore("q", None).unwrap().missed.is_empty());
    }

    #[test]
    fn unknown_pid_foreign_offset_or_evicted_events_fail() {
        let config = RecoveryConfig {
            max_log_bytes: 200,
            ..RecoveryConfig::default()
        };
        let log = RecoveryLog::new(config);
        let first = log.stamped(event(0), &to(&[], &[], false), |p| p);
        let offset = first.text().rsplit('"').nth(1).unwrap().to_owned();
        log.persist(session("p", &[], 0));
        assert!(log.restore("nobody", Some(&offset)).is_none());
        log.persist(session("p", &[], 0));
        assert!(log.restore("p", Some("othernode-1")).is_none());
        // Past the byte bound the oldest events go: the offset's successors are gone.
        for n in 1..20 {
            log.stamped(event(n), &to(&[], &[], false), |p| p);
        }
        assert!(log.lock().bytes <= 200);
        log.persist(session("p", &[], 0));
        assert!(
            log.restore("p", Some(&offset)).is_none(),
            "events were evicted"
        );
    }

    #[test]
    fn sessions_are_bounded_in_count_and_time() {
        let config = RecoveryConfig {
            max_sessions: 2,
            max_disconnection_duration: Duration::from_millis(50),
            ..RecoveryConfig::default()
        };
        let log = RecoveryLog::new(config);
        for pid in ["a", "b", "c"] {
            log.persist(session(pid, &[], 0));
        }
        assert_eq!(log.lock().sessions.len(), 2);
        assert!(log.restore("a", None).is_none(), "the oldest was forgotten");
        std::thread::sleep(Duration::from_millis(80));
        assert!(log.restore("c", None).is_none(), "expired");
    }
}
