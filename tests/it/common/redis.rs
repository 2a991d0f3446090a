//! A `redis-server` of the test's own: started on a free loopback port in a temporary directory,
//! with no persistence (`--save '' --appendonly no`), stopped and started again on the same port
//! on demand (a Redis restart in the middle of a test), killed when dropped.
//!
//! The binary is `redis-server` from `PATH`, or the one `REDIS_SERVER` names; `scripts/test.sh`
//! installs Debian's `redis-server` where it is missing.
//!
//! Everything here blocks (at most a few seconds, while the server starts): call it from the set-up
//! of a test, sync or async.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a start may take before the harness gives up.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running (or stopped, between [`RedisServer::stop`] and [`RedisServer::start_again`])
/// `redis-server` owned by one test.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A reply of the RESP protocol, as the harness reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR ...`
    Error(String),
    /// `:1`
    Integer(i64),
    /// `$3\r\nfoo`; `None` for the null bulk string.
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`; `None` for the null array.
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The integer, when this is one.
    pub fn integer(&self) -> Option<i64> {
        match self {
            Reply::Integer(n) => Some(*n),
            _ => None,
        }
    }
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`.
    ///
    /// Panics (with the server's log) when `redis-server` cannot be started.
    pub fn start() -> RedisServer {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let mut last_error = String::new();
        // A port found free may be taken by someone else before the server binds it: try again.
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "tower-socketio-redis-{}-{}-{port}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("temporary directory for redis-server");
            let mut server = RedisServer {
                port,
                dir,
                child: None,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// The server's URL, `redis://127.0.0.1:<port>/`; the same after a restart.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Whether the server process is running (started and not stopped).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server at once (SIGKILL, as in a crash: clients see their connections reset)
    /// and waits for it to be gone. Nothing is kept: the data set is empty after a restart.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, after [`RedisServer::stop`] (stops it first if it
    /// still runs), and waits until it answers `PING`.
    pub fn start_again(&mut self) {
        self.stop();
        // The port was the server's: nobody else should take it in between, but a socket of the
        // old process may linger for a moment.
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(e) if Instant::now() >= deadline => {
                    panic!("could not restart redis-server on port {}: {e}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Sends one command on a new connection and reads its reply.
    pub fn command(&self, args: &[&[u8]]) -> Reply {
        let mut stream = TcpStream::connect(self.addr()).expect("connect to redis-server");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        stream.write_all(&encode_command(args)).expect("write");
        let mut reader = BufReader::new(stream);
        read_reply(&mut reader).expect("read a reply")
    }

    /// The major version of the server (sharded pub/sub needs 7).
    pub fn major_version(&self) -> u32 {
        let Reply::Bulk(Some(info)) = self.command(&[b"INFO", b"server"]) else {
            panic!("INFO server did not answer a bulk string");
        };
        let info = String::from_utf8_lossy(&info);
        info.lines()
            .find_map(|line| line.strip_prefix("redis_version:"))
            .and_then(|v| v.split('.').next())
            .and_then(|major| major.trim().parse().ok())
            .expect("redis_version in INFO server")
    }

    /// The server's log so far (its standard output and error).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("redis.log")
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let binary = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("log file: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let port = self.port.to_string();
        let child = Command::new(&binary)
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| {
                format!(
                    "{}: {e} (install it: apt-get install redis-server, or set REDIS_SERVER)",
                    Path::new(&binary).display()
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ping(self.addr()) {
                return Ok(());
            }
            if !self.is_running() {
                self.child = None;
                return Err(format!("redis-server exited; its log:\n{}", self.log()));
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(format!(
                    "no PONG within {START_TIMEOUT:?}; log:\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Whether a server at `addr` answers `PING` with `+PONG`.
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    let ok = stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n";
    let _ = stream.shutdown(Shutdown::Both);
    ok
}

/// A command as a RESP array of bulk strings.
fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one RESP2 reply.
fn read_reply(reader: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if line.len() < 3 || !line.ends_with(b"\r\n") {
        return Err(std::io::Error::other("truncated reply"));
    }
    let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    let number = || {
        text.parse::<i64>()
            .map_err(|_| std::io::Error::other(format!("bad length {text:?}")))
    };
    Ok(match line[0] {
        b'+' => Reply::Status(text),
        b'-' => Reply::Error(text),
        b':' => Reply::Integer(number()?),
        b'$' => match number()? {
            n if n < 0 => Reply::Bulk(None),
            n => {
                let mut data = vec![0; n as usize + 2];
                reader.read_exact(&mut data)?;
                data.truncate(n as usize);
                Reply::Bulk(Some(data))
            }
        },
        b'*' => match number()? {
            n if n < 0 => Reply::Array(None),
            n => Reply::Array(Some(
                (0..n)
                    .map(|_| read_reply(reader))
                    .collect::<std::io::Result<_>>()?,
            )),
        },
        other => {
            return Err(std::io::Error::other(format!(
                "unknown reply type {:?}",
                other as char
            )));
        }
    })
}
