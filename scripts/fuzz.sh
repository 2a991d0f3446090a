#!/usr/bin/env bash
# Fuzzes every decoder that reads bytes from the network (the targets in fuzz/), one target at a
# time, and prints for each the executions, the speed and the result. Exits non-zero when any
# target crashed, leaked, timed out or went over the memory limits.
#
#   scripts/fuzz.sh              # 60 seconds per target
#   scripts/fuzz.sh 120          # 120 seconds per target
#   scripts/fuzz.sh -runs=10000000 [TARGET...]   # a number of executions per target
#
# Needs the nightly toolchain (cargo-fuzz is installed with `cargo install` when missing). The
# corpus grows in fuzz/corpus/<target>/ (not committed), starting from fuzz/seeds/<target>/;
# findings land in fuzz/artifacts/<target>/ and the logs in fuzz/target/logs/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

budget="${1:-60}"
shift || true
case "$budget" in
  -runs=*) limit="$budget" ;;
  *[!0-9]* | "") echo "usage: $0 [SECONDS | -runs=N] [TARGET...]" >&2; exit 2 ;;
  *) limit="-max_total_time=$budget" ;;
esac

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! command -v cargo-fuzz >/dev/null; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# No allocation over 256 MB, no process over 256 MB, no input longer than 5 s. AddressSanitizer
# keeps freed memory in quarantine, which counts in the process's size: a smaller quarantine
# keeps the limit about the decoders rather than the sanitizer.
limits=(-rss_limit_mb=256 -malloc_limit_mb=256 -timeout=5)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

nice -n 10 cargo +nightly fuzz build >/dev/null
mkdir -p target/logs
failed=0
results=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="target/logs/$target.log"
  echo "== $target ($limit)"
  status=0
  nice -n 10 cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    "$limit" "${limits[@]}" -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n1)"
  speed="$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -n1)"
  peak="$(awk '/stat::peak_rss_mb/ {print $2}' "$log" | tail -n1)"
  if [ "$status" -eq 0 ]; then
    result="no crash"
  else
    failed=1
    if grep -q "out-of-memory (malloc" "$log"; then result="FAILED: allocation over the limit"
    elif grep -q "libFuzzer: out-of-memory" "$log"; then result="FAILED: out of memory"
    elif grep -q "libFuzzer: timeout" "$log"; then result="FAILED: timeout"
    elif grep -q "LeakSanitizer" "$log"; then result="FAILED: leak"
    elif grep -q "libFuzzer: run interrupted" "$log"; then result="FAILED: interrupted"
    else result="FAILED: crash"
    fi
    grep -m1 "Test unit written to" "$log" || true
  fi
  line="$(printf '%-12s %12s executions %8s exec/s  peak %4s MB  %s' \
    "$target" "${execs:-?}" "${speed:-?}" "${peak:-?}" "$result")"
  echo "$line"
  results+=("$line")
done

echo
echo "== summary"
printf '%s\n' "${results[@]}"
exit "$failed"
