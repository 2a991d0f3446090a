//! A Socket.IO client on `/` over HTTP long-polling (Engine.IO v4), one keep-alive HTTP/1.1
//! connection, strictly one request at a time: POST a packet, then GET the answer.
//!
//! It writes its requests and reads the responses itself (heads parsed with `httparse`), in the
//! task that drives it, with buffers kept across requests: a load generator must cost far less
//! than the server it measures, and a general HTTP client (a connection task woken for every
//! request, a response object, a body collected into a list) costs about as much as the server
//! does per request.
//!
//! With an `Accept-Encoding` ([`PollingClient::accept_encoding`]) it decodes gzip and deflate
//! bodies; it counts the bytes it reads from the connection ([`PollingClient::wire_bytes`]).

use std::io::Write as _;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A polling client.
pub struct PollingClient {
    stream: TcpStream,
    host: String,
    path: String,
    /// What was read from the connection and not consumed yet.
    read: BytesMut,
    /// The request being written.
    write: Vec<u8>,
    /// The `Accept-Encoding` sent with every request, if any.
    accept_encoding: Option<String>,
    /// Bytes read from the connection so far (heads and bodies).
    wire_bytes: u64,
}

/// How the body of a response is delimited.
enum Framing {
    Length(usize),
    Chunked,
}

/// How the body of a response is encoded.
#[derive(Clone, Copy, PartialEq)]
enum Coding {
    Identity,
    Gzip,
    Deflate,
}

impl PollingClient {
    /// Opens the session and joins `/`.
    pub async fn connect(addr: &str) -> Result<Self, String> {
        Self::connect_with(addr, None).await
    }

    /// Opens the session and joins `/`, sending `accept_encoding` with every request.
    pub async fn connect_with(addr: &str, accept_encoding: Option<&str>) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let mut client = PollingClient {
            stream,
            host: addr.to_owned(),
            path: "/socket.io/?EIO=4&transport=polling".to_owned(),
            read: BytesMut::with_capacity(4096),
            write: Vec::with_capacity(256),
            accept_encoding: accept_encoding.map(str::to_owned),
            wire_bytes: 0,
        };
        let open = client.request("GET", b"").await?;
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

    /// One request and its response's body (an error for a status other than 2xx).
    async fn request(&mut self, method: &str, body: &[u8]) -> Result<String, String> {
        self.write.clear();
        let _ = write!(
            self.write,
            "{method} {} HTTP/1.1\r\nhost: {}\r\ncontent-type: text/plain;charset=UTF-8\r\n",
            self.path, self.host
        );
        if method != "GET" {
            let _ = write!(self.write, "content-length: {}\r\n", body.len());
        }
        if let Some(accept) = &self.accept_encoding {
            let _ = write!(self.write, "accept-encoding: {accept}\r\n");
        }
        self.write.extend_from_slice(b"\r\n");
        self.write.extend_from_slice(body);
        self.stream
            .write_all(&self.write)
            .await
            .map_err(|e| e.to_string())?;

        let (status, framing, coding) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.read).map_err(|e| e.to_string())? {
                httparse::Status::Complete(head) => {
                    let status = response.code.unwrap_or(0);
                    let framing = framing(response.headers)?;
                    let coding = coding(response.headers)?;
                    self.read.advance(head);
                    break (status, framing, coding);
                }
                httparse::Status::Partial => self.fill().await?,
            }
        };
        let body = match framing {
            Framing::Length(len) => {
                while self.read.len() < len {
                    self.fill().await?;
                }
                self.read.split_to(len)
            }
            Framing::Chunked => self.read_chunked().await?,
        };
        let body = match coding {
            Coding::Identity => body.to_vec(),
            Coding::Gzip => decode(flate2::read::GzDecoder::new(&body[..]))?,
            Coding::Deflate => decode(flate2::read::ZlibDecoder::new(&body[..]))?,
        };
        let text = String::from_utf8(body).map_err(|e| e.to_string())?;
        if !(200..300).contains(&status) {
            return Err(format!("HTTP {status}: {text}"));
        }
        Ok(text)
    }

    /// Reads more from the connection; an error at its end.
    async fn fill(&mut self) -> Result<(), String> {
        self.read.reserve(4096);
        match self.stream.read_buf(&mut self.read).await {
            Ok(0) => Err("connection closed by the server".into()),
            Ok(n) => {
                self.wire_bytes += n as u64;
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// A `Transfer-Encoding: chunked` body (no trailers expected).
    async fn read_chunked(&mut self) -> Result<BytesMut, String> {
        let mut body = BytesMut::new();
        loop {
            let line_end = loop {
                if let Some(i) = self.read.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                self.fill().await?;
            };
            let line = std::str::from_utf8(&self.read[..line_end]).map_err(|e| e.to_string())?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16).map_err(|e| e.to_string())?;
            self.read.advance(line_end + 2);
            while self.read.len() < size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.read[..size]);
            self.read.advance(size + 2);
            if size == 0 {
                return Ok(body);
            }
        }
    }

    /// Bytes read from the connection so far, heads and bodies as they came (compressed).
    pub fn wire_bytes(&self) -> u64 {
        self.wire_bytes
    }

    /// Sends one packet.
    pub async fn post(&mut self, packet: &str) -> Result<(), String> {
        self.request("POST", packet.as_bytes()).await.map(drop)
    }

    /// One GET: the packets it carried, pings answered and left out.
    pub async fn poll(&mut self) -> Result<Vec<String>, String> {
        let payload = self.request("GET", b"").await?;
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

/// A decoder's whole output.
fn decode(mut decoder: impl std::io::Read) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The content coding of a response body, from its headers.
fn coding(headers: &[httparse::Header<'_>]) -> Result<Coding, String> {
    for header in headers {
        if header.name.eq_ignore_ascii_case("content-encoding") {
            return match header.value {
                b"gzip" => Ok(Coding::Gzip),
                b"deflate" => Ok(Coding::Deflate),
                other => Err(format!("unexpected content-encoding {other:?}")),
            };
        }
    }
    Ok(Coding::Identity)
}

/// The framing of a response body, from its headers.
fn framing(headers: &[httparse::Header<'_>]) -> Result<Framing, String> {
    for header in headers {
        if header.name.eq_ignore_ascii_case("content-length") {
            let len = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or("invalid content-length")?;
            return Ok(Framing::Length(len));
        }
        if header.name.eq_ignore_ascii_case("transfer-encoding")
            && header.value.eq_ignore_ascii_case(b"chunked")
        {
            return Ok(Framing::Chunked);
        }
    }
    Err("a response without content-length or chunked encoding".into())
}
