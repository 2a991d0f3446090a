//! The official Socket.IO browser client, served like the Node server's
//! `serveClient` option.
//!
//! With the `client-bundle` feature (on by default), `build.rs` embeds the
//! `dist/` files of the npm package `socket.io-client` at [`CLIENT_VERSION`]
//! (checked against the package's published sha512 integrity), each with a
//! gzip-compressed copy made at build time. [`serve`] answers requests for
//! `<path>/socket.io.js`, `socket.io.min.js`, `socket.io.esm.min.js`,
//! `socket.io.msgpack.min.js` and their `.map` files from that static data:
//! no copy, no compression and no file system access per request, and no Node
//! at run time. Without the feature nothing is embedded and [`serve`] always
//! returns `None`.

use bytes::Bytes;
use http::{HeaderMap, Response};

/// Version of the npm package `socket.io-client` whose browser bundle is
/// embedded: the client matching the Socket.IO protocol the server speaks.
/// `build.rs` pins the same version, with its npm integrity.
#[cfg_attr(not(feature = "client-bundle"), allow(dead_code))]
pub(crate) const CLIENT_VERSION: &str = "4.8.1";

/// The files of the bundle, as served under the path (`build.rs` takes the same from the
/// package's `dist/`).
#[cfg_attr(not(feature = "client-bundle"), allow(dead_code))]
const FILE_NAMES: [&str; 8] = [
    "socket.io.js",
    "socket.io.js.map",
    "socket.io.min.js",
    "socket.io.min.js.map",
    "socket.io.esm.min.js",
    "socket.io.esm.min.js.map",
    "socket.io.msgpack.min.js",
    "socket.io.msgpack.min.js.map",
];

/// The embedded files and the HTTP handling of requests for them.
#[cfg(feature = "client-bundle")]
mod embedded {
    use super::{CLIENT_VERSION, not_embedded};
    use bytes::Bytes;
    use http::header::{
        ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
    };
    use http::{HeaderMap, HeaderValue, Response, StatusCode};

    /// One file of socket.io-client's `dist/` folder, as embedded.
    pub(super) struct BundleFile {
        /// The file name, e.g. `socket.io.min.js`.
        pub(super) name: &'static str,
        /// The file's bytes, as published.
        pub(super) identity: &'static [u8],
        /// The same bytes, gzip-compressed at build time.
        pub(super) gzip: &'static [u8],
    }

    // Defines `BUNDLED_VERSION: &str` and `BUNDLE_FILES: &[BundleFile]`.
    include!(concat!(env!("OUT_DIR"), "/client_bundle_files.rs"));

    /// The entity tag of every file: the quoted client version, as the Node
    /// server sends it.
    pub(super) const ETAG_VALUE: &str = "\"4.8.1\"";

    /// Whether `a` and `b` hold the same bytes, at compile time.
    const fn same(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    // The embedded files, the version and the ETag must all agree.
    const _: () = {
        let version = CLIENT_VERSION.as_bytes();
        assert!(
            same(BUNDLED_VERSION.as_bytes(), version),
            "build.rs embedded another socket.io-client version than CLIENT_VERSION"
        );
        let etag = ETAG_VALUE.as_bytes();
        assert!(
            etag.len() == version.len() + 2
                && etag[0] == b'"'
                && etag[etag.len() - 1] == b'"'
                && same(etag.split_at(1).1.split_at(version.len()).0, version),
            "ETAG_VALUE must be CLIENT_VERSION in quotes"
        );
    };

    /// `Content-Type` of the scripts.
    const JAVASCRIPT: &str = "application/javascript; charset=utf-8";

    /// `Content-Type` of the source maps.
    const JSON: &str = "application/json";

    /// `Cache-Control` of every file, as the Node server sends it: caches
    /// keep the file but revalidate it (cheaply, with the `ETag`) each time.
    const CACHE: &str = "public, max-age=0";

    /// See [`super::serve`].
    pub(super) fn serve(file_name: &str, request_headers: &HeaderMap) -> Option<Response<Bytes>> {
        if BUNDLE_FILES.is_empty() {
            return not_embedded(file_name);
        }
        let file = BUNDLE_FILES.iter().find(|f| f.name == file_name)?;

        let not_modified = if_none_match(request_headers);
        let gzip = !not_modified && accepts_gzip(request_headers);
        let body = if not_modified {
            Bytes::new()
        } else if gzip {
            Bytes::from_static(file.gzip)
        } else {
            Bytes::from_static(file.identity)
        };

        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(ETAG, HeaderValue::from_static(ETAG_VALUE));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
        // The body depends on Accept-Encoding whichever coding was chosen.
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        if not_modified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            return Some(response);
        }
        let content_type = if file.name.ends_with(".map") {
            JSON
        } else {
            JAVASCRIPT
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Some(response)
    }

    /// Whether `If-None-Match` holds our `ETag` (strong or `W/` weak, alone or
    /// in a list, in one or several header lines) or is `*`.
    fn if_none_match(headers: &HeaderMap) -> bool {
        headers
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ETAG_VALUE)
    }

    /// Whether `Accept-Encoding` allows gzip: `gzip` (or its alias `x-gzip`)
    /// with a non-zero quality, or else `*` with a non-zero quality. As in
    /// the Node server, gzip is then preferred to identity whatever their
    /// relative qualities; `gzip;q=0` (or no mention) means identity.
    fn accepts_gzip(headers: &HeaderMap) -> bool {
        let mut gzip: Option<f32> = None;
        let mut any: Option<f32> = None;
        for value in headers.get_all(ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else {
                continue;
            };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or_default().trim();
                let quality = parts
                    .filter_map(|param| param.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("q"))
                    .map_or(1.0, |(_, q)| parse_quality(q.trim()));
                let slot = if coding.eq_ignore_ascii_case("gzip")
                    || coding.eq_ignore_ascii_case("x-gzip")
                {
                    &mut gzip
                } else if coding == "*" {
                    &mut any
                } else {
                    continue;
                };
                *slot = Some(slot.map_or(quality, |q| q.max(quality)));
            }
        }
        gzip.or(any).is_some_and(|q| q > 0.0)
    }

    /// A `q=` weight; anything unreadable counts as 0 (not acceptable), so
    /// a garbled header gets the always-safe identity coding.
    fn parse_quality(q: &str) -> f32 {
        q.parse::<f32>()
            .ok()
            .filter(|q| q.is_finite())
            .unwrap_or(0.0)
    }
}

/// Answers a request for the embedded browser client file `file_name`, the
/// last path segment after the Socket.IO path (e.g. `socket.io.min.js`), as
/// the Node socket.io 4 server does:
///
/// - `Content-Type: application/javascript; charset=utf-8` for the scripts,
///   `application/json` for the `.map` files;
/// - `ETag: "4.8.1"` (the client version) and `Cache-Control: public, max-age=0`;
/// - `304 Not Modified` with an empty body when `If-None-Match` holds that
///   `ETag` (strong or weak, or in a list) or is `*`;
/// - the gzip copy with `Content-Encoding: gzip` when `Accept-Encoding`
///   allows gzip (`q=0` refuses it), the file as published otherwise;
///   `Vary: Accept-Encoding` in every case.
///
/// Bodies borrow the embedded static data. The request method is the
/// caller's business (serve GET and HEAD). Returns `None` for a name that is
/// not one of the files, and always without the `client-bundle` feature.
#[cfg(feature = "client-bundle")]
pub(crate) fn serve(file_name: &str, request_headers: &HeaderMap) -> Option<Response<Bytes>> {
    embedded::serve(file_name, request_headers)
}

/// The build could not embed the bundle (no npm, offline: see `build.rs`): a request for
/// one of its files gets `404`, and the log says why, once.
#[cfg(feature = "client-bundle")]
fn not_embedded(file_name: &str) -> Option<Response<Bytes>> {
    if !FILE_NAMES.contains(&file_name) {
        return None;
    }
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            "the Socket.IO browser client was not embedded at build time (npm was not available): \
             rebuild with npm on PATH or TOWER_SOCKETIO_CLIENT_DIST set (README, \"The browser client\")"
        );
    });
    let mut response = Response::new(Bytes::from_static(
        b"socket.io.js was not embedded in this build of the server (npm was not available)",
    ));
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    Some(response)
}

/// Without the `client-bundle` feature no client is embedded: always `None`.
#[cfg(not(feature = "client-bundle"))]
pub(crate) fn serve(file_name: &str, request_headers: &HeaderMap) -> Option<Response<Bytes>> {
    let _ = (file_name, request_headers);
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All the files that are served.
    const NAMES: [&str; 8] = FILE_NAMES;

    #[cfg(not(feature = "client-bundle"))]
    #[test]
    fn nothing_is_served_without_the_feature() {
        for name in NAMES {
            assert!(serve(name, &HeaderMap::new()).is_none());
        }
    }

    #[test]
    fn unknown_names_are_not_served() {
        for name in [
            "",
            "socket.io",
            "socket.io.esm.js",
            "socket.io.js.gz",
            "SOCKET.IO.JS",
            "../socket.io.js",
            "socket.io.js?v=1",
            "index.html",
        ] {
            assert!(serve(name, &HeaderMap::new()).is_none(), "{name:?}");
        }
    }

    #[cfg(feature = "client-bundle")]
    mod with_bundle {
        use super::*;
        use http::StatusCode;
        use http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, VARY};

        /// A header map from `(name, value)` pairs.
        fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
            let mut map = HeaderMap::new();
            for &(name, value) in pairs {
                map.append(name, http::HeaderValue::from_static(value));
            }
            map
        }

        /// CRC-32 (IEEE), as in a gzip trailer.
        fn crc32(data: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &byte in data {
                crc ^= u32::from(byte);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
                }
            }
            !crc
        }

        /// Serves `name`, which must exist.
        fn get(name: &str, pairs: &[(&'static str, &'static str)]) -> Response<Bytes> {
            serve(name, &headers(pairs)).expect("known file")
        }

        /// The identity (uncompressed) body of `name`.
        fn identity(name: &str) -> Bytes {
            get(name, &[]).into_body()
        }

        #[test]
        fn versions_agree() {
            assert_eq!(CLIENT_VERSION, "4.8.1");
            assert_eq!(embedded::ETAG_VALUE, format!("\"{CLIENT_VERSION}\""));
        }

        #[test]
        fn every_file_is_served_with_its_type_and_cache_headers() {
            for name in NAMES {
                let response = get(name, &[]);
                assert_eq!(response.status(), StatusCode::OK, "{name}");
                let h = response.headers();
                let expected = if name.ends_with(".map") {
                    "application/json"
                } else {
                    "application/javascript; charset=utf-8"
                };
                assert_eq!(h[CONTENT_TYPE], expected, "{name}");
                assert_eq!(h[ETAG], "\"4.8.1\"", "{name}");
                assert_eq!(h[CACHE_CONTROL], "public, max-age=0", "{name}");
                assert!(h.get(CONTENT_ENCODING).is_none(), "{name}");
                let body = response.body();
                if name.ends_with(".map") {
                    assert!(body.starts_with(b"{\"version\":3,"), "{name}");
                } else {
                    assert!(body.len() > 10_000, "{name}");
                }
            }
        }

        #[test]
        fn scripts_carry_the_client_banner() {
            let banner = "/*!\n * Socket.IO v4.8.1\n";
            for name in NAMES.iter().filter(|n| n.ends_with(".js")) {
                let body = identity(name);
                assert!(body.starts_with(banner.as_bytes()), "{name}");
            }
            let min = identity("socket.io.min.js");
            assert!(
                min.windows(b"4.8.1".len()).any(|w| w == b"4.8.1"),
                "socket.io.min.js mentions 4.8.1"
            );
        }

        #[test]
        fn bodies_are_the_static_data_not_copies() {
            let a = identity("socket.io.min.js");
            let b = identity("socket.io.min.js");
            assert_eq!(a.as_ptr(), b.as_ptr());
        }

        #[test]
        fn matching_etag_gives_304() {
            for inm in [
                "\"4.8.1\"",
                "W/\"4.8.1\"",
                "\"4.7.0\", W/\"4.8.1\"",
                "\"a\",\"4.8.1\"",
                "*",
            ] {
                for name in ["socket.io.js", "socket.io.min.js.map"] {
                    let response =
                        get(name, &[("if-none-match", inm), ("accept-encoding", "gzip")]);
                    assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{inm}");
                    assert_eq!(response.headers()[ETAG], "\"4.8.1\"");
                    assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=0");
                    assert!(response.headers().get(CONTENT_ENCODING).is_none());
                    assert!(response.body().is_empty(), "{inm}");
                }
            }
            // A list spread over several header lines.
            let response = get(
                "socket.io.js",
                &[("if-none-match", "\"x\""), ("if-none-match", "W/\"4.8.1\"")],
            );
            assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        }

        #[test]
        fn other_etags_give_the_file() {
            for inm in [
                "\"4.8.0\"",
                "4.8.1",
                "\"4.8.1",
                "w/\"4.8.1\"",
                "\"4.8.10\"",
                "",
            ] {
                let response = get("socket.io.js", &[("if-none-match", inm)]);
                assert_eq!(response.status(), StatusCode::OK, "{inm:?}");
                assert_eq!(response.body(), &identity("socket.io.js"));
            }
        }

        #[test]
        fn gzip_when_accepted() {
            for accept in [
                "gzip",
                "gzip, deflate, br, zstd",
                "br;q=1.0, gzip;q=0.8, *;q=0.1",
                "GZIP;Q=0.5",
                "x-gzip",
                "*",
                "identity;q=1, gzip;q=0.001",
            ] {
                for name in NAMES {
                    let response = get(name, &[("accept-encoding", accept)]);
                    assert_eq!(response.status(), StatusCode::OK);
                    let h = response.headers();
                    assert_eq!(h[CONTENT_ENCODING], "gzip", "{accept} {name}");
                    assert_eq!(h[VARY], "Accept-Encoding");
                    assert_eq!(h[ETAG], "\"4.8.1\"");
                    let gz = response.body();
                    let plain = identity(name);
                    assert!(gz.starts_with(&[0x1f, 0x8b, 8]), "gzip magic");
                    assert!(gz.len() < plain.len() / 2, "{name} compressed");
                    // The gzip trailer: CRC-32 and size of the original.
                    let trailer = &gz[gz.len() - 8..];
                    let crc = u32::from_le_bytes(trailer[..4].try_into().unwrap());
                    let size = u32::from_le_bytes(trailer[4..].try_into().unwrap());
                    assert_eq!(size as usize, plain.len(), "{name}");
                    assert_eq!(crc, crc32(&plain), "{name}");
                }
            }
        }

        #[test]
        fn identity_when_gzip_is_not_accepted() {
            for pairs in [
                &[][..],
                &[("accept-encoding", "gzip;q=0")][..],
                &[("accept-encoding", "gzip; q=0.000, deflate")][..],
                &[("accept-encoding", "br, deflate")][..],
                &[("accept-encoding", "identity")][..],
                &[("accept-encoding", "*;q=0")][..],
                &[("accept-encoding", "*, gzip;q=0")][..],
                &[("accept-encoding", "gzip;q=nonsense")][..],
                &[("accept-encoding", "")][..],
            ] {
                let response = get("socket.io.min.js", pairs);
                assert_eq!(response.status(), StatusCode::OK);
                assert!(
                    response.headers().get(CONTENT_ENCODING).is_none(),
                    "{pairs:?}"
                );
                assert_eq!(response.headers()[VARY], "Accept-Encoding");
                assert!(response.body().starts_with(b"/*!\n * Socket.IO v4.8.1"));
            }
        }

        #[test]
        fn accept_encoding_over_several_lines() {
            let response = get(
                "socket.io.js",
                &[("accept-encoding", "br"), ("accept-encoding", "gzip")],
            );
            assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
        }
    }
}
