//! A minimal Engine.IO v4 client over WebSocket or HTTP long-polling, for the soak. It carries
//! Engine.IO packets as text ("2", "3", "40", "42[...]"...); the Socket.IO layer is in `load.rs`.
//! Both transports look the same to the caller: a channel of packets out, a channel of packets in,
//! and `abort` to drop the TCP connections without a goodbye.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The transport a client uses for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    Polling,
}

/// What the caller sends.
pub enum Out {
    /// One Engine.IO packet.
    Packet(String),
    /// A clean close: a WebSocket close frame, or a polling `1` (close) packet.
    Close,
}

/// What the caller receives.
#[derive(Debug)]
pub enum In {
    /// One Engine.IO packet.
    Packet(String),
    /// The connection ended (why), whoever ended it.
    Closed(String),
}

/// An open Engine.IO connection.
pub struct Conn {
    pub tx: mpsc::UnboundedSender<Out>,
    pub rx: mpsc::UnboundedReceiver<In>,
    tasks: Vec<JoinHandle<()>>,
}

impl Conn {
    /// Drops the connection abruptly: no close packet, no close frame, the sockets just go.
    pub fn abort(self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    /// Waits (bounded) for the connection's tasks to finish after a clean close, then aborts.
    pub async fn finish(self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        for task in &self.tasks {
            let _ = tokio::time::timeout_at(deadline, async {
                while !task.is_finished() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await;
        }
        self.abort();
    }
}

/// Opens an Engine.IO session; returns the connection and the open packet's JSON.
pub async fn connect(
    addr: &str,
    transport: Transport,
) -> Result<(Conn, serde_json::Value), String> {
    match transport {
        Transport::WebSocket => connect_ws(addr).await,
        Transport::Polling => connect_polling(addr).await,
    }
}

fn parse_open(packet: &str) -> Result<serde_json::Value, String> {
    let json = packet
        .strip_prefix('0')
        .ok_or_else(|| format!("expected the open packet, got {packet:?}"))?;
    serde_json::from_str(json).map_err(|e| format!("open packet: {e}"))
}

async fn connect_ws(addr: &str) -> Result<(Conn, serde_json::Value), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("tcp connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| format!("websocket handshake: {e}"))?;
    let (mut sink, mut stream) = ws.split();
    let open = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => break text.to_string(),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("websocket read: {e}")),
            None => return Err("closed before the open packet".into()),
        }
    };
    let open = parse_open(&open)?;

    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Out>();
    let (in_tx, in_rx) = mpsc::unbounded_channel::<In>();
    let writer_in = in_tx.clone();
    let writer = tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            let result = match out {
                Out::Packet(p) => sink.send(Message::text(p)).await,
                Out::Close => {
                    let _ = sink.close().await;
                    return;
                }
            };
            if let Err(e) = result {
                let _ = writer_in.send(In::Closed(format!("websocket write: {e}")));
                return;
            }
        }
    });
    let reader = tokio::spawn(async move {
        let why = loop {
            match stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    if in_tx.send(In::Packet(text.to_string())).is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(frame))) => break format!("close frame {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => break format!("websocket read: {e}"),
                None => break "websocket closed".to_string(),
            }
        };
        let _ = in_tx.send(In::Closed(why));
    });
    Ok((
        Conn {
            tx: out_tx,
            rx: in_rx,
            tasks: vec![writer, reader],
        },
        open,
    ))
}

/// One keep-alive HTTP/1.1 connection.
struct Http {
    addr: String,
    sender: SendRequest<Full<Bytes>>,
    task: JoinHandle<()>,
}

impl Http {
    async fn open(addr: &str) -> Result<Http, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("tcp connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("http handshake: {e}"))?;
        let task = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Http {
            addr: addr.to_owned(),
            sender,
            task,
        })
    }

    async fn request(&mut self, method: &str, query: &str, body: String) -> Result<String, String> {
        let request = hyper::Request::builder()
            .method(method)
            .uri(format!("/socket.io/?EIO=4&transport=polling{query}"))
            .header("host", &self.addr)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("http not ready: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("http {method}: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("http body: {e}"))?
            .to_bytes();
        let body = String::from_utf8(body.to_vec()).map_err(|_| "a body not UTF-8".to_string())?;
        if !status.is_success() {
            return Err(format!("http {method} status {status}: {body}"));
        }
        Ok(body)
    }
}

async fn connect_polling(addr: &str) -> Result<(Conn, serde_json::Value), String> {
    let mut get = Http::open(addr).await?;
    let open = get.request("GET", "", String::new()).await;
    let open = match open {
        Ok(body) => body,
        Err(e) => {
            get.task.abort();
            return Err(e);
        }
    };
    let open = match parse_open(open.split('\u{1e}').next().unwrap_or("")) {
        Ok(open) => open,
        Err(e) => {
            get.task.abort();
            return Err(e);
        }
    };
    let sid = open
        .get("sid")
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_owned();
    let post = match Http::open(addr).await {
        Ok(post) => post,
        Err(e) => {
            get.task.abort();
            return Err(e);
        }
    };
    let query = format!("&sid={sid}");

    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Out>();
    let (in_tx, in_rx) = mpsc::unbounded_channel::<In>();
    let get_task = get.task.abort_handle();
    let post_task = post.task.abort_handle();
    let writer_in = in_tx.clone();
    let writer_query = query.clone();
    let writer = tokio::spawn(async move {
        let mut post = post;
        let _guard = AbortOnDrop(post_task);
        while let Some(first) = out_rx.recv().await {
            // Everything queued meanwhile goes in the same POST, as real clients do.
            let mut packets = Vec::new();
            let mut close = false;
            let mut next = Some(first);
            while let Some(out) = next {
                match out {
                    Out::Packet(p) => packets.push(p),
                    Out::Close => {
                        packets.push("1".to_owned());
                        close = true;
                        break;
                    }
                }
                next = out_rx.try_recv().ok();
            }
            let body = packets.join("\u{1e}");
            if let Err(e) = post.request("POST", &writer_query, body).await {
                if !close {
                    let _ = writer_in.send(In::Closed(format!("poll POST: {e}")));
                }
                return;
            }
            if close {
                return;
            }
        }
    });
    let reader = tokio::spawn(async move {
        let mut get = get;
        let _guard = AbortOnDrop(get_task);
        let why = loop {
            match get.request("GET", &query, String::new()).await {
                Ok(payload) => {
                    let mut closed = false;
                    for packet in payload.split('\u{1e}') {
                        if packet == "1" {
                            closed = true;
                        } else if packet != "6"
                            && in_tx.send(In::Packet(packet.to_owned())).is_err()
                        {
                            return;
                        }
                    }
                    if closed {
                        break "close packet".to_string();
                    }
                }
                Err(e) => break format!("poll GET: {e}"),
            }
        };
        let _ = in_tx.send(In::Closed(why));
    });
    Ok((
        Conn {
            tx: out_tx,
            rx: in_rx,
            tasks: vec![writer, reader],
        },
        open,
    ))
}

/// Aborts the HTTP connection's task (closing its socket) when the owner goes.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
