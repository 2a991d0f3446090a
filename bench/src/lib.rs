//! Shared pieces of the load generator: a minimal Engine.IO v4 + Socket.IO v5 client over
//! WebSocket, latency statistics, and readings of a server process's CPU time and memory.

pub mod bare;
pub mod polling;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// A Socket.IO client on the main namespace, over a raw WebSocket.
pub struct Client {
    ws: WebSocketStream<TcpStream>,
}

impl Client {
    /// Connects to `addr` (host:port) and joins `/`: the full Engine.IO + Socket.IO handshake.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096);
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
            .await
            .map_err(|e| e.to_string())?;
        let mut client = Client { ws };
        let open = client.next_text().await?;
        if !open.starts_with('0') {
            return Err(format!("expected the open packet, got {open}"));
        }
        client.send("40").await?;
        let connect = client.next_text().await?;
        if !connect.starts_with("40") {
            return Err(format!("expected CONNECT, got {connect}"));
        }
        Ok(client)
    }

    /// Sends a text frame.
    pub async fn send(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next text frame that is not a ping (pings are answered).
    pub async fn next_text(&mut self) -> Result<String, String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) if text == "2" => self.send("3").await?,
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("connection closed".into()),
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Latency percentiles.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// User + system CPU time of process `pid` so far (from /proc/PID/stat).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis(ticks * 1000 / hz)
}

/// CPU time of each thread of process `pid` so far, in nanoseconds (the scheduler's own count,
/// `/proc/PID/task/TID/schedstat`, not sampled at clock ticks as `/proc/PID/stat` is); `None`
/// where the kernel does not keep it.
pub fn thread_cpu_ns(pid: u32) -> Option<HashMap<u32, u64>> {
    let mut threads = HashMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(entry) = entry else { continue };
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("schedstat")).unwrap_or_default();
        if let Some(ns) = stat.split_whitespace().next().and_then(|f| f.parse().ok()) {
            threads.insert(tid, ns);
        }
    }
    (!threads.is_empty()).then_some(threads)
}

/// CPU time of a process between two [`thread_cpu_ns`] readings: the difference for threads
/// seen both times, the whole for threads started meanwhile (threads that ended meanwhile are
/// not seen: their last moments are lost).
pub fn cpu_between(before: &HashMap<u32, u64>, after: &HashMap<u32, u64>) -> Duration {
    let ns: u64 = after
        .iter()
        .map(|(tid, ns)| ns.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum();
    Duration::from_nanos(ns)
}

/// Resident memory of process `pid` in kB (VmRSS from /proc/PID/status).
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The port a bench server listens on: PORT from the environment (default 3000).
pub fn port() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000)
}

/// The runtime every bench server runs on: WORKERS worker threads (default 1, the server's
/// one pinned CPU).
pub fn server_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let workers: usize = std::env::var("WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}
