//! Shared pieces of the load generator: a minimal Engine.IO v4 + Socket.IO v5 client over
//! WebSocket (with the default parser or, `PARSER=msgpack`, the MessagePack one), latency
//! statistics, and readings of a server process's CPU time and memory.

pub mod bare;
pub mod polling;
pub mod wire;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

pub use wire::{Arg, Parser};

/// A Socket.IO client on the main namespace, over a raw WebSocket, speaking the parser of
/// [`Parser::from_env`].
pub struct Client {
    ws: WebSocketStream<TcpStream>,
    parser: Parser,
}

/// A WebSocket message that is not a ping.
enum Frame {
    Text(String),
    Binary(bytes::Bytes),
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
        let parser = Parser::from_env();
        let mut client = Client { ws, parser };
        let open = client.next_text().await?;
        if !open.starts_with('0') {
            return Err(format!("expected the open packet, got {open}"));
        }
        match parser {
            Parser::Default => {
                client.send("40").await?;
                let connect = client.next_text().await?;
                if !connect.starts_with("40") {
                    return Err(format!("expected CONNECT, got {connect}"));
                }
            }
            Parser::MsgPack => {
                client.send_binary(wire::connect()).await?;
                let frame = client.next_binary().await?;
                let packet = wire::decode(&frame)?;
                if packet.kind != 0 || !packet.root {
                    return Err(format!("expected CONNECT, got {packet:?}"));
                }
            }
        }
        Ok(client)
    }

    /// Emits `event` with one argument, with acknowledgement `id` if given, in the client's
    /// parser.
    pub async fn emit(&mut self, event: &str, arg: Arg<'_>, id: Option<u64>) -> Result<(), String> {
        match self.parser {
            Parser::Default => self.send(&wire::event_text(event, arg, id)).await,
            Parser::MsgPack => self.send_binary(wire::event(event, arg, id)).await,
        }
    }

    /// Waits for the ACK `id` (with arguments `[echo]` when `echo` is given); any other
    /// packet is an error.
    pub async fn expect_ack(&mut self, id: u64, echo: Option<u64>) -> Result<(), String> {
        match self.parser {
            Parser::Default => {
                let answer = self.next_text().await?;
                let ok = match echo {
                    Some(echo) => answer == format!("43{id}[{echo}]"),
                    None => answer.starts_with(&format!("43{id}[")),
                };
                ok.then_some(())
                    .ok_or_else(|| format!("expected ACK {id}, got {answer}"))
            }
            Parser::MsgPack => {
                let frame = self.next_binary().await?;
                let packet = wire::decode(&frame)?;
                wire::is_ack(&packet, id, echo)
                    .then_some(())
                    .ok_or_else(|| format!("expected ACK {id}, got {packet:?}"))
            }
        }
    }

    /// Waits for an EVENT named `name` on `/`; any other packet is an error.
    pub async fn expect_event(&mut self, name: &str) -> Result<(), String> {
        match self.parser {
            Parser::Default => {
                let text = self.next_text().await?;
                // `42["NAME",`, without building the prefix.
                let ok = text
                    .strip_prefix("42[\"")
                    .and_then(|rest| rest.strip_prefix(name))
                    .is_some_and(|rest| rest.starts_with("\","));
                ok.then_some(())
                    .ok_or_else(|| format!("expected {name}, got {text}"))
            }
            Parser::MsgPack => {
                let frame = self.next_binary().await?;
                let packet = wire::decode(&frame)?;
                wire::is_event(&packet, name)
                    .then_some(())
                    .ok_or_else(|| format!("expected {name}, got {packet:?}"))
            }
        }
    }

    /// Sends a text frame.
    pub async fn send(&mut self, text: &str) -> Result<(), String> {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, data: Vec<u8>) -> Result<(), String> {
        self.ws
            .send(Message::binary(data))
            .await
            .map_err(|e| e.to_string())
    }

    /// The next text or binary frame that is not a ping (pings are answered).
    async fn next_frame(&mut self) -> Result<Frame, String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) if text == "2" => self.send("3").await?,
                Some(Ok(Message::Text(text))) => return Ok(Frame::Text(text.to_string())),
                Some(Ok(Message::Binary(data))) => return Ok(Frame::Binary(data)),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("connection closed".into()),
            }
        }
    }

    /// The next text frame that is not a ping (pings are answered); a binary frame is an error.
    pub async fn next_text(&mut self) -> Result<String, String> {
        match self.next_frame().await? {
            Frame::Text(text) => Ok(text),
            Frame::Binary(data) => Err(format!("expected text, got {} binary bytes", data.len())),
        }
    }

    /// The next binary frame (pings are answered); a text frame is an error.
    async fn next_binary(&mut self) -> Result<bytes::Bytes, String> {
        match self.next_frame().await? {
            Frame::Binary(data) => Ok(data),
            Frame::Text(text) => Err(format!("expected a binary frame, got {text}")),
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
