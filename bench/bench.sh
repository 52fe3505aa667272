#!/usr/bin/env bash
# bench.sh — benchmark of csvinfer's single-file engine against `wc -l` and `cat` on
# generated data (bench/gen_data.c, profiles mixed/numeric/text), plus 10,000 small
# files; prints a table and writes it to bench/results-latest.txt. Budget: DESIGN.md §6.
#
# Environment (relative paths are taken from the repository root):
#   CSVI_BIN         csvinfer binary             (default build/csvinfer)
#   CSVI_BENCH_DIR   generated data              (default bench/data, git-ignored)
#   CSVI_BENCH_SIZE  size of each profile's file (default 1G; K/M/G are powers of 1024)
#   CSVI_ARGS        extra csvinfer arguments, split on spaces (default none)
#   CSVI_BENCH_RUNS  rounds of each measurement (default 5)
#   CSVI_BENCH_PROFILES  the profiles of the main table, split on spaces (default
#                    "mixed numeric text"; set: the table goes to bench/results-partial.txt)
#   CSVI_BENCH_MAIN, CSVI_BENCH_4G, CSVI_BENCH_CACHE, CSVI_BENCH_COMPRESSED
#                    0 skips that part (default 1 each): the profiles + small files table,
#                    the 4 GiB RSS run, the cache table, the compressed table.  A run
#                    without the main table writes bench/results-partial.txt instead.
#
# Method: data files are generated once (seed 42) and reused. Before each profile the
# file is read once to warm the page cache; then wc -l, cat and csvinfer run in turn,
# five rounds, and the best (minimum) wall time of each is kept.  This machine's speed
# drifts by 30 % within a minute, so the two ratios that matter are also given as the
# median over the rounds of each round's own ratio (its csvinfer run against its own
# wc -l run, its 1-thread run against its all-cores run): "med" columns. Each command runs under
# GNU time (-f "%e %M"): peak RSS is its %M (the largest of the csvinfer runs); wall
# seconds are taken around it with bash's $EPOCHREALTIME (1 ms, where %e has only 10 ms:
# wc -l reads 1 GB in ~0.15 s here), falling back to %e on bash < 5. Every csvinfer run
# gets fresh, empty XDG_CACHE_HOME and XDG_STATE_HOME and --no-cache, so the main table
# measures inference itself (--threads 1 is then the sequential engine).
#
# The verdict cache (docs/cache.md) gets its own table, on the mixed file at all cores:
# the --no-cache run is the first-run baseline; "unchanged" is a second run with the
# cache a first run filled; "grown 1%" is a copy of the file with 1% more rows appended
# (its first rows again), run with a cache filled from the original file; "cold cache"
# is a first run that fills an empty cache (the cost of writing it).  Then the opt-in
# trust modes: the unchanged file with --trust-mtime, and a copy of the file grown in
# place (same inode) by the same 1% with --trust-append, each after a run with the flag
# (which records the file).  Best of 3 each.
set -euo pipefail
export LC_ALL=C # decimal points in $EPOCHREALTIME and awk

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN="${CSVI_BIN:-build/csvinfer}"
DATA="${CSVI_BENCH_DIR:-bench/data}"
SIZE="${CSVI_BENCH_SIZE:-1G}"
read -r -a EXTRA <<<"${CSVI_ARGS:-}"
SEED=42
RUNS="${CSVI_BENCH_RUNS:-5}"
NPROC="$(nproc)"
read -r -a PROFILES <<<"${CSVI_BENCH_PROFILES:-mixed numeric text}"
SMALL_N=10000
SMALL_SIZE=10K
RESULTS=bench/results-latest.txt
[[ "${CSVI_BENCH_MAIN:-1}" == 1 && -z "${CSVI_BENCH_PROFILES:-}" ]] || RESULTS=bench/results-partial.txt

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# ---- prerequisites ------------------------------------------------------------------

if [[ "$BIN" != */* ]]; then
    BIN="$(command -v "$BIN" || true)"
fi
if [[ -z "$BIN" || ! -x "$BIN" || -d "$BIN" ]]; then
    die "csvinfer binary '${CSVI_BIN:-build/csvinfer}' not found; build it first:
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j
  or point CSVI_BIN at a binary."
fi

# A binary older than a source file it is built from measures other code than
# the commit the table names (an experiment's build left in build/, say).
STALE=""
newer="$(find engine io cache CMakeLists.txt -newer "$BIN" -type f -print -quit 2>/dev/null || true)"
if [[ -n "$newer" ]]; then
    STALE="$newer"
    note "warning: $BIN is older than $newer: rebuild (cmake --build build -j) or the" \
        "table measures another build than commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
fi

have_gnu_time() {
    [[ -x /usr/bin/time ]] || return 1
    local v
    v="$(/usr/bin/time --version 2>&1 || true)"
    [[ "$v" == *GNU* ]]
}
if ! have_gnu_time; then
    note "GNU time (/usr/bin/time) is missing; installing package 'time'"
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null; then SUDO=(sudo); fi
    if ! ${SUDO[@]+"${SUDO[@]}"} apt-get install -y time; then
        ${SUDO[@]+"${SUDO[@]}"} apt-get update
        ${SUDO[@]+"${SUDO[@]}"} apt-get install -y time
    fi
    have_gnu_time || die "GNU time is still not available at /usr/bin/time"
fi

# Every timed command writes to /dev/null; a regular file there (left by a tool that
# replaced it, e.g. an "-o /dev/null" written via temp file + rename) makes cat slow.
NULL_FIX="restore it (as root): rm -f /dev/null && mknod -m 666 /dev/null c 1 3"
[[ -c /dev/null ]] || die "/dev/null is not a character device; $NULL_FIX"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/csvi-bench.XXXXXX")"
PARTIAL=""
cleanup() {
    rm -rf "$WORK"
    if [[ -n "$PARTIAL" ]]; then rm -rf "$PARTIAL"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- data ---------------------------------------------------------------------------

mkdir -p "$DATA"

# Generated to a temporary name and renamed, so an interrupted run leaves no half file.
# big_file PROFILE sets BIG_FILE; small_dir sets SMALL_DIR (no subshells: the cleanup
# trap must see PARTIAL).
big_file() {
    local f="$DATA/$1-$SIZE-s$SEED.csv"
    if [[ ! -f "$f" ]]; then
        note "generating $f"
        PARTIAL="$f.tmp.$$"
        scripts/gen-data --profile "$1" --size "$SIZE" --seed "$SEED" -o "$PARTIAL"
        mv -f "$PARTIAL" "$f"
        PARTIAL=""
    fi
    BIG_FILE="$f"
}

small_dir() {
    local d="$DATA/small-mixed-${SMALL_N}x$SMALL_SIZE-s$SEED"
    if [[ ! -d "$d" ]]; then
        note "generating $SMALL_N files of $SMALL_SIZE in $d"
        PARTIAL="$d.tmp.$$"
        scripts/gen-data --profile mixed --files "$SMALL_N" --file-size "$SMALL_SIZE" \
            --seed "$SEED" --dir "$PARTIAL"
        mv -f "$PARTIAL" "$d"
        PARTIAL=""
    fi
    SMALL_DIR="$d"
}

# ---- timing -------------------------------------------------------------------------

# timed LABEL CMD... — one run under GNU time, stdout discarded. Sets T_SECS, T_KIB, T_RC.
timed() {
    local label="$1"
    shift
    T_RC=0
    local t0="${EPOCHREALTIME:-}"
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || T_RC=$?
    local t1="${EPOCHREALTIME:-}"
    # On failure GNU time writes "Command exited with non-zero status N" first.
    local last
    last="$(tail -n 1 "$WORK/time")"
    read -r T_SECS T_KIB <<<"$last"
    [[ "$T_SECS" =~ ^[0-9.]+$ && "$T_KIB" =~ ^[0-9]+$ ]] ||
        die "$label: cannot read GNU time output: $last"
    if [[ -n "$t0" && -n "$t1" ]]; then
        T_SECS="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    fi
    if [[ "$T_RC" -ne 0 ]]; then
        note "$label exited with status $T_RC:"
        head -n 20 "$WORK/stderr" >&2 || true
    fi
}

fresh_xdg() {
    rm -rf "$WORK/xdg"
    mkdir -p "$WORK/xdg/cache" "$WORK/xdg/state"
    export XDG_CACHE_HOME="$WORK/xdg/cache" XDG_STATE_HOME="$WORK/xdg/state"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    print ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0) ? b : a }'; }

CSVI_FAILED=()

# measure NAME TARGET... — three rounds of wc -l, cat, csvinfer --threads 1 and csvinfer
# at all cores on TARGET (one file, or a directory's files for wc/cat and the directory
# for csvinfer). Sets BEST_WC, BEST_CAT, BEST_C1, BEST_CN, PEAK_KIB (all-cores run).
measure() {
    local name="$1" csvi_target="$2"
    shift 2
    local files=("$@") i failed=0
    BEST_WC="" BEST_CAT="" BEST_C1="" BEST_CN="" PEAK_KIB=0 MED_RW="" MED_SP=""
    local rw=() sp=() wc c1s
    local tail=(--format json -o /dev/null --no-cache ${EXTRA[@]+"${EXTRA[@]}"} "$csvi_target")
    local c1=("$BIN" --threads 1 "${tail[@]}") cn=("$BIN" --threads "$NPROC" "${tail[@]}")

    note "$name: warming the page cache"
    cat "${files[@]}" >/dev/null
    for ((i = 1; i <= RUNS; i++)); do
        note "$name: round $i/$RUNS"
        timed "wc -l" wc -l "${files[@]}"
        BEST_WC="$(min "$BEST_WC" "$T_SECS")"
        wc="$T_SECS"
        timed "cat" cat "${files[@]}"
        BEST_CAT="$(min "$BEST_CAT" "$T_SECS")"
        fresh_xdg
        timed "csvinfer 1 thread ($name)" "${c1[@]}"
        BEST_C1="$(min "$BEST_C1" "$T_SECS")"
        c1s="$T_SECS"
        [[ "$T_RC" -eq 0 || "$failed" -ne 0 ]] || { CSVI_FAILED+=("$name (status $T_RC)"); failed=1; }
        fresh_xdg
        timed "csvinfer $NPROC threads ($name)" "${cn[@]}"
        [[ -c /dev/null ]] || die "csvinfer replaced /dev/null with a regular file" \
            "(does -o write a temp file and rename it over the target?); $NULL_FIX"
        BEST_CN="$(min "$BEST_CN" "$T_SECS")"
        rw+=("$(awk -v a="$T_SECS" -v b="$wc" 'BEGIN { print (b > 0 ? a / b : 0) }')")
        sp+=("$(awk -v a="$c1s" -v b="$T_SECS" 'BEGIN { print (b > 0 ? a / b : 0) }')")
        PEAK_KIB="$(max "$PEAK_KIB" "$T_KIB")"
        [[ "$T_RC" -eq 0 || "$failed" -ne 0 ]] || { CSVI_FAILED+=("$name (status $T_RC)"); failed=1; }
        note "$name: round $i: wc -l ${wc} s, 1 thread ${c1s} s, $NPROC threads ${T_SECS} s"
    done
    MED_RW="$(median "${rw[@]}")"
    MED_SP="$(median "${sp[@]}")"
}

# ---- table --------------------------------------------------------------------------

FMT='%-18s %12s %7s %7s %8s %8s %9s %9s %9s %8s %8s %9s %9s\n'
# shellcheck disable=SC2059  # FMT is our own format string
TABLE="$(printf "$FMT" profile bytes 'wc-l s' 'cat s' '1thr s' "${NPROC}thr s" "${NPROC}thr MB/s" \
    "${NPROC}thr/wc-l" "(med)" "${NPROC}thr/cat" '1thr/Nthr' "(med)" 'RSS MiB')"$'\n'

add_row() { # add_row PROFILE BYTES — uses BEST_*, MED_* and PEAK_KIB
    TABLE+="$(awk -v fmt="$FMT" -v p="$1" -v b="$2" -v w="$BEST_WC" -v c="$BEST_CAT" \
        -v x1="$BEST_C1" -v xn="$BEST_CN" -v k="$PEAK_KIB" -v mrw="$MED_RW" -v msp="$MED_SP" 'BEGIN {
        mbs = xn > 0 ? sprintf("%.0f", b / 1e6 / xn) : "-"
        rw  = w > 0 ? sprintf("%.2f", xn / w) : "-"
        rc  = c > 0 ? sprintf("%.2f", xn / c) : "-"
        sp  = xn > 0 ? sprintf("%.2f", x1 / xn) : "-"
        printf fmt, p, b, w, c, x1, xn, mbs, rw, sprintf("%.2f", mrw), rc, sp,
               sprintf("%.2f", msp), sprintf("%.1f", k / 1024)
    }')"$'\n'
}

if [[ "${CSVI_BENCH_MAIN:-1}" == 1 ]]; then
for profile in "${PROFILES[@]}"; do
    big_file "$profile"
    f="$BIG_FILE"
    measure "$profile" "$f" "$f"
    add_row "$profile" "$(stat -c %s "$f")"
done

small_dir
d="$SMALL_DIR"
small_files=("$d"/*.csv)
[[ ${#small_files[@]} -eq $SMALL_N ]] || die "$d holds ${#small_files[@]} files, expected $SMALL_N"
measure "small ${SMALL_N}x$SMALL_SIZE" "$d" "${small_files[@]}"
add_row "small ${SMALL_N}x$SMALL_SIZE" "$(find "$d" -type f -name '*.csv' -printf '%s\n' |
    awk '{ s += $1 } END { print s + 0 }')"
fi

# Peak RSS must not grow with the file: the mixed profile at 4 GiB, once, all cores.
if [[ "${CSVI_BENCH_4G:-1}" == 1 ]]; then
    SIZE_SAVE="$SIZE"
    SIZE=4G
    big_file mixed
    SIZE="$SIZE_SAVE"
    fresh_xdg
    note "mixed 4G: one run for peak RSS (after reading the file once: the page cache warm)"
    cat "$BIG_FILE" >/dev/null
    timed "csvinfer 4G" "$BIN" --threads "$NPROC" --format json -o /dev/null "$BIG_FILE"
    RSS4G="$(awk -v k="$T_KIB" 'BEGIN { printf "%.1f", k / 1024 }')"
    SECS4G="$T_SECS"
fi

# ---- the verdict cache -----------------------------------------------------------------

CACHE_TABLE=""
if [[ "${CSVI_BENCH_CACHE:-1}" == 1 ]]; then
    big_file mixed
    f="$BIG_FILE"
    grown="$WORK/grown.csv"
    rows="$(wc -l <"$f")"
    note "cache: making $grown (the mixed file plus $((rows / 100)) of its rows)"
    cp "$f" "$grown"
    head -n "$((rows / 100 + 1))" "$f" | tail -n +2 >>"$grown"
    cat "$f" "$grown" >/dev/null
    run_c() { timed "$1" "$BIN" --threads "$NPROC" --format json -o /dev/null ${EXTRA[@]+"${EXTRA[@]}"} "${@:2}"; }
    B_NO="" B_COLD="" B_SAME="" B_GROWN="" B_TSAME="" B_TGROWN="" CPEAK=0
    appended="$WORK/appended.csv"
    head -n "$((rows / 100 + 1))" "$f" | tail -n +2 >"$WORK/rows1pct.csv"
    for ((i = 1; i <= RUNS; i++)); do
        note "cache: round $i/$RUNS"
        fresh_xdg
        run_c "no cache" --no-cache "$f"
        B_NO="$(min "$B_NO" "$T_SECS")"
        run_c "cold cache" "$f"
        B_COLD="$(min "$B_COLD" "$T_SECS")"
        run_c "unchanged" "$f"
        B_SAME="$(min "$B_SAME" "$T_SECS")"
        CPEAK="$(max "$CPEAK" "$T_KIB")"
        fresh_xdg
        "$BIN" --threads "$NPROC" --format json -o /dev/null "$f" 2>/dev/null || true
        run_c "grown 1%" "$grown"
        B_GROWN="$(min "$B_GROWN" "$T_SECS")"
        CPEAK="$(max "$CPEAK" "$T_KIB")"
        store="$XDG_CACHE_HOME/csvinfer/verdicts.csvc"
        STORE_BYTES="$(stat -c %s "$store" 2>/dev/null || echo 0)"
        # the opt-in trust modes (docs/cache.md): an unchanged file with --trust-mtime, and
        # the same file (same inode) grown by 1% with --trust-append, each after a run
        # with the flag recorded it
        fresh_xdg
        "$BIN" --threads "$NPROC" --trust-mtime --format json -o /dev/null "$f" 2>/dev/null || true
        run_c "unchanged, --trust-mtime" --trust-mtime "$f"
        B_TSAME="$(min "$B_TSAME" "$T_SECS")"
        fresh_xdg
        cp "$f" "$appended"
        "$BIN" --threads "$NPROC" --trust-append --format json -o /dev/null "$appended" 2>/dev/null || true
        cat "$WORK/rows1pct.csv" >>"$appended"
        run_c "grown 1%, --trust-append" --trust-append "$appended"
        B_TGROWN="$(min "$B_TGROWN" "$T_SECS")"
        rm -f "$appended"
    done
    rm -f "$grown" "$WORK/rows1pct.csv"
    CACHE_TABLE="$(awk -v no="$B_NO" -v cold="$B_COLD" -v same="$B_SAME" -v grown="$B_GROWN" \
        -v tsame="$B_TSAME" -v tgrown="$B_TGROWN" \
        -v k="$CPEAK" -v sb="$STORE_BYTES" -v n="$NPROC" 'BEGIN {
        printf "%-34s %8s %12s\n", "mixed, " n " threads", "wall s", "/ no-cache"
        printf "%-34s %8.3f %12s\n", "--no-cache (first-run baseline)", no, "1.00"
        printf "%-34s %8.3f %12.3f\n", "cold cache (first run, fills it)", cold, cold / no
        printf "%-34s %8.3f %12.3f\n", "unchanged file, warm cache", same, same / no
        printf "%-34s %8.3f %12.3f\n", "grown by 1% of rows, warm cache", grown, grown / no
        printf "%-34s %8.3f %12.3f\n", "unchanged, --trust-mtime", tsame, tsame / no
        printf "%-34s %8.3f %12.3f\n", "grown 1% in place, --trust-append", tgrown, tgrown / no
        printf "peak RSS of the cached runs %.1f MiB; store after a run: %d bytes\n", k / 1024, sb
    }')"
fi

# ---- compressed inputs -------------------------------------------------------------------

# The first 256 MiB of the mixed file (whole lines), gzip -1 and zstd -1: csvinfer against the bare
# decompressor (zcat / zstdcat > /dev/null) on the same archive — the decompression-bound
# floor, since a compressed file is one stream decompressed by one thread (the splitter;
# the workers infer beside it). "csvi s" is a first run (empty cache); "warm s" a second
# run over the unchanged archive with the cache the first one filled (it decompresses
# again but infers nothing). Best of 3.
COMP_TABLE=""
if [[ "${CSVI_BENCH_COMPRESSED:-1}" == 1 ]]; then
    for tool in gzip zstd; do
        command -v "$tool" >/dev/null || {
            note "installing $tool"
            SUDO=()
            if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null; then SUDO=(sudo); fi
            ${SUDO[@]+"${SUDO[@]}"} apt-get install -y "$tool" >/dev/null 2>&1 ||
                { ${SUDO[@]+"${SUDO[@]}"} apt-get update >/dev/null && ${SUDO[@]+"${SUDO[@]}"} apt-get install -y "$tool" >/dev/null; }
        }
    done
    big_file mixed
    part="$DATA/mixed-256M-s$SEED.csv"
    # whole lines only (a cut record is a ragged_row: every run would exit 1)
    if [[ ! -f "$part" || "$(tail -c 1 "$part" | od -An -tx1 | tr -d ' ')" != 0a ]]; then
        head -c $((256 << 20)) "$BIG_FILE" | sed '$d' >"$part"
        rm -f "$part.gz" "$part.zst"
    fi
    [[ -f "$part.gz" ]] || gzip -1 -k -c "$part" >"$part.gz"
    [[ -f "$part.zst" ]] || zstd -q -1 "$part" -o "$part.zst"
    COMP_TABLE="$(printf '%-12s %12s %10s %10s %12s %10s %10s %12s\n' archive 'archive B' 'decomp s' 'csvi s' 'csvi/decomp' 'MB/s CSV' 'warm s' 'warm/decomp')"$'\n'
    for kind in gz zst; do
        a="$part.$kind"
        dec=(zcat "$a")
        [[ $kind == zst ]] && dec=(zstdcat "$a")
        cat "$a" >/dev/null
        B_DEC="" B_CSVI="" B_WARM=""
        for ((i = 1; i <= RUNS; i++)); do
            timed "decompress $kind" "${dec[@]}"
            B_DEC="$(min "$B_DEC" "$T_SECS")"
            fresh_xdg
            timed "csvinfer $kind" "$BIN" --format json -o /dev/null ${EXTRA[@]+"${EXTRA[@]}"} "$a"
            B_CSVI="$(min "$B_CSVI" "$T_SECS")"
            timed "csvinfer $kind warm" "$BIN" --format json -o /dev/null ${EXTRA[@]+"${EXTRA[@]}"} "$a"
            B_WARM="$(min "$B_WARM" "$T_SECS")"
        done
        COMP_TABLE+="$(awk -v k="$kind" -v ab="$(stat -c %s "$a")" -v d="$B_DEC" -v c="$B_CSVI" \
            -v w="$B_WARM" -v pb="$(stat -c %s "$part")" 'BEGIN {
            printf "%-12s %12d %10.3f %10.3f %12.2f %10.0f %10.3f %12.2f\n", k, ab, d, c, c / d, pb / 1e6 / c, w, w / d }')"$'\n'
    done
fi

# ---- report -------------------------------------------------------------------------

cpu="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo none)"
{
    echo "# csvinfer bench — $(date '+%Y-%m-%d %H:%M:%S %z')"
    echo "# nproc: $(nproc)   cpu: ${cpu:-unknown}   commit: $commit"
    [[ -z "$STALE" ]] || echo "# WARNING: the binary is older than $STALE: not a build of this commit"
    echo "# csvinfer: $BIN --threads 1|$NPROC --format json -o /dev/null" \
        "${EXTRA[*]+${EXTRA[*]} }FILE (small files: the directory as one argument)"
    echo "# data: $DATA, $SIZE per profile, seed $SEED; best of $RUNS, warm page cache;" \
        "csvi/wc-l and csvi/cat are ratios of wall times (best to best; (med): the median" \
        "of the rounds' own ratios); MB = 10^6 bytes"
    echo
    printf '%s' "$TABLE"
    if [[ -n "$COMP_TABLE" ]]; then
        echo
        echo "# compressed inputs: the first 256 MiB of the mixed file (whole lines), gzip -1 / zstd -1 (best of $RUNS)"
        printf '%s' "$COMP_TABLE"
    fi
    if [[ -n "$CACHE_TABLE" ]]; then
        echo
        echo "# verdict cache (best of $RUNS; ratios to the --no-cache run of the same round set)"
        echo "$CACHE_TABLE"
    fi
    if [[ -n "${RSS4G:-}" ]]; then
        echo
        echo "mixed 4 GiB, $NPROC threads, one run: ${SECS4G} s, peak RSS ${RSS4G} MiB"
    fi
    for failed in ${CSVI_FAILED[@]+"${CSVI_FAILED[@]}"}; do
        echo "# WARNING: csvinfer failed on $failed; its times are not valid"
    done
} >"$WORK/results"
cat "$WORK/results"
cp "$WORK/results" "$RESULTS"
note "results written to $RESULTS"

if [[ ${#CSVI_FAILED[@]} -gt 0 ]]; then exit 1; fi
