#!/usr/bin/env bash
# The benchmark suite (issue 5): builds the load generator and every bench server, then runs
# each scenario against each server, one fresh server process per run, the server pinned to
# CPU 0 and the load generator to CPU 1, and prints a Markdown table with ratios.
#
#   scripts/bench.sh            full sizes (about 30 minutes on 2 cores)
#   scripts/bench.sh --quick    small sizes, a smoke run (about 1 minute)
#   SERVERS="tower-socketio socketioxide" scripts/bench.sh   a subset of servers
#   SCENARIOS="fanout rooms" scripts/bench.sh                a subset of scenarios
#   REPEAT=3 scripts/bench.sh                                 runs per pair (default 5; the
#                                                             table shows the median)
#   PARSER=msgpack scripts/bench.sh                           the MessagePack parser on every
#                                                             server and in the load generator
#                                                             (default: PARSER=default)
#
# The cluster scenarios (cluster, cluster-local, cluster-remote, cluster-rooms) run two nodes of
# the same server (ADAPTER=redis: tower-socketio's classic Redis adapter, socketioxide-redis,
# Node's @socket.io/redis-adapter) on one redis-server that this script starts on a free port
# (no persistence) and stops at the end; both nodes on CPU 0, the load generator and
# redis-server on CPU 1. The bare servers have no adapter and are skipped there.
#
# PARSER (default | msgpack) is passed to the servers and to the load generator: with msgpack,
# tower-socketio runs Parser::MsgPack, socketioxide ParserConfig::msgpack(), Node
# socket.io-msgpack-parser 3.0.2, and the load generator's clients speak that parser's packets
# (binary WebSocket messages, as socket.io-client with socket.io-msgpack-parser writes them). The
# bare servers (no Socket.IO parser) and the polling scenario (default parser only) are skipped.
#
# Results: target/bench/results.txt (one line per run) and target/bench/table.md; with
# PARSER=msgpack, target/bench/results-msgpack.txt and target/bench/table-msgpack.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

servers=${SERVERS:-"tower-socketio socketioxide node bare-tungstenite bare-fastwebsockets"}
scenarios=${SCENARIOS:-"connect idle ack fanout rooms polling cluster cluster-rooms cluster-local cluster-remote"}
port=${BENCH_PORT:-3300}
repeat=${REPEAT:-5}
[[ $quick -eq 1 ]] && repeat=${REPEAT:-1}
parser=${PARSER:-default}
case $parser in
    default|msgpack) export PARSER=$parser ;;
    *) echo "PARSER=$parser: default or msgpack" >&2; exit 2 ;;
esac

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq nodejs npm
fi
cluster=0
for scenario in $scenarios; do [[ $scenario == cluster* ]] && cluster=1; done
if [[ $cluster -eq 1 ]] && ! command -v redis-server >/dev/null; then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq redis-server
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
            cluster|cluster-local|cluster-remote) echo "100 100" ;;
            cluster-rooms) echo "100 10 500" ;;
        esac
    else
        case $scenario in
            connect) echo "5000 50" ;; idle) echo "10000" ;; ack) echo "50 5" ;;
            fanout) echo "1000 1000" ;; rooms) echo "1000 20 10000" ;; polling) echo "10 5" ;;
            cluster|cluster-local|cluster-remote) echo "1000 1000" ;;
            cluster-rooms) echo "1000 20 10000" ;;
        esac
    fi
}

# start_server SERVER [PORT]: execs the server on PORT (default $port), pinned to CPU 0.
start_server() {
    local server=$1 port=${2:-$port}
    case $server in
        tower-socketio) PORT=$port exec "${server_cpu[@]}" "$bin/server_tower" ;;
        socketioxide) PORT=$port exec "${server_cpu[@]}" "$bin/server_socketioxide" ;;
        node) PORT=$port exec "${server_cpu[@]}" node "$root/bench/node/server.js" ;;
        bare-tungstenite) PORT=$port exec "${server_cpu[@]}" "$bin/server_bare_tungstenite" ;;
        bare-fastwebsockets) PORT=$port exec "${server_cpu[@]}" "$bin/server_bare_fastwebsockets" ;;
        *) echo "unknown server $server" >&2; return 1 ;;
    esac
}

# wait_for_port PID [PORT]
wait_for_port() {
    local port=${2:-$port}
    for _ in $(seq 1 100); do
        kill -0 "$1" 2>/dev/null || { echo "server exited, see $out" >&2; return 1; }
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not listen on $port" >&2
    return 1
}

# Processes to stop on exit: the servers of the current run and redis-server.
pids=() redis_pid=""
cleanup() {
    for p in "${pids[@]}" $redis_pid; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

if [[ $cluster -eq 1 ]]; then
    # A free port: nothing answers there.
    redis_port=${REDIS_PORT:-6390}
    while (exec 3<>/dev/tcp/127.0.0.1/$redis_port) 2>/dev/null; do redis_port=$((redis_port + 1)); done
    "${load_cpu[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        > "$out/redis-server.log" 2>&1 &
    redis_pid=$!
    wait_for_port "$redis_pid" "$redis_port"
    redis_url=redis://127.0.0.1:$redis_port
fi

# start_cluster SERVER: two nodes of SERVER on the Redis, node A on $port and B on $port+1;
# their process ids in $pids.
start_cluster() {
    local server=$1 a b
    ADAPTER=redis REDIS_URL=$redis_url start_server "$server" "$port" > "$out/$server-a.log" 2>&1 &
    a=$!
    ADAPTER=redis REDIS_URL=$redis_url start_server "$server" $((port + 1)) > "$out/$server-b.log" 2>&1 &
    b=$!
    pids=("$a" "$b")
    wait_for_port "$a" "$port"
    wait_for_port "$b" $((port + 1))
}

stop_servers() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}

suffix=""; [[ $parser != default ]] && suffix=-$parser
results=$out/results$suffix.txt
: > "$results"
for scenario in $scenarios; do
    for run in $(seq 1 "$repeat"); do
        for server in $servers; do
            if [[ $server == bare-* && $scenario == polling ]]; then
                continue  # the bare servers speak WebSocket only
            fi
            if [[ $parser != default && ( $server == bare-* || $scenario == polling ) ]]; then
                continue  # no Socket.IO parser / the polling client speaks the default one
            fi
            if [[ $scenario == cluster* ]]; then
                [[ $server == bare-* ]] && continue  # no adapter
                start_cluster "$server"
                # taskset execs the servers, so $pids are the servers themselves.
                line=$("${load_cpu[@]}" "$bin/loadgen" "127.0.0.1:$port,127.0.0.1:$((port + 1))" "${pids[0]},${pids[1]}" "$scenario" $(args_for "$scenario") 2>>"$out/loadgen.log" || echo "scenario=$scenario failed=1")
                stop_servers
                echo "server=$server run=$run parser=$parser $line" | tee -a "$results"
                continue
            fi
            start_server "$server" > "$out/$server.log" 2>&1 &
            pid=$!
            pids=("$pid")
            wait_for_port "$pid"
            # taskset execs the server, so $pid is the server itself.
            line=$("${load_cpu[@]}" "$bin/loadgen" "127.0.0.1:$port" "$pid" "$scenario" $(args_for "$scenario") 2>>"$out/loadgen.log" || echo "scenario=$scenario failed=1")
            stop_servers
            echo "server=$server run=$run parser=$parser $line" | tee -a "$results"
        done
    done
done

{
    echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
    echo "Command: PARSER=$parser scripts/bench.sh $* (REPEAT=$repeat; figures are medians of the runs)"
    echo
    "$bin/table" "$results"
} > "$out/table$suffix.md"
echo
cat "$out/table$suffix.md"
