//! Compression of long-polling responses, as the Node server's `httpCompression` option does:
//! a GET poll whose payload is at least `threshold` bytes is sent gzip- or deflate-encoded,
//! whichever the request's `Accept-Encoding` prefers (chosen as Node's `accepts` package does).
//!
//! The compressors are kept per thread and reset between responses: setting one up costs more
//! than compressing a few kilobytes with it (measured with flate2's zlib-rs backend: 10.5 µs for
//! a new gzip encoder on a 1 KiB payload at level 1, 3.6 µs reusing one; with the miniz_oxide
//! backend, 142 µs and 16 µs).

use std::cell::RefCell;

use bytes::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use http::{HeaderMap, HeaderValue, header};

/// How long-polling responses are compressed (Node: `httpCompression`). On by default, with
/// Node's defaults; [`EngineConfig::http_compression`] sets it or turns it off.
///
/// A response to a GET poll (the handshake included) whose payload is at least
/// [`threshold`](Self::threshold) bytes is compressed with gzip or deflate when the request's
/// `Accept-Encoding` accepts one of them, the encoding picked as the Node server picks it (the
/// highest `q`, then an encoding named before `*`, then the one listed first, then gzip before
/// deflate). It gets `Content-Encoding` and the compressed `Content-Length`. Browsers always send
/// `Accept-Encoding` and decode the response; clients that send none (the Node client over
/// `XMLHttpRequest`, most raw HTTP clients) get it uncompressed. POST answers (`ok`), error
/// answers and WebSocket frames are never compressed.
///
/// Compressing costs CPU in the request's task: about 12 µs for a 1 KiB payload and 27 µs for
/// 4 KiB at level 6, 0.14 µs a KiB beyond that (7 ms for 1 MB); level 1 is 2 to 3 times faster
/// for output 10 to 50% larger. See BENCHMARKS.md for a polling round trip's figures.
///
/// [`EngineConfig::http_compression`]: crate::EngineConfig::http_compression
///
/// ```
/// use tower_socketio::{EngineConfig, HttpCompression};
///
/// // Only payloads of 4 KiB and more, at the fastest level.
/// let config = EngineConfig::default()
///     .http_compression(Some(HttpCompression { threshold: 4096, level: 1 }));
/// // Never: a proxy in front compresses, or the CPU matters more than the bytes.
/// let off = EngineConfig::default().http_compression(None);
/// # let _ = (config, off);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpCompression {
    /// The smallest payload compressed, in bytes (Node: `threshold`). Default 1024.
    pub threshold: usize,
    /// The zlib compression level, 0 (stored, no compression) to 9 (smallest, slowest); above 9
    /// counts as 9 (Node: `level`). Default 6, zlib's default and so Node's.
    pub level: u32,
}

impl Default for HttpCompression {
    fn default() -> Self {
        HttpCompression {
            threshold: 1024,
            level: 6,
        }
    }
}

impl HttpCompression {
    /// What a poll with these request headers gets: `None` when its `Accept-Encoding` accepts
    /// neither gzip nor deflate.
    pub(crate) fn for_request(&self, headers: &HeaderMap) -> Option<ResponseCompression> {
        let encoding = negotiate(headers)?;
        Some(ResponseCompression {
            encoding,
            threshold: self.threshold,
            level: self.level.min(9),
        })
    }
}

/// A content coding the server produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `gzip` (RFC 1952).
    Gzip,
    /// `deflate`: the zlib format (RFC 1950), as HTTP means it and Node's `createDeflate` makes.
    Deflate,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }
}

/// The compression one poll response gets when its payload is large enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseCompression {
    encoding: Encoding,
    threshold: usize,
    level: u32,
}

impl ResponseCompression {
    /// The body to send for `payload`, with its `Content-Encoding`: `None` when the payload stays
    /// as it is (below the threshold).
    pub(crate) fn apply(&self, payload: &[u8]) -> Option<(Bytes, HeaderValue)> {
        if payload.len() < self.threshold {
            return None;
        }
        let body = compress(self.encoding, self.level, payload)?;
        Some((body, HeaderValue::from_static(self.encoding.name())))
    }
}

/// One `Accept-Encoding` entry: a coding (or `*`), its weight and its place in the header.
struct Accepted<'a> {
    coding: &'a str,
    q: f64,
    at: isize,
}

/// How an entry matches a coding: specificity (exact name over `*`), weight, place. The best
/// match of a coding is the greatest in that order, as Node's `negotiator` 0.6 ranks them.
#[derive(Clone, Copy)]
struct Priority {
    exact: bool,
    q: f64,
    at: isize,
}

impl Priority {
    /// What a coding no entry matches gets (`negotiator`'s `{o: -1, q: 0, s: 0}`).
    const NONE: Priority = Priority {
        exact: false,
        q: 0.0,
        at: -1,
    };

    /// Whether `candidate` replaces `self` as a coding's best match: `negotiator`'s
    /// `(priority.s - spec.s || priority.q - spec.q || priority.o - spec.o) < 0`, where a NaN
    /// weight difference, being falsy, falls through to the place.
    fn replaced_by(&self, candidate: &Priority) -> bool {
        if self.exact != candidate.exact {
            return candidate.exact;
        }
        let dq = self.q - candidate.q;
        if dq != 0.0 && !dq.is_nan() {
            return dq < 0.0;
        }
        self.at < candidate.at
    }
}

/// The coding the Node server would pick for a request with these headers, among gzip and
/// deflate (its `accepts(req).encodings(["gzip", "deflate"])`); `None` for none.
pub(crate) fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    let mut gzip = Priority::NONE;
    let mut deflate = Priority::NONE;
    let mut at = 0;
    // Several header lines count as one comma-separated list, as Node joins them.
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let index = at;
            at += 1;
            let Some(accepted) = parse_entry(entry, index) else {
                continue;
            };
            for (coding, best) in [("gzip", &mut gzip), ("deflate", &mut deflate)] {
                let exact = accepted.coding.eq_ignore_ascii_case(coding);
                if !exact && accepted.coding != "*" {
                    continue;
                }
                let candidate = Priority {
                    exact,
                    q: accepted.q,
                    at: accepted.at,
                };
                if best.replaced_by(&candidate) {
                    *best = candidate;
                }
            }
        }
    }
    // A coding is acceptable with a positive weight; the heavier wins, then the exact one, then
    // the one named first in the header, then gzip.
    match (gzip.q > 0.0, deflate.q > 0.0) {
        (false, false) => None,
        (true, false) => Some(Encoding::Gzip),
        (false, true) => Some(Encoding::Deflate),
        (true, true) => {
            let deflate_first = if gzip.q != deflate.q {
                deflate.q > gzip.q
            } else if gzip.exact != deflate.exact {
                deflate.exact
            } else {
                deflate.at < gzip.at
            };
            Some(if deflate_first {
                Encoding::Deflate
            } else {
                Encoding::Gzip
            })
        }
    }
}

/// Parses `coding[;q=weight][;...]`; `None` for an empty entry.
fn parse_entry(entry: &str, at: isize) -> Option<Accepted<'_>> {
    let mut parts = entry.split(';');
    let coding = parts.next()?.trim();
    if coding.is_empty() || coding.contains(char::is_whitespace) {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        let mut pair = param.trim().splitn(2, '=');
        if pair.next() == Some("q") {
            q = parse_float_prefix(pair.next().unwrap_or(""));
            break;
        }
    }
    Some(Accepted { coding, q, at })
}

/// JavaScript's `parseFloat`, enough for weights: the longest decimal prefix after leading
/// spaces, NaN when there is none.
fn parse_float_prefix(text: &str) -> f64 {
    let text = text.trim_start();
    let bytes = text.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    if !text[digits_start..end].bytes().any(|b| b.is_ascii_digit()) {
        return f64::NAN;
    }
    if end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
        let mut exp = end + 1;
        if exp < bytes.len() && matches!(bytes[exp], b'+' | b'-') {
            exp += 1;
        }
        if exp < bytes.len() && bytes[exp].is_ascii_digit() {
            while exp < bytes.len() && bytes[exp].is_ascii_digit() {
                exp += 1;
            }
            end = exp;
        }
    }
    text[..end].parse().unwrap_or(f64::NAN)
}

/// A compressor of one thread, kept with the level it was made for.
struct Cached {
    level: u32,
    compress: Compress,
}

thread_local! {
    /// Raw deflate for gzip (header and trailer written here), zlib-wrapped for deflate.
    static COMPRESSORS: RefCell<[Option<Cached>; 2]> = const { RefCell::new([None, None]) };
}

/// `payload` compressed; `None` if the compressor fails (the payload then goes as it is).
fn compress(encoding: Encoding, level: u32, payload: &[u8]) -> Option<Bytes> {
    COMPRESSORS.with(|cell| {
        // A compression running on this thread already (it cannot, compression does not
        // call back into the engine) would get a compressor of its own.
        let Ok(mut slots) = cell.try_borrow_mut() else {
            let mut own = Compress::new(Compression::new(level), encoding == Encoding::Deflate);
            return compress_with(&mut own, encoding, level, payload);
        };
        let slot = &mut slots[encoding as usize];
        match slot {
            Some(cached) if cached.level == level => cached.compress.reset(),
            _ => {
                *slot = Some(Cached {
                    level,
                    compress: Compress::new(Compression::new(level), encoding == Encoding::Deflate),
                });
            }
        }
        let cached = slot.as_mut().expect("set above");
        compress_with(&mut cached.compress, encoding, level, payload)
    })
}

/// The gzip header of the members this server writes: no name, no time, the `XFL` zlib
/// writes for the level, operating system "unknown".
fn gzip_header(level: u32) -> [u8; 10] {
    let xfl = match level {
        9 => 2,
        0 | 1 => 4,
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
}

fn compress_with(
    compress: &mut Compress,
    encoding: Encoding,
    level: u32,
    payload: &[u8],
) -> Option<Bytes> {
    // Room for what Socket.IO payloads usually shrink to; grown (doubled) when short. The
    // output never exceeds the input by more than zlib's bound (a few bytes a 16 KiB block),
    // so the buffer is bounded by the payload, itself bounded by `max_buffered_bytes`.
    let mut out = Vec::with_capacity(payload.len() / 4 + 64);
    if encoding == Encoding::Gzip {
        out.extend_from_slice(&gzip_header(level));
    }
    loop {
        let read = compress.total_in() as usize;
        let status = compress
            .compress_vec(&payload[read..], &mut out, FlushCompress::Finish)
            .map_err(|error| tracing::debug!(%error, "compressing a poll response failed"))
            .ok()?;
        if status == Status::StreamEnd {
            break;
        }
        out.reserve(out.capacity());
    }
    if encoding == Encoding::Gzip {
        let mut crc = Crc::new();
        crc.update(payload);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    }
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accept(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        }
        headers
    }

    fn pick(values: &[&'static str]) -> Option<Encoding> {
        negotiate(&accept(values))
    }

    #[test]
    fn picks_the_encoding_node_picks() {
        use Encoding::{Deflate, Gzip};
        // Each answer checked against `accepts(req).encodings(["gzip", "deflate"])` of the
        // `accepts` 1.3.8 / `negotiator` 0.6.3 packages the Node server uses.
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[""]), None);
        assert_eq!(pick(&["identity"]), None);
        assert_eq!(pick(&["br, zstd"]), None);
        assert_eq!(pick(&["gzip"]), Some(Gzip));
        assert_eq!(pick(&["deflate"]), Some(Deflate));
        assert_eq!(pick(&["gzip, deflate, br, zstd"]), Some(Gzip)); // browsers
        assert_eq!(pick(&["deflate, gzip"]), Some(Deflate)); // the first listed
        assert_eq!(pick(&["deflate;q=0.5, gzip;q=0.8"]), Some(Gzip));
        assert_eq!(pick(&["gzip;q=0.5, deflate"]), Some(Deflate));
        assert_eq!(pick(&["*"]), Some(Gzip));
        assert_eq!(pick(&["*, deflate"]), Some(Deflate)); // exact before `*`
        assert_eq!(pick(&["gzip;q=0, *"]), Some(Deflate));
        assert_eq!(pick(&["gzip;q=0"]), None);
        assert_eq!(pick(&["*;q=0"]), None);
        assert_eq!(pick(&["GZIP"]), Some(Gzip));
        assert_eq!(pick(&["gzip;q=abc"]), None); // NaN: not acceptable
        assert_eq!(pick(&["gzip;q=0.5x, deflate;q=0.4"]), Some(Gzip)); // parseFloat prefix
        assert_eq!(pick(&[" , gzip ; q=1"]), Some(Gzip));
        assert_eq!(pick(&["br", "deflate"]), Some(Deflate)); // two header lines
        assert_eq!(pick(&["gzip;level=1;q=0.2, deflate;q=0.1"]), Some(Gzip));
    }

    #[test]
    fn parses_weights_like_parse_float() {
        assert_eq!(parse_float_prefix("0.5"), 0.5);
        assert_eq!(parse_float_prefix(" 1"), 1.0);
        assert_eq!(parse_float_prefix("1."), 1.0);
        assert_eq!(parse_float_prefix(".5"), 0.5);
        assert_eq!(parse_float_prefix("0.3abc"), 0.3);
        assert_eq!(parse_float_prefix("1e-1x"), 0.1);
        assert_eq!(parse_float_prefix("2e"), 2.0);
        assert!(parse_float_prefix("").is_nan());
        assert!(parse_float_prefix("x").is_nan());
        assert!(parse_float_prefix(".").is_nan());
    }

    fn payload(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"42[\"message\",{\"n\":1234}]\x1e"[i % 25])
            .collect()
    }

    #[test]
    fn compressed_bodies_decode_to_the_payload() {
        for len in [0, 1, 1024, 100_000] {
            let data = payload(len);
            for level in [0, 1, 6, 9] {
                let gzip = compress(Encoding::Gzip, level, &data).unwrap();
                let mut decoded = Vec::new();
                flate2::read::GzDecoder::new(&gzip[..])
                    .read_to_end(&mut decoded)
                    .unwrap();
                assert_eq!(decoded, data, "gzip {len} level {level}");
                let deflate = compress(Encoding::Deflate, level, &data).unwrap();
                let mut decoded = Vec::new();
                flate2::read::ZlibDecoder::new(&deflate[..])
                    .read_to_end(&mut decoded)
                    .unwrap();
                assert_eq!(decoded, data, "deflate {len} level {level}");
                if len >= 1024 && level > 0 {
                    assert!(gzip.len() < len / 4, "{len} {level}: {}", gzip.len());
                }
            }
        }
    }

    #[test]
    fn incompressible_payloads_grow_the_buffer() {
        // Pseudo-random bytes: the output is larger than the first guess of a quarter.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..50_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let gzip = compress(Encoding::Gzip, 6, &data).unwrap();
        assert!(gzip.len() > data.len());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, data);
    }

    #[test]
    fn below_the_threshold_nothing_changes() {
        let c = HttpCompression::default()
            .for_request(&accept(&["gzip"]))
            .unwrap();
        assert!(c.apply(&payload(1023)).is_none());
        let (body, encoding) = c.apply(&payload(1024)).unwrap();
        assert_eq!(encoding, "gzip");
        assert_eq!(&body[..2], &[0x1f, 0x8b]);
        assert!(
            HttpCompression::default()
                .for_request(&accept(&["identity"]))
                .is_none()
        );
    }
}
