#!/usr/bin/env bash
# test.sh — set up (apt-get what is missing) and run the whole suite: the
# Release build's tests, the load test against a real PostgreSQL server
# (scripts/pg-test.sh, which installs and starts its own), then the tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer and under
# ThreadSanitizer, then each libFuzzer target for a minute (CSVI_FUZZ_SECONDS).
# Exits non-zero if anything fails.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
CSVI_DEPS+=(gzip zstd) # the command-line tools: tests/test_stdin.c pipes archives in
csvi_install_deps

run_suite() { # NAME DIR CMAKE-ARGS...
    local name=$1 dir=$2
    shift 2
    echo "== $name: building"
    csvi_build "$dir" -DBUILD_TESTING=ON "$@"
    echo "== $name: testing"
    (cd "$CSVI_ROOT/$dir" && ctest --output-on-failure --timeout 900)
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$CSVI_ROOT/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite "release" build -DCMAKE_BUILD_TYPE=Release -DCSVI_SANITIZE=
echo "== postgresql: every inferred schema must load its file (scripts/pg-test.sh)"
CSVINFER="$CSVI_ROOT/build/csvinfer" bash "$CSVI_ROOT/scripts/pg-test.sh"
echo "== sqlite: every --sql-dialect sqlite script must load its file (scripts/sqlite-test.sh)"
CSVINFER="$CSVI_ROOT/build/csvinfer" bash "$CSVI_ROOT/scripts/sqlite-test.sh"
echo "== postgresql: --group tables (a COPY per file into each) load, with their rows and NULLs (scripts/pg-group-test.sh)"
CSVINFER="$CSVI_ROOT/build/csvinfer" bash "$CSVI_ROOT/scripts/pg-group-test.sh"
echo "== ledger: SIGKILL/SIGTERM/SIGINT at random moments and concurrent writers leave a true ledger (tests/ledger-kill.sh)"
bash "$CSVI_ROOT/tests/ledger-kill.sh" "$CSVI_ROOT/build/csvinfer"
run_suite "asan+ubsan" build-asan -DCMAKE_BUILD_TYPE=Debug -DCSVI_SANITIZE=address
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
run_suite "tsan" build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCSVI_SANITIZE=thread
echo "== limits: 100,000 columns, a 1 GiB field, 10 M rows, 100,000 files, deep trees under ulimit -v (tests/limits.sh)"
CSVINFER="$CSVI_ROOT/build/csvinfer" bash "$CSVI_ROOT/tests/limits.sh"
echo "== files that change while they are read are reported, never silently inferred (tests/changing-file.sh)"
CSVINFER="$CSVI_ROOT/build/csvinfer" bash "$CSVI_ROOT/tests/changing-file.sh"
echo "== fuzz: each libFuzzer target for ${CSVI_FUZZ_SECONDS:-60} s (scripts/fuzz.sh)"
bash "$CSVI_ROOT/scripts/fuzz.sh" all "${CSVI_FUZZ_SECONDS:-60}"
echo "== all suites passed"
