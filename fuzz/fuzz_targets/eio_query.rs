//! The query string of an Engine.IO request (`EIO=4&transport=polling&sid=...&b64=1`), and the
//! session id in it.
//!
//! Checked against a plain reading of the same rules: pairs split on `&`, a key ends at the
//! first `=`, the last occurrence of a key wins, and a session id parses only when it is 20
//! URL-safe base64 characters, and then prints back as it was.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_socketio::engine::Sid;
use tower_socketio::fuzz_support::{EioQuery, eio_query};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = eio_query(query);
    let mut expected = EioQuery {
        eio: None,
        transport: None,
        sid: None,
        b64: false,
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "EIO" => expected.eio = Some(value),
            "transport" => expected.transport = Some(value),
            "sid" => expected.sid = Some(value),
            "b64" => expected.b64 = !matches!(value, "" | "0" | "false"),
            _ => {}
        }
    }
    assert_eq!(parsed, expected);
    if let Some(sid) = parsed.sid {
        let valid = sid.len() == 20
            && sid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match sid.parse::<Sid>() {
            Ok(parsed) => {
                assert!(valid, "{sid:?} accepted");
                assert_eq!(parsed.as_str(), sid);
            }
            Err(_) => assert!(!valid, "{sid:?} refused"),
        }
    }
});
