#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS — build the libFuzzer targets of tests/fuzz/ with
# clang (-fsanitize=fuzzer,address,undefined; the engine sources compiled
# with the same flags) into build-fuzz/, then run TARGET for SECONDS.
#   TARGET: split | classify | sniff | infer | cache | ledger | merge | walk | all (each one for SECONDS)
# Installs what is missing with apt-get (scripts/setup.sh, then clang and the
# fuzzer runtime).  Each target fuzzes a copy of its seed corpus
# (tests/fuzz/corpus/TARGET, never modified) in build-fuzz/work/TARGET/corpus;
# crash files go to build-fuzz/work/TARGET/artifacts/.  Prints the executions
# of each run; exits non-zero if a target crashed, leaked, hung or broke an
# invariant, printing the crash file's path.
# Environment: FUZZ_NICE (default 10), FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

usage() {
    echo "usage: scripts/fuzz.sh split|classify|sniff|infer|cache|ledger|merge|walk|all SECONDS" >&2
    exit 2
}
[ $# -eq 2 ] || usage
TARGET=$1
SECONDS_PER=$2
case "$TARGET" in split | classify | sniff | infer | cache | ledger | merge | walk | all) ;; *) usage ;; esac
[[ "$SECONDS_PER" =~ ^[0-9]+$ ]] && [ "$SECONDS_PER" -gt 0 ] || usage

# ---- dependencies ------------------------------------------------------------
csvi_install_deps

apt_install() {
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "fuzz: installing $*" >&2
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

if ! command -v clang >/dev/null 2>&1; then
    apt_install clang
fi
# The fuzzer runtime (libclang_rt.fuzzer) comes in libclang-rt-N-dev on
# Debian 12+ (clang N); try a link to see whether it is there.
fuzz_probe() {
    local d
    d=$(mktemp -d)
    printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$d/p.c"
    clang -fsanitize=fuzzer,address,undefined "$d/p.c" -o "$d/p" >/dev/null 2>&1
    local rc=$?
    rm -rf "$d"
    return $rc
}
if ! fuzz_probe; then
    major=$(clang -dumpversion | cut -d. -f1)
    apt_install "libclang-rt-${major}-dev" || apt_install "libclang-common-${major}-dev"
    fuzz_probe || { echo "fuzz: clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

# ---- build ---------------------------------------------------------------------
ROOT=$CSVI_ROOT
OUT=$ROOT/build-fuzz
mkdir -p "$OUT/obj"

# The library's sources: csvinfer_lib's list in CMakeLists.txt.
mapfile -t ENGINE_SRCS < <(sed -n '/^add_library(csvinfer_lib/,/^)/p' "$ROOT/CMakeLists.txt" | grep -o '[a-z0-9_/]*\.c')
[ ${#ENGINE_SRCS[@]} -gt 10 ] || { echo "fuzz: cannot read csvinfer_lib's sources from CMakeLists.txt" >&2; exit 1; }
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
CFLAGS=(-std=gnu17 -g -O1 -Wall -Wextra -I "$ROOT/engine" "${SAN[@]}")
read -r -a PKG_CFLAGS <<<"$(pkg-config --cflags liburing libxxhash jansson zlib libzstd)"
read -r -a PKG_LIBS <<<"$(pkg-config --libs liburing libxxhash jansson zlib libzstd)"

OBJS=()
for src in "${ENGINE_SRCS[@]}"; do
    obj="$OUT/obj/$(echo "$src" | tr / _).o"
    # rebuild when the source or any header is newer than the object
    if [ ! -f "$obj" ] || [ -n "$(find "$ROOT/$src" "$ROOT/engine" "$ROOT/io" "$ROOT/cache" -name '*.h' -newer "$obj" -o -path "$ROOT/$src" -newer "$obj" | head -1)" ]; then
        clang "${CFLAGS[@]}" -fsanitize=fuzzer-no-link "${PKG_CFLAGS[@]}" -c "$ROOT/$src" -o "$obj"
    fi
    OBJS+=("$obj")
done

build_target() { # NAME
    local t=$1
    clang "${CFLAGS[@]}" -fsanitize=fuzzer "${PKG_CFLAGS[@]}" "$ROOT/tests/fuzz/fuzz_$t.c" \
        "${OBJS[@]}" "${PKG_LIBS[@]}" -lpthread -lm -o "$OUT/fuzz_$t"
}

# ---- run -----------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_target() { # NAME -> 0 ok, 1 crashed
    local t=$1
    local work=$OUT/work/$t
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
    local log=$work/fuzz-$(date +%Y%m%d-%H%M%S).log
    local before
    before=$(ls "$work/artifacts" | wc -l)
    echo "== fuzz_$t: ${SECONDS_PER}s, log $log"
    local rc=0
    # shellcheck disable=SC2086
    nice -n "${FUZZ_NICE:-10}" "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER" -max_len=4096 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus" >"$log" 2>&1 || rc=$?
    local execs
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    echo "   executions: ${execs:-?}   exit: $rc"
    local after
    after=$(ls "$work/artifacts" | wc -l)
    if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
        echo "   CRASH in fuzz_$t; crash file(s):"
        grep -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to /     /' || true
        grep -m1 -E 'ERROR: |runtime error|fuzz_[a-z]+: ' "$log" | sed 's/^/   /' || true
        echo "   reproduce: $OUT/fuzz_$t CRASH-FILE"
        return 1
    fi
    return 0
}

if [ "$TARGET" = all ]; then
    TARGETS=(split classify sniff infer cache ledger merge walk)
else
    TARGETS=("$TARGET")
fi
for t in "${TARGETS[@]}"; do
    build_target "$t"
done
failed=0
for t in "${TARGETS[@]}"; do
    run_target "$t" || failed=1
done
exit $failed
