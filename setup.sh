#!/usr/bin/env bash
# One entry point for newcomers and CI: installs what is missing (Debian 12), builds, runs.
#   ./setup.sh demo   build, then run the offline demo (server + fake agent + a simulated call)
#   ./setup.sh test   build, then run every test: unit and integration tests, the same tests
#                     under ASan+UBSan (clang), and a short smoke of each libFuzzer target
#   ./setup.sh build  install and build only
# Environment: FUZZ_SECONDS (default 60), JOBS (default: all cores), BUILD_ROOT (default ./build).
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-demo}
jobs=${JOBS:-$(nproc)}
build_root=${BUILD_ROOT:-build}
fuzz_seconds=${FUZZ_SECONDS:-60}

packages=(build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libcaf-dev libwebsockets-dev rapidjson-dev libfmt-dev catch2 libspeexdsp-dev libssl-dev
  libsqlite3-dev libmariadb-dev libjemalloc-dev ca-certificates)
# The tests also run a real MariaDB server (started privately on loopback by the test fixture) and
# the dashboard in headless Chromium (driven by playwright-core from npm, on the machine's Node 20).
test_packages=(mariadb-server chromium)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure DIR [cmake args...]: one build tree per configuration, compiled through ccache.
configure() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache "$@" >/dev/null
}

build_release() {
  configure "$build_root/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$build_root/release" -j "$jobs"
}

build_sanitized() {
  CC=clang CXX=clang++ configure "$build_root/asan" -DCMAKE_BUILD_TYPE=Debug \
    -DCALLBRIDGE_SANITIZE=ON -DCALLBRIDGE_FUZZ=ON -DFUZZ_SECONDS="$fuzz_seconds"
  cmake --build "$build_root/asan" -j "$jobs"
}

install_browser_driver() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "setup.sh: the dashboard test needs Node.js 20+ and npm (node -v)" >&2
    exit 1
  fi
  npm ci --prefix test/dashboard --no-audit --no-fund --loglevel=error
}

run_tests() {
  echo "==> tests (release build)"
  ctest --test-dir "$build_root/release" --output-on-failure -j "$jobs" -LE fuzz
  echo "==> tests under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" -LE fuzz
  echo "==> fuzz smoke (${fuzz_seconds}s per target)"
  ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" -L fuzz
}

[ "$mode" = test ] && packages+=("${test_packages[@]}")
install_packages
case "$mode" in
  build) build_release ;;
  test) install_browser_driver; build_release; build_sanitized; run_tests ;;
  demo)
    build_release
    exec "$build_root/release/apps/demo/callbridge-demo" "${@:2}"
    ;;
  *) echo "usage: $0 demo|test|build" >&2; exit 2 ;;
esac
