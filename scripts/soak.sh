#!/usr/bin/env bash
# The soak test (not part of CI; tests/soak.rs is its 60-second version): thousands of Socket.IO
# clients over WebSocket and long-polling against a server in its own process, joining rooms,
# sending acknowledged events and receiving numbered broadcasts, a tenth of them dropping their
# connections abruptly and reconnecting. Fails (exit 1) when a message is lost, the server's memory
# or tasks do not come back once every client has left, or the p99 latency drifts.
#
#   scripts/soak.sh                  # 300 s, 10,000 clients
#   scripts/soak.sh 180 5000         # seconds, clients
#   scripts/soak.sh 600 10000 --echo-ms 1000 --polling 0.5    # more options: examples/soak/main.rs
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
clients="${2:-10000}"
shift $(( $# < 2 ? $# : 2 ))

# Two descriptors per polling client, one per WebSocket client, in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "file-descriptor limit: $(ulimit -n)"

cargo build --release --example soak
exec target/release/examples/soak --seconds "$seconds" --clients "$clients" "$@"
