//! CORS answers for the engine's HTTP requests (long-polling and errors), from the origin policy.
//!
//! Browsers apply CORS to polling requests only; WebSocket handshakes are guarded by the 403 of
//! [`Origins::allows_request`](super::origin::Origins). What is answered, as Node's `cors`
//! package does for the Socket.IO server:
//! - a preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin:
//!   `204`, the allowed methods, the requested headers mirrored, and the origin headers below;
//! - any other response: `Access-Control-Allow-Origin` (`*` for [`Origins::Any`] without
//!   credentials, the request's own origin otherwise, with `Vary: Origin`) and, with
//!   credentials, `Access-Control-Allow-Credentials: true`.
//!
//! The headers are decided once per request from its `Origin` header, with no allocation when
//! the answer is `*`.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};

use super::origin::Origins;

/// The CORS policy of a server: its origins and whether credentials are allowed.
#[derive(Debug, Clone)]
pub(crate) struct Cors {
    origins: Origins,
    credentials: bool,
}

/// The CORS headers one response gets.
#[derive(Debug, Clone, Default)]
pub(crate) struct CorsHeaders {
    /// `Access-Control-Allow-Origin`, when the origin is allowed.
    allow_origin: Option<HeaderValue>,
    credentials: bool,
}

fn any() -> HeaderValue {
    HeaderValue::from_static("*")
}

impl Cors {
    pub(crate) fn new(origins: Origins, credentials: bool) -> Self {
        Cors {
            origins,
            credentials,
        }
    }

    /// The headers for a request with these headers.
    pub(crate) fn headers_for(&self, request: &HeaderMap) -> CorsHeaders {
        let origin = request.get(header::ORIGIN);
        let allow_origin = match (&self.origins, origin) {
            (Origins::Any, _) if !self.credentials => Some(any()),
            (_, None) => None,
            (policy, Some(origin)) => origin
                .to_str()
                .ok()
                .filter(|origin| policy.allows(origin))
                .map(|_| origin.clone()),
        };
        CorsHeaders {
            allow_origin,
            credentials: self.credentials,
        }
    }

    /// The answer to a preflight from an allowed origin; `None` for any other request.
    pub(crate) fn preflight<B, R: Default>(&self, req: &Request<B>) -> Option<Response<R>> {
        if req.method() != Method::OPTIONS
            || !req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let headers = self.headers_for(req.headers());
        headers.allow_origin.as_ref()?;
        let mut response = Response::new(R::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let out = response.headers_mut();
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        if let Some(requested) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        out.insert(
            header::VARY,
            HeaderValue::from_static("origin, access-control-request-headers"),
        );
        headers.apply(out);
        Some(response)
    }
}

impl CorsHeaders {
    /// Adds the headers to a response.
    pub(crate) fn apply(self, response: &mut HeaderMap) {
        let Some(allow_origin) = self.allow_origin else {
            return;
        };
        if allow_origin != "*" && !response.contains_key(header::VARY) {
            response.insert(header::VARY, HeaderValue::from_static("origin"));
        }
        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            response.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    fn applied(cors: &Cors, request: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut out = HeaderMap::new();
        cors.headers_for(&headers(request)).apply(&mut out);
        out
    }

    #[test]
    fn any_origin_gets_a_star_without_vary() {
        let cors = Cors::new(Origins::Any, false);
        let out = applied(&cors, &[("origin", "http://a.test")]);
        assert_eq!(out["access-control-allow-origin"], "*");
        assert!(!out.contains_key("vary"));
        assert!(!out.contains_key("access-control-allow-credentials"));
        // No Origin header (same-origin or non-browser): still `*`.
        assert_eq!(applied(&cors, &[])["access-control-allow-origin"], "*");
    }

    #[test]
    fn credentials_and_lists_echo_the_allowed_origin() {
        let cors = Cors::new(Origins::Any, true);
        let out = applied(&cors, &[("origin", "http://a.test")]);
        assert_eq!(out["access-control-allow-origin"], "http://a.test");
        assert_eq!(out["access-control-allow-credentials"], "true");
        assert_eq!(out["vary"], "origin");

        let cors = Cors::new(Origins::list(["http://good.test"]), false);
        let out = applied(&cors, &[("origin", "http://good.test")]);
        assert_eq!(out["access-control-allow-origin"], "http://good.test");
        let out = applied(&cors, &[("origin", "http://evil.test")]);
        assert!(out.is_empty(), "{out:?}");
        assert!(applied(&cors, &[]).is_empty());
    }

    #[test]
    fn preflights_are_answered_for_allowed_origins_only() {
        let cors = Cors::new(Origins::list(["http://good.test"]), false);
        let preflight = |origin: &'static str| {
            let mut req = Request::builder().method("OPTIONS").uri("/socket.io/");
            for (k, v) in [
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ] {
                req = req.header(k, v);
            }
            cors.preflight::<_, ()>(&req.body(()).unwrap())
        };
        let answer = preflight("http://good.test").expect("answered");
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
        let out = answer.headers();
        assert_eq!(out["access-control-allow-origin"], "http://good.test");
        assert_eq!(out["access-control-allow-methods"], "GET, POST, OPTIONS");
        assert_eq!(out["access-control-allow-headers"], "content-type");
        assert!(preflight("http://evil.test").is_none());
        // A plain OPTIONS request is not a preflight.
        let plain = Request::builder().method("OPTIONS").body(()).unwrap();
        assert!(cors.preflight::<_, ()>(&plain).is_none());
    }
}
