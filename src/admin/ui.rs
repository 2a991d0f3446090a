//! The admin UI's own files, served by the layer under the Socket.IO path (`/socket.io/admin/`
//! by default), so that neither the hosted site nor a second web server is needed.
//!
//! `build.rs` embeds the `ui/dist/` files of the npm package `@socket.io/admin-ui` at
//! [`UI_VERSION`] (integrity-checked, source maps left out). Its `index.html` refers to its
//! assets relatively, so the UI works under any path ending in `/`. The served `index.html`
//! first sets the UI's saved connection settings (its `localStorage`) to this server, its path
//! and admin namespace, unless the user already chose others: the login form only asks for the
//! username and password.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::engine::StaticFiles;

include!(concat!(env!("OUT_DIR"), "/admin_ui_files.rs"));

/// The version of `@socket.io/admin-ui` whose files are embedded (`build.rs` pins the same).
pub const UI_VERSION: &str = "0.5.1";

/// Whether the build embedded the UI's files (npm was there, or
/// `TOWER_SOCKETIO_ADMIN_UI_DIST` pointed at the tarball). Without them the UI's paths answer
/// `404` with a log line; the hosted UI at `https://admin.socket.io` still works.
///
/// ```
/// // true in a build with npm at hand
/// let _ = tower_socketio::admin::ui_available();
/// ```
pub fn ui_available() -> bool {
    !UI_FILES.is_empty()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "application/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The route serving the UI under `prefix` (relative to the engine path, e.g. `admin/`), whose
/// `index.html` points the UI at `engine_path` (without its trailing `/`) and `namespace`.
pub(super) fn route(prefix: &str, engine_path: &str, namespace: &str) -> StaticFiles {
    let prefix = prefix.trim_matches('/').to_owned();
    let full = format!("{engine_path}{prefix}/");
    let socket_path = engine_path.trim_end_matches('/');
    // JSON strings are JavaScript string literals; `<` escaped so none closes the script.
    let js = |s: &str| {
        serde_json::to_string(s)
            .unwrap_or_default()
            .replace('<', "\\u003c")
    };
    let defaults = format!(
        "<script>(function(){{try{{var s=localStorage;\
         if(!s.getItem(\"server_url\"))s.setItem(\"server_url\",location.origin);\
         if(!s.getItem(\"path\"))s.setItem(\"path\",{});\
         if(!s.getItem(\"namespace\"))s.setItem(\"namespace\",{});}}catch(e){{}}}})();</script>",
        js(socket_path),
        js(namespace)
    );
    let index = UI_FILES
        .iter()
        .find(|(name, _)| *name == "index.html")
        .map(|(_, html)| {
            let html = String::from_utf8_lossy(html);
            // Before the UI's own scripts, which read the settings once they load.
            Bytes::from(html.replacen("<script", &format!("{defaults}<script"), 1))
        });
    let warned = Arc::new(AtomicBool::new(false));
    Arc::new(move |rest: &str, _: &HeaderMap| {
        let within = rest.strip_prefix(prefix.as_str())?;
        if within.is_empty() {
            // Relative asset paths need the trailing slash.
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
            let location = HeaderValue::from_str(&full).ok()?;
            response.headers_mut().insert(LOCATION, location);
            return Some(response);
        }
        let name = within.strip_prefix('/')?;
        let name = if name.is_empty() { "index.html" } else { name };
        let body = match (name, &index) {
            ("index.html", Some(index)) => index.clone(),
            _ => match UI_FILES.iter().find(|(file, _)| *file == name) {
                Some((_, bytes)) => Bytes::from_static(bytes),
                None if UI_FILES.is_empty() => {
                    if !warned.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "the admin UI's files were not embedded at build time (npm missing?): \
                             set TOWER_SOCKETIO_ADMIN_UI_DIST to the `npm pack \
                             @socket.io/admin-ui@{UI_VERSION}` tarball and rebuild, or use \
                             https://admin.socket.io"
                        );
                    }
                    let mut response = Response::new(Bytes::from_static(b"admin UI not embedded"));
                    *response.status_mut() = StatusCode::NOT_FOUND;
                    return Some(response);
                }
                None => return None,
            },
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=0"));
        Some(response)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_ui_under_its_prefix() {
        let route = route("admin/", "/socket.io/", "/admin");
        let headers = HeaderMap::new();
        let moved = route("admin", &headers).unwrap();
        assert_eq!(moved.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(moved.headers()[LOCATION], "/socket.io/admin/");
        assert!(route("other/", &headers).is_none());
        assert!(route("administrator", &headers).is_none());
        let index = route("admin/", &headers).unwrap();
        if !ui_available() {
            assert_eq!(index.status(), StatusCode::NOT_FOUND);
            return;
        }
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(index.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let html = String::from_utf8_lossy(index.body()).into_owned();
        let script = html.find("localStorage").unwrap();
        assert!(
            script < html.find("<script src=").unwrap(),
            "the defaults come first"
        );
        assert!(html.contains(r#"s.setItem("path","/socket.io")"#));
        assert!(html.contains(r#"s.setItem("namespace","/admin")"#));
        let (js, _) = UI_FILES
            .iter()
            .find(|(name, _)| name.ends_with(".js"))
            .unwrap();
        let asset = route(&format!("admin/{js}"), &headers).unwrap();
        assert_eq!(
            asset.headers()[CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
        assert!(route("admin/missing.js", &headers).is_none());
        assert!(UI_FILES.iter().all(|(name, _)| !name.ends_with(".map")));
    }
}
