//! Clusters on one real `redis-server`: nodes of this crate (`examples/cluster_node.rs`) alone and
//! beside Node `socket.io` 4.8 nodes running `@socket.io/redis-adapter` 8.3
//! (`tests/js/cluster/node.mjs`), all following the cluster-node contract, checked by official
//! `socket.io-client` clients spread over the nodes (`tests/js/cluster/suite.mjs`, whose header
//! lists the scenarios).
//!
//! Each test starts its own Redis and nodes (child processes, killed on drop), then runs the
//! scenarios in one `node suite.mjs` process, one after the other, and reports every scenario that
//! failed with the suite's message and the end of each node's log. The Node-only clusters are the
//! reference: a scenario failing there is a bug of the suite (or of `node.mjs`), not of the crate.
//!
//! The `cluster_node` example is built (`cargo build --example cluster_node`, with the features of
//! this test binary) by the first test that needs it: `cargo test --test it redis_cluster` builds
//! no example by itself, and an old build would test old code.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::examples::{example_binary, free_port};
use crate::common::redis::RedisServer;

/// Every scenario that runs with any adapter.
const SCENARIOS: &[&str] = &[
    "hello",
    "to_room",
    "broadcast",
    "emit_all",
    "emit_local",
    "fetch",
    "sockets_join",
    "sockets_leave",
    "disconnect_sockets",
    "server_side_emit",
    "ask_room",
    "server_count",
    "namespaces",
];

/// The scenarios of `@socket.io/redis-emitter`, which speaks the classic adapter only.
const EMITTER_SCENARIOS: &[&str] = &["emitter", "emitter_requests"];

/// A subscriber that never answers: requests time out (about 5 s).
const TIMEOUTS: &str = "timeouts";

/// How long one suite run may take (every scenario has its own bound, 12 s at most but for
/// `timeouts`).
const SUITE_TIMEOUT: Duration = Duration::from_secs(240);

/// How long a node may take to print `listening <port>`.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Lines of a child's output kept for failure reports.
const LOG_LINES: usize = 60;

const RUST: Kind = Kind::Rust;
const NODE: Kind = Kind::Node;

// ---- The tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rust_rust() {
    let cluster = Cluster::start("redis", &[RUST, RUST]).await;
    cluster.check(&classic_scenarios()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rust_node() {
    let cluster = Cluster::start("redis", &[RUST, NODE]).await;
    cluster.check(&classic_scenarios()).await;
}

/// Both kinds of nodes and every client with the MessagePack parser (`socket.io-msgpack-parser`
/// on the Node nodes and clients): the classic adapter carries the packet object, so broadcasts
/// from either kind reach the clients of both.
#[cfg(feature = "msgpack")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_rust_node_msgpack() {
    let cluster = Cluster::start_with("redis", &[RUST, NODE], "msgpack").await;
    cluster.check(&classic_scenarios()).await;
}

/// The reference: the suite against Node nodes alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_node_node() {
    let cluster = Cluster::start("redis", &[NODE, NODE]).await;
    cluster.check(&classic_scenarios()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_rust_rust() {
    let cluster = Cluster::start("sharded", &[RUST, RUST]).await;
    cluster.check(&sharded_scenarios()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_rust_node() {
    let cluster = Cluster::start("sharded", &[RUST, NODE]).await;
    cluster.check(&sharded_scenarios()).await;
}

/// The reference of the sharded flavour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_node_node() {
    let cluster = Cluster::start("sharded", &[NODE, NODE]).await;
    cluster.check(&sharded_scenarios()).await;
}

/// The contract's events on one node of this crate, without Redis (`ADAPTER=memory`): a failure
/// here is the node's, not the Redis adapter's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_single_rust_node() {
    let cluster = Cluster::start("memory", &[RUST]).await;
    cluster.check(SCENARIOS).await;
}

/// Redis is killed and started again (empty) in the middle: every node resubscribes, broadcasts,
/// room emits, fetch and the server count work again within seconds, and no client was
/// disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_rust_rust_node() {
    let mut cluster = Cluster::start("redis", &[RUST, RUST, NODE]).await;
    cluster.check_restart().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_restart_rust_rust_node() {
    let mut cluster = Cluster::start("sharded", &[RUST, RUST, NODE]).await;
    cluster.check_restart().await;
}

fn classic_scenarios() -> Vec<&'static str> {
    [SCENARIOS, EMITTER_SCENARIOS, &[TIMEOUTS]].concat()
}

fn sharded_scenarios() -> Vec<&'static str> {
    [SCENARIOS, &[TIMEOUTS]].concat()
}

// ---- Nodes

/// Which server a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `examples/cluster_node.rs`
    Rust,
    /// `tests/js/cluster/node.mjs`
    Node,
}

/// The last lines a child printed (stdout and stderr together).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<VecDeque<String>>>);

impl Log {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap();
        if lines.len() == LOG_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The lines as they came.
    fn raw(&self) -> String {
        let lines = self.0.lock().unwrap();
        lines.iter().fold(String::new(), |mut text, line| {
            let _ = writeln!(text, "{line}");
            text
        })
    }

    /// The lines, indented, for a report.
    fn text(&self) -> String {
        let lines = self.0.lock().unwrap();
        if lines.is_empty() {
            return "    (nothing)\n".into();
        }
        lines.iter().fold(String::new(), |mut text, line| {
            let _ = writeln!(text, "    {line}");
            text
        })
    }

    /// Copies `output`'s lines into the log, each also sent to `lines` while it listens.
    fn follow(
        &self,
        output: impl AsyncRead + Unpin + Send + 'static,
        lines: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    ) {
        let log = self.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(output).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if let Some(lines) = &lines {
                    let _ = lines.send(line.clone());
                }
                log.push(line);
            }
        });
    }
}

/// One node of a cluster, killed when dropped.
struct ClusterNode {
    kind: Kind,
    id: String,
    url: String,
    log: Log,
    _child: Child,
}

impl ClusterNode {
    async fn start(
        kind: Kind,
        index: usize,
        adapter: &str,
        redis_url: &str,
        parser: &str,
    ) -> ClusterNode {
        let port = free_port();
        let id = format!("{}-{index}", if kind == RUST { "rust" } else { "node" });
        let mut command = match kind {
            Kind::Rust => {
                let mut command = Command::new(rust_node_binary());
                command.env("RUST_LOG", "warn").env("NO_COLOR", "1");
                command
            }
            Kind::Node => {
                let mut command = Command::new("node");
                command.arg(js_dir().join("cluster/node.mjs"));
                command
            }
        };
        let mut child = command
            .env("PORT", port.to_string())
            .env("REDIS_URL", redis_url)
            .env("ADAPTER", adapter)
            .env("PARSER", parser)
            .env("NODE_ID", &id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{id} does not start: {e}"));
        let log = Log::default();
        let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
        log.follow(child.stdout.take().unwrap(), Some(tx));
        log.follow(child.stderr.take().unwrap(), None);
        let ready = format!("listening {port}");
        let waited = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.recv().await {
                if line.trim() == ready {
                    return true;
                }
            }
            false
        })
        .await;
        if waited != Ok(true) {
            let status = child.try_wait().ok().flatten();
            panic!(
                "{id} ({kind:?}, ADAPTER={adapter}) did not print `{ready}` within {START_TIMEOUT:?} \
                 (exit status {status:?}); its output:\n{}",
                log.text()
            );
        }
        ClusterNode {
            kind,
            id,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _child: child,
        }
    }
}

/// The `cluster_node` example, built once for every test of the binary (a no-op when `cargo test`
/// built it already).
pub(crate) fn rust_node_binary() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let binary = example_binary("cluster_node");
        // target/<profile>/examples/cluster_node
        let target_dir = binary.ancestors().nth(3).expect("the target directory");
        let features: Vec<&str> = [
            ("client-bundle", cfg!(feature = "client-bundle")),
            ("bench-support", cfg!(feature = "bench-support")),
            ("fuzzing", cfg!(feature = "fuzzing")),
            ("redis", cfg!(feature = "redis")),
            ("msgpack", cfg!(feature = "msgpack")),
            ("admin", cfg!(feature = "admin")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let mut command = std::process::Command::new(env!("CARGO"));
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "build",
                "--quiet",
                "--example",
                "cluster_node",
                "--no-default-features",
            ])
            .args(["--features", &features.join(",")])
            .env("CARGO_TARGET_DIR", target_dir);
        if !cfg!(debug_assertions) {
            command.arg("--release");
        }
        let output = tokio::task::block_in_place(|| command.output())
            .map_err(|e| format!("cargo build runs: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo build --example cluster_node failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(binary)
    });
    built.clone().unwrap_or_else(|e| panic!("{e}"))
}

fn js_dir() -> PathBuf {
    let js = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        js.join("node_modules").is_dir(),
        "the Node test clients are not installed: run scripts/test.sh (or `npm ci --prefix tests/js`)"
    );
    js
}

// ---- Clusters

/// A Redis (none for `memory`) and its nodes.
struct Cluster {
    adapter: &'static str,
    parser: &'static str,
    redis: Option<RedisServer>,
    nodes: Vec<ClusterNode>,
}

/// What one run of the suite printed.
struct SuiteRun {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Cluster {
    async fn start(adapter: &'static str, kinds: &[Kind]) -> Cluster {
        Cluster::start_with(adapter, kinds, "default").await
    }

    /// A cluster whose nodes and clients all use `parser` (`default` or `msgpack`).
    async fn start_with(adapter: &'static str, kinds: &[Kind], parser: &'static str) -> Cluster {
        let redis = (adapter != "memory").then(|| {
            let redis = tokio::task::block_in_place(RedisServer::start);
            if adapter == "sharded" {
                assert!(
                    redis.major_version() >= 7,
                    "the sharded adapter needs Redis 7 (SPUBLISH)"
                );
            }
            redis
        });
        let redis_url = redis.as_ref().map(RedisServer::url).unwrap_or_default();
        let mut nodes = Vec::new();
        // One after the other: each is ready (subscribed) before the next starts.
        for (index, &kind) in kinds.iter().enumerate() {
            nodes.push(ClusterNode::start(kind, index, adapter, &redis_url, parser).await);
        }
        Cluster {
            adapter,
            parser,
            redis,
            nodes,
        }
    }

    fn name(&self) -> String {
        let kinds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("{:?}", n.kind).to_lowercase())
            .collect();
        format!(
            "[{}] ADAPTER={} PARSER={}",
            kinds.join(", "),
            self.adapter,
            self.parser
        )
    }

    fn suite_command(&self, scenarios: &str) -> Command {
        let mut command = Command::new("node");
        command
            .arg(js_dir().join("cluster/suite.mjs"))
            .arg(scenarios)
            .args(self.nodes.iter().map(|n| &n.url))
            .env("ADAPTER", self.adapter)
            .env("PARSER", self.parser)
            .env(
                "REDIS_URL",
                self.redis
                    .as_ref()
                    .map(RedisServer::url)
                    .unwrap_or_default(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Runs `scenarios` in one suite process and asserts that each printed `ok <scenario>`.
    async fn check(&self, scenarios: &[&str]) {
        let mut command = self.suite_command(&scenarios.join(","));
        command.stdin(Stdio::null());
        let output = tokio::time::timeout(SUITE_TIMEOUT, command.output()).await;
        let run = match output {
            Ok(output) => {
                let output = output.expect("node runs");
                SuiteRun {
                    status: Some(output.status),
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                }
            }
            Err(_) => SuiteRun {
                status: None,
                stdout: String::new(),
                stderr: format!("the suite did not finish within {SUITE_TIMEOUT:?}"),
            },
        };
        self.assert_passed(&run, scenarios);
    }

    /// The `restart` scenario: Redis is killed once the suite's clients saw broadcasts cross,
    /// started again a second later, and the suite goes on.
    async fn check_restart(&mut self) {
        let mut command = self.suite_command("restart");
        command.stdin(Stdio::piped());
        let mut child = command.spawn().expect("node runs");
        let mut stdin = child.stdin.take().unwrap();
        let out_log = Log::default();
        let err_log = Log::default();
        let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
        out_log.follow(child.stdout.take().unwrap(), Some(tx));
        err_log.follow(child.stderr.take().unwrap(), None);

        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.recv().await {
                if line.trim() == "restart-ready" {
                    return true;
                }
            }
            false
        })
        .await;
        let status = if ready == Ok(true) {
            let redis = self.redis.as_mut().expect("a Redis");
            tokio::task::block_in_place(|| {
                redis.stop();
                std::thread::sleep(Duration::from_secs(1));
                redis.start_again();
            });
            let restarted = Instant::now();
            stdin
                .write_all(b"go\n")
                .await
                .expect("the suite reads `go`");
            drop(stdin);
            let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
            eprintln!(
                "{}: the suite ended {:?} after Redis came back",
                self.name(),
                restarted.elapsed()
            );
            status.ok().and_then(Result::ok)
        } else {
            None
        };
        // The readers may still hold the last lines for a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let run = SuiteRun {
            status,
            stdout: out_log.raw(),
            stderr: err_log.raw(),
        };
        self.assert_passed(&run, &["restart"]);
    }

    fn assert_passed(&self, run: &SuiteRun, scenarios: &[&str]) {
        // One record a scenario: its `ok` or `FAIL` line and the lines of the message after it.
        let mut records: Vec<String> = Vec::new();
        for line in run.stdout.lines() {
            let line = line.trim_end();
            if line.starts_with("ok ") || line.starts_with("FAIL ") || records.is_empty() {
                records.push(line.to_owned());
            } else if let Some(last) = records.last_mut() {
                last.push('\n');
                last.push_str(line);
            }
        }
        let mut report = String::new();
        let mut failed = 0;
        for scenario in scenarios {
            if records.iter().any(|r| r == &format!("ok {scenario}")) {
                continue;
            }
            failed += 1;
            let fail = format!("FAIL {scenario} ");
            match records.iter().find(|r| r.starts_with(&fail)) {
                Some(record) => {
                    let _ = writeln!(report, "{record}");
                }
                None => {
                    let _ = writeln!(
                        report,
                        "{scenario}: no result (the suite stopped before it)"
                    );
                }
            }
        }
        if report.is_empty() {
            if run.status.is_some_and(|s| s.success()) {
                return;
            }
            report = run.stdout.clone();
        }
        let mut logs = String::new();
        for node in &self.nodes {
            let _ = writeln!(
                logs,
                "  {} ({:?}, {}):\n{}",
                node.id,
                node.kind,
                node.url,
                node.log.text()
            );
        }
        panic!(
            "{}: {} of {} scenarios failed (suite exit status {:?}):\n{report}\n\
             the suite's stderr:\n{}\nthe nodes' output:\n{logs}",
            self.name(),
            failed,
            scenarios.len(),
            run.status,
            run.stderr.trim_end(),
        );
    }
}
