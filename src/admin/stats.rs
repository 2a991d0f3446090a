//! `server_stats`: the engine's counters turned into the UI's per-second aggregated events,
//! sent every 2 seconds (and once at start) to the admin namespace.

use std::time::{Duration, SystemTime};

use serde_json::{Value as Json, json};

use super::date;
use crate::engine::EngineStats;
use crate::io::SocketIo;

/// How often `server_stats` goes out (Node: `setInterval(emitStats, 2000)`).
pub(super) const STATS_EVERY: Duration = Duration::from_secs(2);

/// At most this many aggregated events wait for the next `server_stats` (about 10 seconds' worth
/// of every type; older ones are dropped first should the report fall behind).
const MAX_PENDING: usize = 128;

/// What identifies the server in its reports.
#[derive(Debug, Clone)]
pub(super) struct ServerInfo {
    pub(super) server_id: String,
    pub(super) hostname: String,
    pub(super) pid: u32,
    pub(super) started: std::time::Instant,
}

/// The engine counters' last reading and the aggregated events not reported yet.
#[derive(Debug)]
pub(super) struct Aggregator {
    last: [u64; 5],
    last_disconnections: [u64; 6],
    pending: std::collections::VecDeque<Json>,
}

impl Aggregator {
    pub(super) fn new(stats: &EngineStats) -> Self {
        Aggregator {
            last: totals(stats),
            last_disconnections: stats.disconnections().map(|(_, n)| n),
            pending: std::collections::VecDeque::new(),
        }
    }

    /// Reads the counters: what changed since the last reading becomes events of the second
    /// that just ended (`timestamp` floored to the second, in milliseconds, as Node's buffer).
    pub(super) fn sample(&mut self, stats: &EngineStats, now: SystemTime) {
        let second = date::millis(now) / 1000 * 1000;
        // A sample taken just after a second boundary counts for the second before it.
        let timestamp = second.saturating_sub(1000);
        let now_totals = totals(stats);
        const TYPES: [&str; 5] = [
            "rawConnection",
            "packetsIn",
            "packetsOut",
            "bytesIn",
            "bytesOut",
        ];
        for (i, kind) in TYPES.iter().enumerate() {
            let count = now_totals[i].saturating_sub(self.last[i]);
            if count > 0 {
                self.push(json!({ "timestamp": timestamp, "type": kind, "count": count }));
            }
        }
        self.last = now_totals;
        let disconnections = stats.disconnections();
        for (i, (reason, total)) in disconnections.iter().enumerate() {
            let count = total.saturating_sub(self.last_disconnections[i]);
            if count > 0 {
                self.push(json!({
                    "timestamp": timestamp,
                    "type": "rawDisconnection",
                    "subType": reason.as_str(),
                    "count": count,
                }));
            }
            self.last_disconnections[i] = *total;
        }
    }

    fn push(&mut self, event: Json) {
        if self.pending.len() == MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(event);
    }

    /// The `server_stats` payload, taking the pending events.
    pub(super) fn report(&mut self, io: &SocketIo, info: &ServerInfo) -> Json {
        let namespaces: Vec<Json> = io
            .namespaces()
            .into_iter()
            .map(|(name, count)| json!({ "name": name, "socketsCount": count }))
            .collect();
        json!({
            "serverId": info.server_id,
            "hostname": info.hostname,
            "pid": info.pid,
            "uptime": info.started.elapsed().as_secs_f64(),
            "clientsCount": io.engine().session_count(),
            "pollingClientsCount": io.engine().polling_count(),
            "aggregatedEvents": self.pending.drain(..).collect::<Vec<_>>(),
            "namespaces": namespaces,
        })
    }
}

fn totals(stats: &EngineStats) -> [u64; 5] {
    [
        stats.connections(),
        stats.packets_in(),
        stats.packets_out(),
        stats.bytes_in(),
        stats.bytes_out(),
    ]
}

/// The machine's name: `/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `localhost`.
pub(super) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{DisconnectReason, Message};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn samples_become_per_second_events() {
        let stats = EngineStats::default();
        let mut aggregator = Aggregator::new(&stats);
        stats.connected();
        stats.received(&Message::Text("2[\"a\"]".into()));
        stats.received(&Message::Text("2[\"bc\"]".into()));
        stats.disconnected(DisconnectReason::PingTimeout);
        // Just after 12:00:01.000: the second that ended is 12:00:00.
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_001_005);
        aggregator.sample(&stats, now);
        let events: Vec<Json> = aggregator.pending.drain(..).collect();
        let find = |kind: &str| events.iter().find(|e| e["type"] == kind).cloned();
        assert_eq!(find("rawConnection").unwrap()["count"], 1);
        assert_eq!(find("packetsIn").unwrap()["count"], 2);
        assert_eq!(find("bytesIn").unwrap()["count"], 13);
        let gone = find("rawDisconnection").unwrap();
        assert_eq!(gone["subType"], "ping timeout");
        assert!(
            events
                .iter()
                .all(|e| e["timestamp"] == 1_700_000_000_000u64)
        );
        assert!(find("packetsOut").is_none(), "nothing sent: no event");
        assert!(
            events
                .iter()
                .filter(|e| e["type"] != "rawDisconnection")
                .all(|e| e.get("subType").is_none())
        );
        // Nothing new: nothing reported.
        aggregator.sample(&stats, now + Duration::from_secs(1));
        assert!(aggregator.pending.is_empty());
    }

    #[test]
    fn pending_events_are_bounded() {
        let stats = EngineStats::default();
        let mut aggregator = Aggregator::new(&stats);
        for i in 0..1000u64 {
            stats.connected();
            aggregator.sample(&stats, UNIX_EPOCH + Duration::from_secs(i));
        }
        assert_eq!(aggregator.pending.len(), MAX_PENDING);
    }
}
