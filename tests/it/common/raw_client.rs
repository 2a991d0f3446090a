//! A minimal Socket.IO v5 client over a raw WebSocket, for in-process tests that need many
//! clients or exact control of packets.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Frame;

pub struct RawClient {
    ws: WebSocketStream<TcpStream>,
    /// The socket id the server gave on CONNECT.
    pub sid: String,
}

impl RawClient {
    /// Opens a WebSocket session and joins namespace `/`.
    pub async fn connect(addr: std::net::SocketAddr) -> Self {
        Self::connect_to(addr, "/").await
    }

    /// Opens a WebSocket session and joins namespace `ns`; panics when refused.
    pub async fn connect_to(addr: std::net::SocketAddr, ns: &str) -> Self {
        let mut client = Self::open(addr).await;
        let prefix = if ns == "/" {
            String::new()
        } else {
            format!("{ns},")
        };
        client.send(&format!("40{prefix}")).await;
        let connect = client.recv().await;
        let expected = format!("0{prefix}{{\"sid\":\"");
        assert!(connect.starts_with(&expected), "{connect}");
        client.sid = connect[expected.len()..connect.len() - 2].to_owned();
        client
    }

    /// Opens a WebSocket session and sends CONNECT to `/` with `auth` (a JSON object's text, or
    /// nothing); returns the packets that came before the CONNECT answer (the events a
    /// recovered socket missed), and the answer. Panics when it is not a CONNECT.
    pub async fn connect_with(
        addr: std::net::SocketAddr,
        auth: &str,
    ) -> (Self, Vec<String>, String) {
        let mut client = Self::open(addr).await;
        client.send(&format!("40{auth}")).await;
        let mut before = Vec::new();
        let mut answer = client.recv().await;
        // Events, with binary or not.
        while answer.starts_with('2') || answer.starts_with('5') {
            before.push(answer);
            answer = client.recv().await;
        }
        assert!(answer.starts_with("0{"), "{answer}");
        let json: serde_json::Value = serde_json::from_str(&answer[1..]).expect("CONNECT JSON");
        client.sid = json["sid"].as_str().unwrap_or_default().to_owned();
        (client, before, answer)
    }

    /// Opens a WebSocket session without joining a namespace.
    pub async fn open(addr: std::net::SocketAddr) -> Self {
        let mut client = Self::websocket(addr, "EIO=4&transport=websocket").await;
        let open = client.recv_raw().await;
        assert!(open.starts_with("0{"), "{open}");
        client
    }

    /// Opens a session over long-polling (a raw HTTP/1.1 request), then upgrades it to a
    /// WebSocket (probe, `upgrade`), without joining a namespace.
    pub async fn open_by_upgrade(addr: std::net::SocketAddr) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut http = TcpStream::connect(addr).await.expect("tcp connect");
        http.write_all(
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("handshake request");
        let mut response = String::new();
        http.read_to_string(&mut response)
            .await
            .expect("handshake response");
        let sid = response
            .split("\"sid\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a sid in the open packet")
            .to_owned();
        let query = format!("EIO=4&transport=websocket&sid={sid}");
        let mut client = Self::websocket(addr, &query).await;
        client.send("2probe").await;
        assert_eq!(client.recv_raw().await, "3probe");
        client.send("5").await;
        client
    }

    /// A WebSocket connection to the Engine.IO path with `query`, nothing read yet.
    async fn websocket(addr: std::net::SocketAddr, query: &str) -> Self {
        let url = format!("ws://{addr}/socket.io/?{query}");
        let stream = TcpStream::connect(addr).await.expect("tcp connect");
        let (ws, _) = tokio_tungstenite::client_async(url, stream)
            .await
            .expect("ws connect");
        RawClient {
            ws,
            sid: String::new(),
        }
    }

    pub async fn send(&mut self, text: &str) {
        self.ws.send(Frame::text(text)).await.expect("ws send");
    }

    async fn recv_raw(&mut self) -> String {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .expect("a frame within 5 s")
                .expect("the connection is open")
                .expect("a valid frame");
            if let Frame::Text(text) = frame {
                return text.to_string();
            }
        }
    }

    /// The next Socket.IO packet (the Engine.IO `4` removed), answering pings on the way.
    pub async fn recv(&mut self) -> String {
        loop {
            let text = self.recv_raw().await;
            if text == "2" {
                self.send("3").await;
                continue;
            }
            return text.strip_prefix('4').expect("a message packet").to_owned();
        }
    }

    /// The next Socket.IO packet, or `None` once the connection is closed.
    pub async fn try_recv(&mut self) -> Option<String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Frame::Text(text))) if text.as_str() == "2" => {
                    let _ = self.ws.send(Frame::text("3")).await;
                }
                Some(Ok(Frame::Text(text))) => {
                    return text.strip_prefix('4').map(str::to_owned);
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return None,
            }
        }
    }

    /// Asserts that the server closes the connection (within 2 s).
    pub async fn expect_closed(&mut self) {
        tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                match self.ws.next().await {
                    None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => return,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .expect("the server closed the connection");
    }

    /// Asserts that nothing but pings arrives for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Frame::Text(t)))) if t == "2" => self.send("3").await,
                Ok(other) => panic!("unexpected {other:?}"),
            }
        }
    }
}
