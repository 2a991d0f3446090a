//! Origin checks: which web pages may open sessions, and the CORS answers polling requests get.
//!
//! One policy serves two guards. Browsers apply CORS to polling requests, so allowed origins get
//! CORS headers (see the `cors` module); they apply nothing to WebSocket upgrades, so every
//! request carrying a disallowed `Origin` is refused with 403 before it reaches a session,
//! whatever its transport.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, header};

/// Which page origins (`scheme://host[:port]`, as browsers send them in the `Origin` header) may
/// connect.
///
/// ```
/// use tower_socketio::{EngineConfig, Origins};
///
/// let config = EngineConfig::default().origins(Origins::list(["https://example.com"]));
/// # let _ = config;
/// ```
#[derive(Clone, Default)]
pub enum Origins {
    /// Any origin (the default). Polling responses carry `Access-Control-Allow-Origin: *` (or
    /// the request's origin when credentials are allowed).
    #[default]
    Any,
    /// Exactly these origins, e.g. `"https://example.com"`, `"http://localhost:3000"`.
    List(Vec<HeaderValue>),
    /// The origins for which the function returns `true`.
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl Origins {
    /// Exactly the listed origins.
    ///
    /// ```
    /// use tower_socketio::Origins;
    /// let origins = Origins::list(["https://example.com", "http://localhost:3000"]);
    /// assert!(origins.allows("https://example.com"));
    /// assert!(!origins.allows("https://evil.example"));
    /// ```
    ///
    /// # Panics
    /// When an origin is not a valid header value.
    pub fn list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Origins::List(
            origins
                .into_iter()
                .map(|o| HeaderValue::from_str(o.as_ref()).expect("an origin is a valid header"))
                .collect(),
        )
    }

    /// The origins for which `allow` returns `true`.
    ///
    /// ```
    /// use tower_socketio::Origins;
    ///
    /// // The site and its subdomains.
    /// let origins = Origins::predicate(|origin| {
    ///     origin == "https://example.com" || origin.ends_with(".example.com")
    /// });
    /// assert!(origins.allows("https://app.example.com"));
    /// assert!(!origins.allows("https://example.com.evil.net"));
    /// ```
    pub fn predicate<F>(allow: F) -> Self
    where
        F: Fn(&str) -> bool + Send + Sync + 'static,
    {
        Origins::Predicate(Arc::new(allow))
    }

    /// Whether `origin` may connect.
    ///
    /// ```
    /// use tower_socketio::Origins;
    ///
    /// assert!(Origins::Any.allows("https://anywhere.example"));
    /// assert!(!Origins::list(["http://localhost:3000"]).allows("http://localhost:8080"));
    /// ```
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Origins::Any => true,
            Origins::List(list) => list.iter().any(|o| o.as_bytes() == origin.as_bytes()),
            Origins::Predicate(allow) => allow(origin),
        }
    }

    /// Whether a request with these headers passes: it has no `Origin`, or an allowed one.
    pub(crate) fn allows_request(&self, headers: &http::HeaderMap) -> bool {
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => match origin.to_str() {
                Ok(origin) => self.allows(origin),
                Err(_) => false,
            },
        }
    }
}

impl fmt::Debug for Origins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origins::Any => f.write_str("Any"),
            Origins::List(list) => f.debug_tuple("List").field(list).finish(),
            Origins::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        assert!(Origins::Any.allows("http://x"));
        let p = Origins::predicate(|o| o.ends_with(".example.com"));
        assert!(p.allows("https://a.example.com"));
        assert!(!p.allows("https://example.org"));
        let mut headers = http::HeaderMap::new();
        assert!(Origins::list(["http://a"]).allows_request(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://b"));
        assert!(!Origins::list(["http://a"]).allows_request(&headers));
    }
}
