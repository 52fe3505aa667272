#!/usr/bin/env bash
# bench/ab.sh — A/B timing of two csvinfer binaries on one file, for a
# machine too noisy for separate runs: the two alternate, round after round,
# so both see the same load; prints each round and the medians of wall time
# and of CPU time (user + system).
#
#   bench/ab.sh BASE_BINARY NEW_BINARY FILE [ROUNDS] [-- CSVINFER_ARGS...]
#
# Default arguments: --threads 2 --no-cache --no-ledger --format json.  The
# binaries' exit status is not checked (the bench data has a ragged row, so
# csvinfer exits 1); their outputs are compared once before timing, and a
# difference stops the script: an A/B of binaries that disagree means nothing.
set -euo pipefail

if [ $# -lt 3 ]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
a=$1 b=$2 file=$3
rounds=${4:-10}
shift $(($# < 4 ? $# : 4))
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--threads 2 --no-cache --no-ledger --format json)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$a" "${args[@]}" -o "$tmp/a.out" "$file" 2>"$tmp/a.err" || true
"$b" "${args[@]}" -o "$tmp/b.out" "$file" 2>"$tmp/b.err" || true
# timing fields differ run to run; everything else must not
strip() { sed -E 's/"seconds": [0-9.]+//; s/"slices": [0-9]+//' "$1"; } # (the slice count follows --chunk-size)
if ! diff <(strip "$tmp/a.out") <(strip "$tmp/b.out") >/dev/null; then
    echo "ab.sh: the two binaries give different output on $file; not timing them" >&2
    diff <(strip "$tmp/a.out") <(strip "$tmp/b.out") | head -20 >&2
    exit 1
fi

run() { # binary label
    /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$1" "${args[@]}" -o /dev/null "$file" 2>/dev/null || true
    read -r wall user sys <"$tmp/t"
    echo "$2 $wall $(echo "$user + $sys" | bc)" | tee -a "$tmp/all"
}
find "$file" -type f -exec cat {} + >/dev/null # warm the page cache (a file or a directory)
for i in $(seq "$rounds"); do
    if [ $((i % 2)) -eq 1 ]; then run "$a" A; run "$b" B; else run "$b" B; run "$a" A; fi
done
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
for l in A B; do
    w=$(awk -v l=$l '$1 == l {print $2}' "$tmp/all" | median)
    c=$(awk -v l=$l '$1 == l {print $3}' "$tmp/all" | median)
    echo "median $l: wall $w s, cpu $c s"
done
