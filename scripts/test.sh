#!/usr/bin/env bash
# Runs every test of tower-socketio, on a fresh machine too: installs what the tests need (the
# Node.js test clients from the npm registry; Node.js, Debian's Chromium for the browser test and
# Debian's redis-server for the Redis adapter tests, through apt-get where missing), then checks
# formatting, lints and docs, and runs the whole suite.
#
#   scripts/test.sh            # everything
#   scripts/test.sh engine     # only the tests whose names contain "engine" (cargo test filter)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

step "test dependencies"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Node.js and npm (Debian packages)"
  apt_install nodejs npm
fi
node --version
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium (Debian package) for the browser test"
  apt_install chromium
fi
if ! command -v redis-server >/dev/null; then
  echo "installing redis-server (Debian package) for the Redis adapter tests"
  apt_install redis-server
fi
if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
  touch tests/js/node_modules
fi

step "module layers (scripts/check-layers.py)"
python3 scripts/check-layers.py

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, warnings denied)"
cargo clippy --all-targets --all-features -- -D warnings

step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features

step "cargo test"
cargo test --all-features -- "$@"
