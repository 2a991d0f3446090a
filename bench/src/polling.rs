//! A Socket.IO client on `/` over HTTP long-polling (Engine.IO v4), one keep-alive HTTP/1.1
//! connection, strictly one request at a time: POST a packet, then GET the answer.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A polling client.
pub struct PollingClient {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    path: String,
}

impl PollingClient {
    /// Opens the session and joins `/`.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut client = PollingClient {
            sender,
            host: addr.to_owned(),
            path: "/socket.io/?EIO=4&transport=polling".to_owned(),
        };
        let open = client.request(Method::GET, Bytes::new()).await?;
        let sid = open
            .strip_prefix("0{\"sid\":\"")
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| format!("expected the open packet, got {open}"))?
            .to_owned();
        client.path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        client.post("40").await?;
        let connect = client.poll().await?;
        if !connect.iter().any(|p| p.starts_with("40")) {
            return Err(format!("expected CONNECT, got {connect:?}"));
        }
        Ok(client)
    }

    async fn request(&mut self, method: Method, body: Bytes) -> Result<String, String> {
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let request = Request::builder()
            .method(method)
            .uri(&self.path)
            .header("host", &self.host)
            .header("content-type", "text/plain;charset=UTF-8")
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let text = String::from_utf8(body.to_vec()).map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {text}"));
        }
        Ok(text)
    }

    /// Sends one packet.
    pub async fn post(&mut self, packet: &str) -> Result<(), String> {
        self.request(Method::POST, Bytes::copy_from_slice(packet.as_bytes()))
            .await
            .map(drop)
    }

    /// One GET: the packets it carried, pings answered and left out.
    pub async fn poll(&mut self) -> Result<Vec<String>, String> {
        let payload = self.request(Method::GET, Bytes::new()).await?;
        let mut packets = Vec::new();
        for packet in payload.split('\u{1e}') {
            if packet == "2" {
                self.post("3").await?;
            } else {
                packets.push(packet.to_owned());
            }
        }
        Ok(packets)
    }
}
