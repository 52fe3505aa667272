#!/usr/bin/env bash
# limits.sh — csvinfer at the limits of issue 7 item 6, each in bounded memory:
#
#   wide    100,000 columns (a header line of ~0.6 MB, rows of ~0.9 MB)
#   kinds   tolerant mode over 2,000 columns of 42 kinds of value each
#   field   a 1 GiB field with no newline, stopped by --max-record (and the same
#           field after a header, an unterminated quote over 256 MiB of lines,
#           and --max-record 1M)
#   rows    10 million one-byte rows (a digit: no header; a letter: header)
#   files   a directory of 100,000 small files (and RSS per file, from a run
#           over 10,000 of them)
#   deep    a directory tree 200 levels deep, and one deeper than PATH_MAX
#
# Every run is done three times: the default thread count, --threads 1 (the
# pipeline with one worker) and --threads 1 --no-cache (the sequential
# engine), each with an empty cache and state directory.  Each runs in a subshell under
# `ulimit -v` (address space: 384 MiB + 64 MiB per thread, i.e. 512 MiB on
# 2 cores, less than the 1 GiB field) and `timeout` (a hang fails); its peak
# RSS (/usr/bin/time -f %M) is checked against a budget: DESIGN.md §6's
# 64 MiB + 2 x threads x chunk (8 MiB), plus --max-record for the long field,
# plus 2 KiB per column (wide) or 3 KiB per file (files), where the tool keeps
# state per column or per file.  Each run prints PASS/FAIL with its seconds
# and peak RSS; the exit status is 1 if any failed.
#
#   CSVINFER=build/csvinfer bash tests/limits.sh [--full]
#
# Sizes (environment): LIMITS_COLS (100000), LIMITS_WIDE_ROWS (20; --full 240),
# LIMITS_FIELD_BYTES (1073741824), LIMITS_ROWS (10000000), LIMITS_FILES
# (100000), LIMITS_DEPTH (200). All but the wide file's row count are the
# issue's full sizes by default (about 90 s here); --full also runs the
# 100,000-column file with 240 rows (197 MB), which shows the parallel
# engine's memory growing with the rows of a wide file (docs/testing.md).
# Data goes to a temporary directory (TMPDIR) removed at exit; the field
# needs LIMITS_FIELD_BYTES of free space there, else that case is skipped.
# jq programs are in single quotes on purpose; check runs jqt indirectly.
# shellcheck disable=SC2016,SC2317
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSVINFER=${CSVINFER:-$ROOT/build/csvinfer}
FULL=0
for a in "$@"; do
    case $a in
    --full) FULL=1 ;;
    *) echo "usage: limits.sh [--full]" >&2; exit 2 ;;
    esac
done
COLS=${LIMITS_COLS:-100000}
WIDE_ROWS=${LIMITS_WIDE_ROWS:-$((FULL ? 240 : 20))}
FIELD_BYTES=${LIMITS_FIELD_BYTES:-1073741824}
ROWS=${LIMITS_ROWS:-10000000}
FILES=${LIMITS_FILES:-100000}
DEPTH=${LIMITS_DEPTH:-200}
TIMEOUT=${LIMITS_TIMEOUT:-120} # seconds per run: longer is a hang

MIB=1024 # KiB
CHUNK_KIB=$((8 * MIB))
MAX_RECORD_KIB=$((64 * MIB))
NCPU=$(getconf _NPROCESSORS_ONLN)
MODES="default 1 seq"

if [ ! -x "$CSVINFER" ]; then
    echo "limits.sh: no csvinfer at $CSVINFER (set CSVINFER)" >&2
    exit 2
fi
CSVINFER=$(cd "$(dirname "$CSVINFER")" && pwd)/$(basename "$CSVINFER")

need() { # COMMAND PACKAGE: apt-get the package if the command is missing
    command -v "$1" >/dev/null 2>&1 && return 0
    local sudo=
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "limits.sh: installing $2"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "$2" >/dev/null
}
need jq jq
[ -x /usr/bin/time ] || need /usr/bin/time time

T=$(mktemp -d "${TMPDIR:-/tmp}/csvi-limits.XXXXXX")
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/xdg-cache XDG_STATE_HOME=$T/xdg-state
mkdir -p "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$T/data"
D=$T/data

FAILED=0

# ---- running and checking ---------------------------------------------------

# Address space allowed for a run of NT threads (KiB).
vm_limit() { echo $(((384 + 64 * NT) * MIB)); }
# DESIGN.md §6 peak memory budget for a run of NT threads (KiB).
budget() { echo $((64 * MIB + 2 * NT * CHUNK_KIB)); }

# run MODE ARGS...: csvinfer under ulimit -v and timeout.  MODE: default (the
# pipeline, one worker per core), 1 (--threads 1: the pipeline, one worker),
# seq (--threads 1 --no-cache: the sequential engine).  The cache starts
# empty each time.  Sets RC, SECS, RSS (KiB), OUT and ERR (files), VM (KiB),
# NT (threads).
run() {
    MODE=$1
    shift
    local margs=()
    case $MODE in
    default) NT=$NCPU ;;
    1) NT=1 margs=(--threads 1) ;;
    seq) NT=1 margs=(--threads 1 --no-cache) ;;
    esac
    VM=$(vm_limit)
    OUT=$T/out.json ERR=$T/err.txt
    rm -rf "$XDG_CACHE_HOME" "$XDG_STATE_HOME" # every run: no cache, no ledger yet
    mkdir -p "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
    (
        ulimit -v "$VM"
        exec /usr/bin/time -f '%e %M' -o "$T/time" timeout "$TIMEOUT" "$CSVINFER" "${margs[@]}" "$@"
    ) >"$OUT" 2>"$ERR"
    RC=$?
    read -r SECS RSS < <(tail -n 1 "$T/time")
    CHECK_FAILS=()
}

# check DESCRIPTION COMMAND...: record a failed expectation of the current run.
check() {
    local what=$1
    shift
    "$@" >/dev/null 2>&1 || CHECK_FAILS+=("$what")
}
check_rc() { # EXPECTED
    [ "$RC" = 124 ] && CHECK_FAILS+=("timed out after ${TIMEOUT}s (hang)")
    [ "$RC" = "$1" ] || CHECK_FAILS+=("exit status $RC, expected $1")
}
check_rss() { # BOUND-KiB
    [ "${RSS:-0}" -le "$1" ] || CHECK_FAILS+=("peak RSS $((RSS / MIB)) MiB over the bound $(($1 / MIB)) MiB")
}
jqt() { jq -e "$@" "$OUT"; } # a jq expression that must be true of the output

# report CASE DETAIL: print PASS/FAIL for the current run.
report() {
    local line f
    line=$(printf '%-5s %-6s %-44s %-8s %6.2f s %7.1f MiB  (ulimit -v %d MiB)' \
        "$( ((${#CHECK_FAILS[@]})) && echo FAIL || echo PASS)" "$1" "$2" "$MODE" "$SECS" \
        "$(awk -v r="$RSS" 'BEGIN { print r / 1024 }')" $((VM / MIB)))
    echo "$line"
    if ((${#CHECK_FAILS[@]})); then
        FAILED=1
        for f in "${CHECK_FAILS[@]}"; do echo "      - $f"; done
        echo "      stderr: $(head -c 300 "$ERR")"
    fi
}
human() { numfmt --to=iec-i --suffix=B "$1"; } # bytes -> 1.0GiB

# ---- 1. 100,000 columns -------------------------------------------------------
# Column i (1-based) by (i-1) mod 4: integer, decimal, date, text.
case_wide() {
    local f=$D/wide.csv
    awk -v n="$COLS" -v rows="$WIDE_ROWS" 'BEGIN {
        for (i = 1; i <= n; i++) printf "%sc%d", (i > 1 ? "," : ""), i; printf "\n"
        for (r = 1; r <= rows; r++) {
            for (i = 1; i <= n; i++) {
                k = (i - 1) % 4
                if (k == 0) v = i + r
                else if (k == 1) v = sprintf("%d.%02d", i, r % 100)
                else if (k == 2) v = sprintf("2024-01-%02d", r % 28 + 1)
                else v = "x" i
                printf "%s%s", (i > 1 ? "," : ""), v
            }
            printf "\n"
        }
    }' >"$f"
    local size
    size=$(stat -c %s "$f")
    for mode in $MODES; do
        run "$mode" --format json "$f"
        check_rc 0
        check "rows = $WIDE_ROWS" jqt --argjson r "$WIDE_ROWS" '.files[0].rows == $r'
        check "header detected" jqt '.files[0].dialect.header == true'
        check "$COLS columns" jqt --argjson n "$COLS" '.files[0].columns | length == $n'
        check "column 1 c1 integer, min 2, max $((WIDE_ROWS + 1))" jqt --argjson r "$WIDE_ROWS" \
            '.files[0].columns[0] | .name == "c1" and .type == "integer" and .min == 2 and .max == $r + 1'
        check "column 2 decimal, column 3 date %Y-%m-%d, column 4 text" jqt \
            '.files[0].columns[1:4] | map(.type) == ["decimal", "date", "text"] and .[1].format == "%Y-%m-%d"'
        check "last column named c$COLS, by position" jqt --argjson n "$COLS" \
            '.files[0].columns[$n - 1].name == ("c" + ($n | tostring))'
        check "a quarter of the columns of each type" jqt --argjson n "$COLS" \
            '[.files[0].columns[].type] | (map(select(. == "integer")) | length) == (($n + 3) / 4 | floor) and (map(select(. == "text")) | length) == ($n / 4 | floor)'
        check_rss $(($(budget) + 2 * COLS))
        report wide "$COLS columns x $WIDE_ROWS rows, $(human "$size")"
    done
    rm -f "$f"
}

# ---- 1b. tolerant mode, many kinds of value in every column -------------------
# 2,000 columns x 1,200 rows, each cell drawn from 42 kinds (seven date formats,
# each as a date, a timestamp and a timestamp with a zone, and 21 others):
# --threshold 0.9 keeps a value set per kind and column, megabytes a work unit, so
# verdicts waiting for the merger once took 140-170 MiB at 2 threads; the
# pipeline now bounds their bytes (pipeline_internal.h VERDICT_CAP).
case_kinds() {
    local f=$D/kinds.csv cols=2000 rows=1200
    awk -v n="$cols" -v rows="$rows" 'BEGIN {
        split("%Y-%m-%d %m/%d/%Y %d.%m.%Y %Y/%m/%d %d-%m-%Y %m-%d-%Y %Y.%m.%d", fmt, " ")
        split("17 4.25 1e-3 true no word 12:30:00 -8 0.5 NaN x1 yes 3000000000 -2.5 f 23:59 abc T 99 Z N", other, " ")
        for (i = 1; i <= n; i++) printf "%sc%d", (i > 1 ? "," : ""), i; printf "\n"
        x = 12345
        for (r = 1; r <= rows; r++) {
            for (i = 1; i <= n; i++) {
                x = (x * 1103515245 + 12345) % 2147483648
                k = int(x / 65536) % 42
                d = sprintf("%02d", x % 28 + 1); m = sprintf("%02d", x % 12 + 1); y = 2000 + x % 25
                if (k < 21) {
                    v = fmt[k % 7 + 1]
                    gsub("%Y", y, v); gsub("%m", m, v); gsub("%d", d, v)
                    if (k >= 7) v = v " 10:20:30"
                    if (k >= 14) v = v "+02:00"
                } else v = other[k - 20]
                printf "%s%s", (i > 1 ? "," : ""), v
            }
            printf "\n"
        }
    }' >"$f"
    local size
    size=$(stat -c %s "$f")
    for mode in $MODES; do
        run "$mode" --threshold 0.9 --format json "$f"
        check_rc 0
        check "rows = $rows, $cols columns" jqt --argjson r "$rows" --argjson n "$cols" \
            '.files[0].rows == $r and (.files[0].columns | length) == $n'
        check "every column text (no kind reaches 0.9)" jqt '[.files[0].columns[].type] | unique == ["text"]'
        check_rss $(($(budget) + 2 * cols))
        report kinds "$cols columns x 42 kinds of value, --threshold 0.9, $(human "$size")"
    done
    rm -f "$f"
}

# ---- 2. a 1 GiB field with no newline ----------------------------------------
case_field() {
    local avail
    avail=$(df -Pk "$D" | awk 'NR == 2 { print $4 }')
    if [ $((avail * 1024)) -lt $((FIELD_BYTES + 512 * 1024 * 1024)) ]; then
        local line
        line="SKIP  field  $((avail / 1024)) MiB free in $D, $(human "$FIELD_BYTES") needed (LIMITS_FIELD_BYTES)"
        echo "$line"
        return
    fi
    local f=$D/field.csv
    local msg="record_too_long: record longer than --max-record (67108864 bytes)"
    # (a) the whole file is one field: line 1
    head -c "$FIELD_BYTES" /dev/zero | tr '\0' x >"$f"
    for mode in $MODES; do
        run "$mode" --format json "$f"
        check_rc 1
        check "stderr names $f:1: $msg" grep -qF "csvinfer: $f:1: $msg" "$ERR"
        check "JSON error record_too_long at line 1, 0 rows" jqt \
            '.files[0] | .errors[0].kind == "record_too_long" and .errors[0].line == 1 and .rows == 0'
        check "bytes = the file size" jqt --argjson b "$FIELD_BYTES" '.files[0].bytes == $b'
        check_rss $(($(budget) + MAX_RECORD_KIB))
        report field "one $(human "$FIELD_BYTES") field, no newline"
    done
    # (a') the same with --max-record 1M: memory follows --max-record
    for mode in $MODES; do
        run "$mode" --format json --max-record 1M "$f"
        check_rc 1
        check "stderr names $f:1: (1048576 bytes)" grep -qF "csvinfer: $f:1: record_too_long: record longer than --max-record (1048576 bytes)" "$ERR"
        check_rss $(($(budget) + MIB))
        report field "same, --max-record 1M"
    done
    rm -f "$f"
    # (b) after a header, as the second field of line 2
    { printf 'id,blob\n1,'; head -c "$FIELD_BYTES" /dev/zero | tr '\0' x; } >"$f"
    for mode in $MODES; do
        run "$mode" --format json "$f"
        check_rc 1
        check "stderr names $f:2: $msg" grep -qF "csvinfer: $f:2: $msg" "$ERR"
        check "JSON error record_too_long at line 2" jqt \
            '.files[0].errors[0] | .kind == "record_too_long" and .line == 2'
        check_rss $(($(budget) + MAX_RECORD_KIB))
        report field "header, then a $(human "$FIELD_BYTES") field (line 2)"
    done
    rm -f "$f"
    # (c) an unterminated quote over 256 MiB of short lines
    { printf 'id,note\n1,"'; yes xxxxxxxxxxxxxxx | head -c $((256 * 1024 * 1024)); } >"$f"
    for mode in $MODES; do
        run "$mode" --format json "$f"
        check_rc 1
        check "stderr names $f:2: $msg" grep -qF "csvinfer: $f:2: $msg" "$ERR"
        check_rss $(($(budget) + MAX_RECORD_KIB))
        report field "open quote over 256 MiB of lines (line 2)"
    done
    rm -f "$f"
}

# ---- 3. 10 million one-byte rows -------------------------------------------
# docs/types.md: a first row that fits the column's type is data ("7" over
# integers: no header); a column of text takes its first row as the header.
case_rows() {
    local f=$D/rows.csv
    yes 7 | head -n "$ROWS" >"$f"
    for mode in $MODES; do
        run "$mode" --format json "$f"
        check_rc 0
        check "rows = $ROWS (no header: 7 is an integer like the rest)" jqt --argjson r "$ROWS" \
            '.files[0] | .rows == $r and .dialect.header == false'
        check "one integer column, min = max = 7, count $ROWS" jqt --argjson r "$ROWS" \
            '.files[0].columns | length == 1 and .[0].type == "integer" and .[0].min == 7 and .[0].max == 7 and .[0].count == $r'
        check_rss "$(budget)"
        report rows "$ROWS rows of '7', $(human "$(stat -c %s "$f")")"
    done
    # the same rows ten times over through a pipe: memory must not follow the stream
    for mode in $MODES; do
        run "$mode" --format json - < <(yes 7 | head -n "$((ROWS * 10))")
        check_rc 0
        check "stdin: rows = $((ROWS * 10)), path -" jqt --argjson r "$((ROWS * 10))" \
            '.files[0] | .rows == $r and .path == "-" and .columns[0].type == "integer"'
        check_rss "$(budget)"
        report rows "$((ROWS * 10)) rows of '7' through a pipe (stdin)"
    done
    yes x | head -n "$ROWS" >"$f"
    for mode in $MODES; do
        run "$mode" --format json "$f"
        check_rc 0
        check "rows = $((ROWS - 1)) (all text: the first row is the header)" jqt --argjson r "$ROWS" \
            '.files[0] | .rows == $r - 1 and .dialect.header == true and .columns[0].name == "x" and .columns[0].type == "text"'
        check_rss "$(budget)"
        report rows "$ROWS rows of 'x' (header x)"
    done
    rm -f "$f"
}

# ---- 4. a directory of 100,000 files ----------------------------------------
case_files() {
    local dir=$D/many
    mkdir -p "$dir"
    awk -v n="$FILES" -v d="$dir" 'BEGIN {
        for (i = 0; i < n; i++) {
            f = sprintf("%s/f%06d.csv", d, i)
            printf "id,name\n%d,n%d\n", i, i > f
            close(f)
        }
    }'
    local last
    last=$(printf 'f%06d.csv' $((FILES - 1)))
    local sub=$((FILES < 10000 ? FILES : 10000)) # f00*.csv, for the growth per file
    for mode in $MODES; do
        run "$mode" --format json "$dir"
        local rss_all=$RSS
        check_rc 0
        check "$FILES results, $FILES rows, no error" jqt --argjson n "$FILES" \
            '.files | length == $n and (map(.rows) | add) == $n and (map(.errors | length) | add) == 0'
        check "sorted: first f000000.csv, last $last" jqt --arg l "$last" \
            '(.files[0].path | endswith("/f000000.csv")) and (.files[-1].path | endswith("/" + $l))'
        check "a file's verdict: id integer = its number, name text" jqt \
            '.files[7].columns | map(.type) == ["integer", "text"] and .[0].min == 7'
        local secs=$SECS fails=("${CHECK_FAILS[@]}")
        if [ "$FILES" -gt "$sub" ]; then # RSS per file, against a run over f00*.csv
            run "$mode" --format json --include 'f00*.csv' "$dir"
            local rss_sub=$RSS
            check "$sub results in the tenth" jqt --argjson n "$sub" '.files | length == $n'
            PER_FILE=$(((rss_all - rss_sub) * 1024 / (FILES - sub)))
            fails+=("${CHECK_FAILS[@]}")
        else
            PER_FILE=0
        fi
        CHECK_FAILS=("${fails[@]}")
        RSS=$rss_all SECS=$secs
        [ "$PER_FILE" -le 3072 ] || CHECK_FAILS+=("RSS grows $PER_FILE bytes per file (bound 3072)")
        check_rss $(($(budget) + 3 * FILES))
        if [ "$FILES" -gt "$sub" ]; then
            report files "$FILES files (RSS +$PER_FILE B/file)"
        else
            report files "$FILES files"
        fi
    done
    rm -rf "$dir"
}

# ---- 5. deep directory trees --------------------------------------------------
case_deep() {
    local root=$D/deep p
    mkdir -p "$root"
    p=$root$(printf '/d%.0s' $(seq "$DEPTH"))
    mkdir -p "$p"
    printf 'a,b\n1,2\n' >"$root/top.csv"
    printf 'a,b\n3,4\n' >"$root$(printf '/d%.0s' $(seq $((DEPTH / 2))))/mid.csv"
    printf 'a,b\n5,6\n' >"$p/leaf.csv"
    for mode in $MODES; do
        run "$mode" --format json "$root"
        check_rc 0
        check "3 files in walk order (d/ sorts before top.csv), leaf at depth $DEPTH" jqt --argjson d "$DEPTH" \
            '.files | length == 3 and (.[0].path | endswith("/leaf.csv") and (split("/") | map(select(. == "d")) | length) == $d) and (.[1].path | endswith("/mid.csv")) and (.[2].path | endswith("/top.csv"))'
        check "each read: 1 row, a and b integers" jqt \
            '.files | all(.rows == 1 and (.columns | map(.type)) == ["integer", "integer"])'
        check_rss "$(budget)"
        report deep "tree $DEPTH levels deep"
    done
    rm -rf "$root"

    # Deeper than PATH_MAX (4096): 2,100 levels of d/ plus the root. The part
    # past PATH_MAX is a walk_failed error; the rest of the tree is read.
    local deeper=2100
    mkdir -p "$root"
    (
        cd "$root" || exit 1
        printf 'a\n1\n' >top.csv
        rel=$(printf 'd/%.0s' $(seq $((deeper / 2)))) # 2,100 bytes: under PATH_MAX
        for half in 1 2; do
            mkdir -p "$rel" && cd "$rel" || exit 1
            printf 'a\n%d\n' "$half" >"half$half.csv" || exit 1
        done
    ) || { echo "FAIL  deep   could not make a tree $deeper levels deep"; FAILED=1; return; }
    for mode in $MODES; do
        run "$mode" --format json "$root"
        check_rc 1
        check "half1.csv (depth $((deeper / 2))) and top.csv read" jqt \
            '[.files[] | select(.rows == 1) | .path | split("/") | last] == ["half1.csv", "top.csv"]'
        check "one walk_failed error naming 'File name too long'" jqt \
            '[.files[].errors[]] | length == 1 and .[0].kind == "walk_failed" and (.[0].message | test("too long"))'
        check_rss "$(budget)"
        report deep "tree $deeper levels deep (past PATH_MAX)"
    done
    rm -rf "$root" 2>/dev/null || (cd "$root" && find . -depth -delete) # paths past PATH_MAX
}

echo "== limits: $CSVINFER, $NCPU cores, data in $T"
case_wide
case_kinds
case_field
case_rows
case_files
case_deep
echo "== limits: $( ((FAILED)) && echo FAILED || echo all passed)"
exit "$FAILED"
