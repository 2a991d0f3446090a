//! WebSocket framing (RFC 6455), server side: client frames read and checked, server frames
//! written.
//!
//! Why the crate frames WebSocket itself rather than through tungstenite (which it used first):
//! measured under callgrind, tungstenite zeroes its whole read buffer (4 KiB) before every read,
//! keeps that buffer for the connection's life, and spends several hundred instructions per
//! frame written through its sink. Here reads go into uninitialized spare capacity, the buffer is
//! released whenever it is drained (an idle connection holds none), payloads are split off it
//! without a copy, and a server frame is a 2-10 byte header and the bytes as they are (server
//! frames are unmasked), appended to one buffer per batch.
//!
//! What a client must respect, or the connection is closed with the matching code: frames
//! masked, no extension bits (no extension is negotiated), control frames unfragmented and at
//! most 125 bytes, continuation frames only within a fragmented message, text valid UTF-8
//! (1007), messages within the size limit (1009, checked from each frame header, before the
//! payload is buffered), close frames with no payload or a valid code (1002) and a UTF-8 reason
//! (1007).

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};

use super::message::Str;

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Close codes the server sends.
pub(crate) mod close_code {
    /// Normal closure.
    pub(crate) const NORMAL: u16 = 1000;
    /// A frame broke the protocol.
    pub(crate) const PROTOCOL: u16 = 1002;
    /// A text message was not UTF-8.
    pub(crate) const INVALID_DATA: u16 = 1007;
    /// A message over the size limit.
    pub(crate) const TOO_BIG: u16 = 1009;

    /// Whether a client may send `code` in a close frame (RFC 6455, 7.4): the codes the RFC
    /// and its IANA registry assign (1000-1003, 1007-1014; 1004 is reserved, and 1005, 1006
    /// and 1015 must never be sent), and the ranges for libraries and applications
    /// (3000-4999). Anything else closes the connection with 1002, as Node's `ws` does.
    pub(crate) fn is_valid(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// A message (or control frame) from the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WsMessage {
    Text(Str),
    Binary(Bytes),
    /// A ping, to be answered with a pong carrying the same data.
    Ping(Bytes),
    Pong,
    /// The client's close frame, with its code when it gave one.
    Close(Option<u16>),
}

/// Why reading stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection ended (end of stream or an IO error).
    Io(io::Error),
    /// The client broke the protocol: close with this code.
    Violation { code: u16, reason: &'static str },
    /// A message over the limit: close with 1009.
    TooBig { size: u64, max: usize },
}

impl ReadError {
    fn protocol(reason: &'static str) -> Self {
        ReadError::Violation {
            code: close_code::PROTOCOL,
            reason,
        }
    }
}

/// The most bytes a read into an empty buffer takes, onto the stack.
const STACK_READ: usize = 4096;

/// Reads client frames from a byte stream into whole messages.
#[derive(Debug)]
pub(crate) struct FrameReader {
    /// Bytes read and not parsed yet. No allocation while empty.
    buf: BytesMut,
    /// A fragmented message so far: whether it is text, and its bytes.
    partial: Option<(bool, BytesMut)>,
    /// The most bytes one read asks for.
    read_size: usize,
    /// The largest message accepted.
    max_message: usize,
}

impl FrameReader {
    pub(crate) fn new(read_size: usize, max_message: usize) -> Self {
        FrameReader {
            buf: BytesMut::new(),
            partial: None,
            read_size: read_size.max(64),
            max_message,
        }
    }

    /// The next message; cancel-safe (all state lives in `self`).
    pub(crate) fn poll_next<R: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        io: &mut R,
    ) -> Poll<Result<WsMessage, ReadError>> {
        loop {
            if let Some(message) = self.parse()? {
                if self.buf.is_empty() {
                    // Drained: let the allocation go with the payloads that share it.
                    self.buf = BytesMut::new();
                }
                return Poll::Ready(Ok(message));
            }
            if self.buf.is_empty() {
                // Nothing buffered: read onto the stack and keep exactly what came, in an
                // allocation of that size. A message that is all of it becomes its payload
                // without another allocation (the usual case: one small frame per read), and
                // an idle connection holds no read buffer.
                let mut stack = [MaybeUninit::<u8>::uninit(); STACK_READ];
                let size = self.read_size.min(STACK_READ);
                let mut read = ReadBuf::uninit(&mut stack[..size]);
                ready!(Pin::new(&mut *io).poll_read(cx, &mut read)).map_err(ReadError::Io)?;
                if read.filled().is_empty() {
                    return Poll::Ready(Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())));
                }
                self.buf = BytesMut::from(read.filled());
                continue;
            }
            if self.buf.capacity() - self.buf.len() < self.read_size / 2 {
                self.buf.reserve(self.read_size);
            }
            let spare = self.buf.spare_capacity_mut();
            let mut read = ReadBuf::uninit(spare);
            ready!(Pin::new(&mut *io).poll_read(cx, &mut read)).map_err(ReadError::Io)?;
            let filled = read.filled().len();
            if filled == 0 {
                return Poll::Ready(Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())));
            }
            // SAFETY: `poll_read` initialized the first `filled` bytes of the spare capacity.
            unsafe { self.buf.advance_mut(filled) };
        }
    }

    /// Parses one whole message (or control frame) out of the buffer, if it holds one.
    fn parse(&mut self) -> Result<Option<WsMessage>, ReadError> {
        loop {
            let Some(frame) = self.parse_frame()? else {
                return Ok(None);
            };
            if let Some(message) = frame {
                return Ok(Some(message));
            }
            // A fragment: go on with the next frame.
        }
    }

    /// One frame: `None` when incomplete, `Some(None)` for a fragment of a message still open.
    fn parse_frame(&mut self) -> Result<Option<Option<WsMessage>>, ReadError> {
        let buf = &self.buf[..];
        if buf.len() < 2 {
            return Ok(None);
        }
        let (first, second) = (buf[0], buf[1]);
        let fin = first & 0x80 != 0;
        if first & 0x70 != 0 {
            return Err(ReadError::protocol("reserved bits set"));
        }
        let opcode = first & 0x0F;
        if second & 0x80 == 0 {
            return Err(ReadError::protocol("unmasked client frame"));
        }
        let (len, mut header) = match second & 0x7F {
            126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
            127 if buf.len() >= 10 => {
                let len = u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes"));
                if len >> 63 != 0 {
                    return Err(ReadError::protocol("frame length out of range"));
                }
                (len, 10)
            }
            126 | 127 => return Ok(None),
            short => (u64::from(short), 2),
        };
        header += 4; // the mask
        let control = opcode & 0x08 != 0;
        if control && (!fin || len > 125) {
            return Err(ReadError::protocol("fragmented or oversized control frame"));
        }
        if !control {
            let so_far = self
                .partial
                .as_ref()
                .map_or(0, |(_, bytes)| bytes.len() as u64);
            if so_far + len > self.max_message as u64 {
                return Err(ReadError::TooBig {
                    size: so_far + len,
                    max: self.max_message,
                });
            }
        }
        let total = header + len as usize;
        if buf.len() < total {
            self.buf.reserve(total - buf.len());
            return Ok(None);
        }
        let mask: [u8; 4] = buf[header - 4..header].try_into().expect("4 bytes");
        self.buf.advance(header);
        let mut payload = if self.buf.len() == len as usize {
            // The frame ends the buffer: the payload takes the allocation along.
            std::mem::take(&mut self.buf)
        } else {
            self.buf.split_to(len as usize)
        };
        unmask(&mut payload, mask);
        let message = match opcode {
            OP_TEXT | OP_BINARY => {
                if self.partial.is_some() {
                    return Err(ReadError::protocol("new message inside a fragmented one"));
                }
                let text = opcode == OP_TEXT;
                if !fin {
                    self.partial = Some((text, payload));
                    return Ok(Some(None));
                }
                complete(text, payload)?
            }
            OP_CONTINUATION => {
                let Some((text, mut bytes)) = self.partial.take() else {
                    return Err(ReadError::protocol("continuation without a message"));
                };
                bytes.unsplit(payload);
                if !fin {
                    self.partial = Some((text, bytes));
                    return Ok(Some(None));
                }
                complete(text, bytes)?
            }
            OP_CLOSE => match payload.len() {
                0 => WsMessage::Close(None),
                1 => return Err(ReadError::protocol("close frame of one byte")),
                _ => {
                    let code = u16::from_be_bytes([payload[0], payload[1]]);
                    if !close_code::is_valid(code) {
                        return Err(ReadError::protocol("invalid close code"));
                    }
                    if std::str::from_utf8(&payload[2..]).is_err() {
                        return Err(ReadError::Violation {
                            code: close_code::INVALID_DATA,
                            reason: "close reason is not UTF-8",
                        });
                    }
                    WsMessage::Close(Some(code))
                }
            },
            OP_PING => WsMessage::Ping(payload.freeze()),
            OP_PONG => WsMessage::Pong,
            _ => return Err(ReadError::protocol("reserved opcode")),
        };
        Ok(Some(Some(message)))
    }
}

/// A whole data message.
fn complete(text: bool, bytes: BytesMut) -> Result<WsMessage, ReadError> {
    if !text {
        return Ok(WsMessage::Binary(bytes.freeze()));
    }
    Str::try_from(bytes.freeze())
        .map(WsMessage::Text)
        .map_err(|_| ReadError::Violation {
            code: close_code::INVALID_DATA,
            reason: "text message is not UTF-8",
        })
}

/// XORs `data` with the repeating 4-byte `mask`, eight bytes at a time.
fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().expect("8 bytes")) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

/// Appends a server frame (final, unmasked) with `opcode` and the concatenation of `parts`.
fn encode(opcode: u8, parts: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.reserve(len + 10);
    out.push(0x80 | opcode);
    match len {
        0..=125 => out.push(len as u8),
        126..=0xFFFF => {
            out.push(126);
            out.put_u16(len as u16);
        }
        _ => {
            out.push(127);
            out.put_u64(len as u64);
        }
    }
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// Appends a text frame.
pub(crate) fn encode_text(text: &[u8], out: &mut Vec<u8>) {
    encode(OP_TEXT, &[text], out);
}

/// Appends a binary frame whose payload is `prefix` then `data`.
pub(crate) fn encode_binary(prefix: &[u8], data: &[u8], out: &mut Vec<u8>) {
    encode(OP_BINARY, &[prefix, data], out);
}

/// Appends the pong answering a ping.
pub(crate) fn encode_pong(data: &[u8], out: &mut Vec<u8>) {
    encode(OP_PONG, &[data], out);
}

/// Appends a close frame with `code` and a short reason.
pub(crate) fn encode_close(code: u16, reason: &str, out: &mut Vec<u8>) {
    // A control frame holds 125 bytes: the code and 123 of the reason, cut between characters
    // (a reason that is not UTF-8 is itself a protocol error).
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let reason = &reason.as_bytes()[..end];
    encode(OP_CLOSE, &[&code.to_be_bytes(), reason], out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame: masked with a fixed key.
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        masked_frame(first, payload, [0x12, 0x34, 0x56, 0x78])
    }

    /// A frame a client writes: `first` (FIN, opcode) and `payload`, masked with `mask`.
    pub(super) fn masked_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut out = vec![first];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    /// Feeds `bytes` in pieces of `step` and collects what the reader makes of them.
    fn read_all(bytes: &[u8], step: usize, max: usize) -> Vec<Result<WsMessage, String>> {
        let mut reader = FrameReader::new(4096, max);
        let mut out = Vec::new();
        for piece in bytes.chunks(step) {
            reader.buf.extend_from_slice(piece);
            loop {
                match reader.parse() {
                    Ok(Some(message)) => out.push(Ok(message)),
                    Ok(None) => break,
                    Err(error) => {
                        out.push(Err(format!("{error:?}")));
                        return out;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn whole_and_fragmented_messages_in_any_pieces() {
        let big = vec![b'x'; 70_000];
        let mut stream = client_frame(0x81, b"42[\"hi\"]");
        stream.extend(client_frame(0x82, &[1, 2, 3]));
        stream.extend(client_frame(0x01, b"frag"));
        stream.extend(client_frame(0x89, b"ping!")); // a control frame between fragments
        stream.extend(client_frame(0x00, b"men"));
        stream.extend(client_frame(0x80, b"ted"));
        stream.extend(client_frame(0x82, &big));
        stream.extend(client_frame(0x88, &1000u16.to_be_bytes()));
        for step in [1, 3, 7, 4096, stream.len()] {
            let messages = read_all(&stream, step, 100_000);
            assert_eq!(
                messages,
                vec![
                    Ok(WsMessage::Text(Str::from("42[\"hi\"]"))),
                    Ok(WsMessage::Binary(Bytes::from_static(&[1, 2, 3]))),
                    Ok(WsMessage::Ping(Bytes::from_static(b"ping!"))),
                    Ok(WsMessage::Text(Str::from("fragmented"))),
                    Ok(WsMessage::Binary(Bytes::from(big.clone()))),
                    Ok(WsMessage::Close(Some(1000))),
                ],
                "pieces of {step}"
            );
        }
    }

    fn first_error(stream: &[u8], max: usize) -> String {
        match read_all(stream, stream.len().max(1), max).pop() {
            Some(Err(error)) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn violations_are_refused_with_their_codes() {
        let unmasked = [0x81, 0x02, b'h', b'i'];
        assert!(first_error(&unmasked, 100).contains("unmasked"));
        assert!(first_error(&client_frame(0xC1, b"x"), 100).contains("reserved bits"));
        assert!(first_error(&client_frame(0x09, b"x"), 100).contains("control"));
        assert!(first_error(&client_frame(0x89, &[0; 126]), 100).contains("control"));
        assert!(first_error(&client_frame(0x80, b"x"), 100).contains("continuation"));
        assert!(first_error(&client_frame(0x83, b"x"), 100).contains("reserved opcode"));
        let mut nested = client_frame(0x01, b"a");
        nested.extend(client_frame(0x81, b"b"));
        assert!(first_error(&nested, 100).contains("inside"));
        let invalid = first_error(&client_frame(0x81, &[0xFF, 0xFE]), 100);
        assert!(invalid.contains("1007"), "{invalid}");
        // Over the limit: refused from the header, whole or across fragments.
        let header_only = &client_frame(0x82, &[0; 200])[..8];
        assert!(first_error(header_only, 100).contains("TooBig"));
        let mut fragments = client_frame(0x02, &[0; 60]);
        fragments.extend(client_frame(0x80, &[0; 60]));
        assert!(first_error(&fragments, 100).contains("TooBig"));
    }

    fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason);
        client_frame(0x88, &payload)
    }

    /// RFC 6455, 7.4.1 and 7.4.2, with the IANA registry: which close codes a client may send.
    #[test]
    fn close_codes_outside_the_rfc_are_refused_with_1002() {
        for code in [
            0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            let error = first_error(&close_frame(code, b""), 100);
            assert!(
                error.contains("code: 1002") && error.contains("invalid close code"),
                "{code}: {error}"
            );
        }
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000,
            4999,
        ] {
            assert_eq!(
                read_all(&close_frame(code, b"bye"), 1, 100),
                vec![Ok(WsMessage::Close(Some(code)))],
                "{code}"
            );
        }
        // No payload at all: a close without a code (1005 on the receiving side), accepted.
        assert_eq!(
            read_all(&client_frame(0x88, b""), 1, 100),
            vec![Ok(WsMessage::Close(None))]
        );
    }

    /// The server's own close frames hold at most 125 bytes and a reason cut between
    /// characters (found by the fuzzing work).
    #[test]
    fn a_long_close_reason_is_cut_between_characters() {
        let reason = "é".repeat(100); // 200 bytes
        let mut out = Vec::new();
        encode_close(close_code::NORMAL, &reason, &mut out);
        assert_eq!(out[1] as usize, out.len() - 2);
        assert!(out.len() - 2 <= 125);
        assert!(std::str::from_utf8(&out[4..]).is_ok());
        assert_eq!(out.len() - 4, 122);
    }

    /// RFC 6455, 5.5.1: a close reason is UTF-8; Node's `ws` closes with 1007 otherwise.
    #[test]
    fn a_close_reason_that_is_not_utf8_is_refused_with_1007() {
        let error = first_error(&close_frame(1000, &[0xC3, 0x28]), 100);
        assert!(
            error.contains("code: 1007") && error.contains("close reason"),
            "{error}"
        );
        // A valid multi-byte reason is fine.
        assert_eq!(
            read_all(&close_frame(4000, "au revoir, été".as_bytes()), 2, 100),
            vec![Ok(WsMessage::Close(Some(4000)))]
        );
    }

    /// RFC 6455, 5.2: a 64-bit length has its most significant bit clear; 5.6: an empty text
    /// message is valid; 5.4: a fragmented binary message is reassembled like a text one.
    #[test]
    fn lengths_empty_messages_and_binary_fragments() {
        let mut huge = vec![0x82, 0xFF];
        huge.extend_from_slice(&(1u64 << 63).to_be_bytes());
        huge.extend_from_slice(&[0; 4]);
        assert!(first_error(&huge, 100).contains("out of range"));
        assert_eq!(
            read_all(&client_frame(0x81, b""), 1, 100),
            vec![Ok(WsMessage::Text(Str::from("")))]
        );
        let mut fragments = client_frame(0x02, &[1]);
        fragments.extend(client_frame(0x00, &[]));
        fragments.extend(client_frame(0x80, &[2, 3]));
        assert_eq!(
            read_all(&fragments, 1, 100),
            vec![Ok(WsMessage::Binary(Bytes::from_static(&[1, 2, 3])))]
        );
        // A text message split inside a multi-byte character is valid once whole.
        let word = "été".as_bytes();
        let mut split = client_frame(0x01, &word[..1]);
        split.extend(client_frame(0x80, &word[1..]));
        assert_eq!(
            read_all(&split, 3, 100),
            vec![Ok(WsMessage::Text(Str::from("été")))]
        );
        // A pong frame's data is ignored; a ping's is kept for the answer.
        assert_eq!(
            read_all(&client_frame(0x8A, b"x"), 1, 100),
            vec![Ok(WsMessage::Pong)]
        );
    }

    #[test]
    fn the_buffer_is_released_when_drained() {
        let mut reader = FrameReader::new(4096, 100);
        let frame = client_frame(0x81, b"40");
        let mut io = &frame[..];
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let message = reader.poll_next(&mut cx, &mut io);
        assert!(matches!(message, Poll::Ready(Ok(WsMessage::Text(ref t))) if t == "40"));
        assert_eq!(reader.buf.capacity(), 0);
        // The end of the stream is reported as such.
        assert!(matches!(
            reader.poll_next(&mut cx, &mut io),
            Poll::Ready(Err(ReadError::Io(_)))
        ));
    }

    /// A stream that delivers `pieces` one read at a time (a read takes at most what the
    /// buffer offers; the rest of the piece comes with the next read), with a "nothing yet"
    /// before each.
    pub(super) struct Trickle {
        pub(super) pieces: std::collections::VecDeque<Vec<u8>>,
        pub(super) idle: bool,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            self.idle = !self.idle;
            if self.idle {
                return Poll::Pending;
            }
            if let Some(piece) = self.pieces.front_mut() {
                let n = piece.len().min(buf.remaining());
                buf.put_slice(&piece[..n]);
                piece.drain(..n);
                if piece.is_empty() {
                    self.pieces.pop_front();
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn reads_on_the_stack_and_in_the_buffer_give_the_same_messages() {
        let big = vec![7u8; 10_000];
        let mut stream = client_frame(0x81, b"42[\"a\"]");
        stream.extend(client_frame(0x81, b"42[\"b\"]"));
        stream.extend(client_frame(0x82, &big));
        stream.extend(client_frame(0x01, b"frag"));
        stream.extend(client_frame(0x80, b"ment"));
        stream.extend(client_frame(0x81, b"3"));
        for step in [1, 5, 13, 100, 4096, 5000, stream.len()] {
            let mut io = Trickle {
                pieces: stream.chunks(step).map(<[u8]>::to_vec).collect(),
                idle: false,
            };
            let mut reader = FrameReader::new(4096, 100_000);
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let mut messages = Vec::new();
            loop {
                match reader.poll_next(&mut cx, &mut io) {
                    Poll::Ready(Ok(message)) => messages.push(message),
                    Poll::Ready(Err(ReadError::Io(_))) => break,
                    Poll::Ready(Err(_)) => panic!("a violation in pieces of {step}"),
                    Poll::Pending => {
                        if reader.buf.is_empty() {
                            assert_eq!(reader.buf.capacity(), 0, "idle with a buffer");
                        }
                    }
                }
            }
            assert_eq!(
                messages,
                vec![
                    WsMessage::Text(Str::from("42[\"a\"]")),
                    WsMessage::Text(Str::from("42[\"b\"]")),
                    WsMessage::Binary(Bytes::from(big.clone())),
                    WsMessage::Text(Str::from("fragment")),
                    WsMessage::Text(Str::from("3")),
                ],
                "pieces of {step}"
            );
        }
    }

    #[test]
    fn server_frames() {
        let mut out = Vec::new();
        encode_text(b"40", &mut out);
        assert_eq!(out, [0x81, 2, b'4', b'0']);
        out.clear();
        encode_binary(&[4], &[0; 200], &mut out);
        assert_eq!(&out[..5], &[0x82, 126, 0, 201, 4]);
        assert_eq!(out.len(), 4 + 201);
        out.clear();
        encode_close(close_code::TOO_BIG, "message too big", &mut out);
        assert_eq!(&out[..4], &[0x88, 17, 0x03, 0xF1]);
        out.clear();
        encode_pong(b"p", &mut out);
        assert_eq!(out, [0x8A, 1, b'p']);
        let mut data = *b"abcdefghijk";
        unmask(&mut data, [1, 2, 3, 4]);
        unmask(&mut data, [1, 2, 3, 4]);
        assert_eq!(&data, b"abcdefghijk");
    }
}

/// Property tests: frames the server writes, and frames a client may write (masked, fragmented,
/// with control frames between the fragments), read back whole in any pieces. The helpers are
/// shared with the Engine.IO round trips in `packet.rs`.
#[cfg(test)]
pub(crate) mod proptests {
    use std::collections::VecDeque;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    use super::tests::Trickle as Pieces;

    /// Reads `stream` cut in pieces of `sizes` (taken in turn): the messages, then why reading
    /// stopped (the end of the stream, for a stream of whole frames).
    pub(crate) fn read_in_pieces(
        stream: &[u8],
        sizes: &[usize],
        max: usize,
    ) -> (Vec<WsMessage>, ReadError) {
        let mut pieces = VecDeque::new();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at == stream.len() {
                break;
            }
            let end = (at + size.max(&1)).min(stream.len());
            pieces.push_back(stream[at..end].to_vec());
            at = end;
        }
        let mut io = Pieces {
            pieces,
            idle: false,
        };
        let mut reader = FrameReader::new(4096, max);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut messages = Vec::new();
        loop {
            match reader.poll_next(&mut cx, &mut io) {
                Poll::Ready(Ok(message)) => messages.push(message),
                Poll::Ready(Err(error)) => return (messages, error),
                Poll::Pending => {}
            }
        }
    }

    /// Whether reading stopped at the end of the stream, as after whole frames.
    pub(crate) fn ended(error: &ReadError) -> bool {
        matches!(error, ReadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof)
    }

    /// Server frames (unmasked) as a client would send them: each masked with `key`.
    pub(crate) fn masked(mut frames: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut out = Vec::with_capacity(frames.len() + 16);
        while !frames.is_empty() {
            assert_eq!(frames[1] & 0x80, 0, "a server frame is not masked");
            let (len, header) = match frames[1] {
                126 => (usize::from(u16::from_be_bytes([frames[2], frames[3]])), 4),
                127 => {
                    let len = u64::from_be_bytes(frames[2..10].try_into().unwrap());
                    (usize::try_from(len).unwrap(), 10)
                }
                short => (usize::from(short), 2),
            };
            out.extend_from_slice(&[frames[0], frames[1] | 0x80]);
            out.extend_from_slice(&frames[2..header]);
            out.extend_from_slice(&key);
            let payload = &frames[header..header + len];
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            frames = &frames[header + len..];
        }
        out
    }

    use super::tests::masked_frame as client_frame;

    /// Text of any characters, control and astral ones included.
    fn text(max: usize) -> impl Strategy<Value = String> {
        vec(any::<char>(), 0..max).prop_map(String::from_iter)
    }

    /// Payload lengths around the three length forms (7 bits, 16 bits, 64 bits), and small ones.
    fn length() -> impl Strategy<Value = usize> {
        prop_oneof![
            8 => 0..130usize,
            2 => 65_530..65_540usize,
            1 => 65_536..70_000usize,
        ]
    }

    fn bytes_of(len: usize) -> impl Strategy<Value = Vec<u8>> {
        vec(any::<u8>(), len)
    }

    /// The frames the server writes.
    #[derive(Debug, Clone)]
    enum Sent {
        Text(String),
        Binary(Vec<u8>, Vec<u8>),
        Pong(Vec<u8>),
        Close(u16, String),
    }

    fn sent() -> impl Strategy<Value = Sent> {
        prop_oneof![
            text(40).prop_map(Sent::Text),
            (vec(any::<u8>(), 0..2), length().prop_flat_map(bytes_of))
                .prop_map(|(prefix, data)| Sent::Binary(prefix, data)),
            vec(any::<u8>(), 0..=125).prop_map(Sent::Pong),
            // Codes a close frame may carry, with short reasons (a reason is cut at 123 bytes).
            (
                prop_oneof![1000..=1003u16, 1007..=1011u16, 3000..=4999u16],
                "[ -~]{0,30}"
            )
                .prop_map(|(code, reason)| Sent::Close(code, reason)),
        ]
    }

    /// What a client sends: a message in fragments, pings between them.
    #[derive(Debug, Clone)]
    struct Message {
        text: bool,
        data: Vec<u8>,
        /// Where the fragments end (sorted, within the data).
        cuts: Vec<usize>,
        /// After which fragment a ping comes, and its data.
        pings: Vec<(usize, Vec<u8>)>,
        keys: Vec<[u8; 4]>,
    }

    fn message() -> impl Strategy<Value = Message> {
        let data = prop_oneof![
            text(60).prop_map(|s| (true, s.into_bytes())),
            length().prop_flat_map(bytes_of).prop_map(|b| (false, b)),
        ];
        data.prop_flat_map(|(text, data)| {
            let len = data.len();
            (
                Just(text),
                Just(data),
                vec(0..=len, 0..4),
                vec((0..5usize, vec(any::<u8>(), 0..=125)), 0..3),
                vec(any::<[u8; 4]>(), 8),
            )
        })
        .prop_map(|(text, data, mut cuts, pings, keys)| {
            // The fragments of a text message may split a character: only the whole is UTF-8.
            cuts.sort_unstable();
            Message {
                text,
                data,
                cuts,
                pings,
                keys,
            }
        })
    }

    impl Message {
        /// The client frames, and the messages the reader must return for them.
        fn frames(&self) -> (Vec<u8>, Vec<WsMessage>) {
            let mut bounds = self.cuts.clone();
            bounds.push(self.data.len());
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            let mut start = 0;
            for (i, &end) in bounds.iter().enumerate() {
                let last = i == bounds.len() - 1;
                let opcode = match (i, self.text) {
                    (0, true) => OP_TEXT,
                    (0, false) => OP_BINARY,
                    _ => OP_CONTINUATION,
                };
                let fin = if last { 0x80 } else { 0 };
                let key = self.keys[i % self.keys.len()];
                stream.extend(client_frame(fin | opcode, &self.data[start..end], key));
                start = end;
                if last {
                    break;
                }
                for (_, ping) in self.pings.iter().filter(|(after, _)| *after == i) {
                    stream.extend(client_frame(0x80 | OP_PING, ping, key));
                    expected.push(WsMessage::Ping(Bytes::from(ping.clone())));
                }
            }
            let data = Bytes::from(self.data.clone());
            expected.push(if self.text {
                WsMessage::Text(Str::try_from(data).unwrap())
            } else {
                WsMessage::Binary(data)
            });
            (stream, expected)
        }
    }

    fn pieces() -> impl Strategy<Value = Vec<usize>> {
        vec(prop_oneof![1..16usize, 1..5000usize], 1..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn server_frames_read_back(
            frames in vec(sent(), 1..6),
            key in any::<[u8; 4]>(),
            sizes in pieces(),
        ) {
            let mut out = Vec::new();
            let mut expected = Vec::new();
            for frame in &frames {
                match frame {
                    Sent::Text(text) => {
                        encode_text(text.as_bytes(), &mut out);
                        expected.push(WsMessage::Text(Str::from(text.clone())));
                    }
                    Sent::Binary(prefix, data) => {
                        encode_binary(prefix, data, &mut out);
                        expected.push(WsMessage::Binary(Bytes::from([&prefix[..], data].concat())));
                    }
                    Sent::Pong(data) => {
                        encode_pong(data, &mut out);
                        expected.push(WsMessage::Pong);
                    }
                    Sent::Close(code, reason) => {
                        encode_close(*code, reason, &mut out);
                        expected.push(WsMessage::Close(Some(*code)));
                    }
                }
            }
            let (messages, end) = read_in_pieces(&masked(&out, key), &sizes, 100_000);
            prop_assert_eq!(messages, expected);
            prop_assert!(ended(&end), "{:?}", end);
        }

        #[test]
        fn fragmented_client_messages_read_back_whole(
            messages in vec(message(), 1..4),
            sizes in pieces(),
        ) {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for message in &messages {
                let (frames, read) = message.frames();
                stream.extend(frames);
                expected.extend(read);
            }
            let (read, end) = read_in_pieces(&stream, &sizes, 100_000);
            prop_assert_eq!(read, expected);
            prop_assert!(ended(&end), "{:?}", end);
        }

        #[test]
        fn the_size_limit_holds_across_fragments(
            message in message(),
            max in 0..70_000usize,
            sizes in pieces(),
        ) {
            let (stream, expected) = message.frames();
            let (read, end) = read_in_pieces(&stream, &sizes, max);
            if message.data.len() <= max {
                prop_assert_eq!(read, expected);
                prop_assert!(ended(&end), "{:?}", end);
            } else {
                // The pings before the fragment that goes over the limit, then 1009.
                prop_assert!(read.iter().all(|m| matches!(m, WsMessage::Ping(_))));
                prop_assert!(matches!(end, ReadError::TooBig { size, .. } if size > max as u64), "{:?}", end);
            }
        }
    }
}
