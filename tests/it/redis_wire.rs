//! The Redis test harness (`common/redis.rs`) against a real `redis-server`.

use crate::common::redis::{RedisServer, Reply};

#[test]
fn harness_starts_restarts_on_the_same_port_and_kills_on_drop() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    assert!(url.starts_with("redis://127.0.0.1:"), "{url}");
    assert_eq!(redis.command(&[b"PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        redis.command(&[b"SET", b"key", b"value"]),
        Reply::Status("OK".into())
    );
    assert_eq!(
        redis.command(&[b"CONFIG", b"GET", b"save"]),
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"save".to_vec())),
            Reply::Bulk(Some(Vec::new())),
        ]))
    );

    redis.stop();
    assert!(!redis.is_running());
    assert!(std::net::TcpStream::connect(redis.addr()).is_err());

    redis.start_again();
    assert_eq!(redis.url(), url, "same port after a restart");
    // Nothing persisted: the key is gone.
    assert_eq!(redis.command(&[b"GET", b"key"]), Reply::Bulk(None));
    assert!(redis.major_version() >= 6);

    let addr = redis.addr();
    drop(redis);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "killed on drop"
    );
}

#[test]
fn two_servers_side_by_side() {
    let a = RedisServer::start();
    let b = RedisServer::start();
    assert_ne!(a.port(), b.port());
    a.command(&[b"SET", b"k", b"a"]);
    assert_eq!(b.command(&[b"GET", b"k"]), Reply::Bulk(None));
    assert_eq!(
        a.command(&[b"PUBSUB", b"NUMSUB", b"socket.io-request#/#"]),
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"socket.io-request#/#".to_vec())),
            Reply::Integer(0),
        ]))
    );
}
