//! The WebSocket frame reader, fed a client's byte stream in arbitrary pieces.
//!
//! Input: one byte `n`, then `n % 16` bytes that set the piece sizes (used in turn), one byte
//! for the size limit, then the stream. The reader must never panic, never return a message
//! over the limit (nor a control frame over 125 bytes), and must read the stream the same in
//! those pieces as in the largest pieces it asks for.

#![no_main]

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, ReadBuf};
use tower_socketio::fuzz_support::{WsError, WsFrame, WsReader};

/// A stream that hands out its bytes in the given pieces, each after a "nothing yet" (a read
/// takes at most what the caller's buffer offers; the rest of the piece comes next).
struct Pieces {
    pieces: VecDeque<Vec<u8>>,
    idle: bool,
}

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
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

/// Reads everything from `pieces`: the messages, then why reading stopped.
fn read_all(pieces: VecDeque<Vec<u8>>, max: usize) -> (Vec<WsFrame>, WsError) {
    let mut io = Pieces {
        pieces,
        idle: false,
    };
    let mut reader = WsReader::new(4096, max);
    let mut cx = Context::from_waker(Waker::noop());
    let mut messages = Vec::new();
    loop {
        match reader.poll_next(&mut cx, &mut io) {
            Poll::Ready(Ok(message)) => {
                match &message {
                    WsFrame::Text(text) => assert!(text.len() <= max, "text over the limit"),
                    WsFrame::Binary(data) => assert!(data.len() <= max, "binary over the limit"),
                    WsFrame::Ping(data) => assert!(data.len() <= 125, "ping over 125 bytes"),
                    WsFrame::Pong | WsFrame::Close(_) => {}
                }
                messages.push(message);
            }
            Poll::Ready(Err(error)) => {
                if let WsError::TooBig { size, max: limit } = error {
                    assert!(size > limit as u64 && limit == max);
                }
                return (messages, error);
            }
            Poll::Pending => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 16);
    if rest.len() < count + 1 {
        return;
    }
    let (sizes, rest) = rest.split_at(count);
    let (&limit, stream) = rest.split_first().expect("checked");
    // Limits from 0 to 2,040 bytes: frames of 126 and 127 length forms both cross them.
    let max = usize::from(limit) * 8;
    // Piece sizes: 1 to 128 bytes, or (high bit set) up to 8 KiB in steps of 64.
    let sizes: Vec<usize> = sizes
        .iter()
        .map(|&b| match b & 0x80 {
            0 => usize::from(b) + 1,
            _ => usize::from(b & 0x7f) * 64 + 1,
        })
        .collect();
    let mut pieces = VecDeque::new();
    let mut at = 0;
    let mut turn = 0;
    while at < stream.len() {
        let size = sizes
            .get(turn % sizes.len().max(1))
            .copied()
            .unwrap_or(stream.len());
        let end = (at + size).min(stream.len());
        pieces.push_back(stream[at..end].to_vec());
        at = end;
        turn += 1;
    }
    let in_pieces = read_all(pieces, max);
    let whole = read_all(VecDeque::from([stream.to_vec()]), max);
    assert_eq!(in_pieces, whole, "pieces of {sizes:?}");
});
