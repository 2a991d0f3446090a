#!/usr/bin/env bash
# The benchmark suite (issue 5): builds the load generator and every bench server, then runs
# each scenario against each server, one fresh server process per run, the server pinned to
# CPU 0 and the load generator to CPU 1, and prints a Markdown table with ratios.
#
#   scripts/bench.sh            full sizes (about 12 minutes on 2 cores)
#   scripts/bench.sh --quick    small sizes, a smoke run (about 1 minute)
#   SERVERS="tower-socketio socketioxide" scripts/bench.sh   a subset of servers
#   SCENARIOS="fanout rooms" scripts/bench.sh                a subset of scenarios
#   REPEAT=3 scripts/bench.sh                                 runs per pair (default 5; the
#                                                             table shows the median)
#
# Results: target/bench/results.txt (one line per run) and target/bench/table.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

servers=${SERVERS:-"tower-socketio socketioxide node bare-tungstenite bare-fastwebsockets"}
scenarios=${SCENARIOS:-"connect idle ack fanout rooms polling"}
port=${BENCH_PORT:-3300}
repeat=${REPEAT:-5}
[[ $quick -eq 1 ]] && repeat=${REPEAT:-1}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq nodejs npm
fi
(cd bench && cargo build --release --quiet)
(cd bench/node && npm ci --no-audit --no-fund --silent)
bin=$root/bench/target/release
out=$root/target/bench
mkdir -p "$out"

# Connections held by one run: raise the descriptor limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cpus=$(nproc)
server_cpu=() load_cpu=()
if [[ $cpus -ge 2 ]] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 0) load_cpu=(taskset -c 1)
fi

args_for() {
    local scenario=$1
    if [[ $quick -eq 1 ]]; then
        case $scenario in
            connect) echo "500 20" ;; idle) echo "1000" ;; ack) echo "20 1" ;;
            fanout) echo "100 100" ;; rooms) echo "100 10 500" ;; polling) echo "4 1" ;;
        esac
    else
        case $scenario in
            connect) echo "5000 50" ;; idle) echo "10000" ;; ack) echo "50 5" ;;
            fanout) echo "1000 1000" ;; rooms) echo "1000 20 10000" ;; polling) echo "10 5" ;;
        esac
    fi
}

start_server() {
    local server=$1
    case $server in
        tower-socketio) PORT=$port exec "${server_cpu[@]}" "$bin/server_tower" ;;
        socketioxide) PORT=$port exec "${server_cpu[@]}" "$bin/server_socketioxide" ;;
        node) PORT=$port exec "${server_cpu[@]}" node "$root/bench/node/server.js" ;;
        bare-tungstenite) PORT=$port exec "${server_cpu[@]}" "$bin/server_bare_tungstenite" ;;
        bare-fastwebsockets) PORT=$port exec "${server_cpu[@]}" "$bin/server_bare_fastwebsockets" ;;
        *) echo "unknown server $server" >&2; return 1 ;;
    esac
}

wait_for_port() {
    for _ in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || { echo "server exited, see $out" >&2; return 1; }
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not listen on $port" >&2
    return 1
}

results=$out/results.txt
: > "$results"
for scenario in $scenarios; do
    for run in $(seq 1 "$repeat"); do
        for server in $servers; do
            if [[ $server == bare-* && $scenario == polling ]]; then
                continue  # the bare servers speak WebSocket only
            fi
            start_server "$server" > "$out/$server.log" 2>&1 &
            pid=$!
            trap 'kill $pid 2>/dev/null' EXIT
            wait_for_port "$pid"
            # taskset execs the server, so $pid is the server itself.
            line=$("${load_cpu[@]}" "$bin/loadgen" "127.0.0.1:$port" "$pid" "$scenario" $(args_for "$scenario") 2>>"$out/loadgen.log" || echo "scenario=$scenario failed=1")
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            echo "server=$server run=$run $line" | tee -a "$results"
        done
    done
done

{
    echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
    echo "Command: scripts/bench.sh $* (REPEAT=$repeat; figures are medians of the runs)"
    echo
    "$bin/table" "$results"
} > "$out/table.md"
echo
cat "$out/table.md"
