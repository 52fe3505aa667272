#!/usr/bin/env bash
# pg-group-test.sh [-v] [-k] — load test of `csvinfer --group --format sql` (one CREATE
# TABLE per table, a COPY per file into it) against a real PostgreSQL server.
#
# Starts a throwaway PostgreSQL (its own temp dir, Unix socket only, port $PGTEST_PORT,
# default 54331), writes a small lake of files whose headers agree up to added or
# left-out columns (comma, semicolon and tab files, CRLF, quoted newlines, null tokens,
# types that widen across files: integer -> decimal, date -> timestamp, small -> big
# integers; day-first dates settled by one file and ambiguous in another; header-less
# files), and checks:
#   - the grouped SQL loads with ON_ERROR_STOP, and every table holds the rows csvinfer
#     counted for it, with as many NULLs per column as its null_count;
#   - the SQL of `csvinfer merge --group` over two shards' verdicts is the same text;
#   - an ambiguous date file loads day-first because its table is day-first;
#   - negative: the table whose amount column widened across files, created with the
#     first file's narrower type (SMALLINT), must fail to load.
# Exit status 1 if a check failed, 2 on a setup problem.
#   -v  print the SQL and the server's messages on failure;  -k  keep the temp dir
# Environment: CSVINFER (default build/csvinfer), PGTEST_PORT.
# Needs PostgreSQL server binaries and jq (apt-get installs them when missing, as
# scripts/pg-test.sh does).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CSVINFER="${CSVINFER:-$ROOT/build/csvinfer}"
PORT="${PGTEST_PORT:-54331}"
VERBOSE=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    -v) VERBOSE=1; shift ;;
    -k) KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "pg-group-test: unknown argument $1" >&2; exit 2 ;;
    esac
done
die() { echo "pg-group-test: $*" >&2; exit 2; }

# ---- tools and a throwaway server ---------------------------------------------------
PGBIN=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ] && PGBIN="$d"
done
if [ -z "$PGBIN" ] || ! command -v jq >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        postgresql jq >/dev/null
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
        [ -x "$d/initdb" ] && PGBIN="$d"
    done
fi
[ -n "$PGBIN" ] || die "no PostgreSQL server binaries"
[ -x "$CSVINFER" ] || die "$CSVINFER not found: build it first"

if [ "$(id -u)" -eq 0 ]; then
    PGUSER_OS=postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    PGUSER_OS="$(id -un)"
    as_pg() { "$@"; }
fi
TMP="$(mktemp -d /tmp/pggroup.XXXXXX)"
SERVER_UP=0
cleanup() {
    local rc=$?
    set +e
    [ "$SERVER_UP" = 1 ] && (cd / && as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate -w stop) \
        >/dev/null 2>&1
    if [ "$KEEP" = 1 ]; then echo "pg-group-test: kept $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$TMP/lake" "$TMP/xdg"
[ "$(id -u)" -eq 0 ] && chown "$PGUSER_OS:" "$TMP"
(cd / && as_pg "$PGBIN/initdb" -D "$TMP/data" -U postgres --auth=trust -E UTF8 --locale=C \
    --no-sync) >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; die "initdb failed"; }
(cd / && as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$TMP' -p $PORT -c fsync=off" \
    start) >/dev/null 2>&1 || { cat "$TMP/server.log" >&2; die "the server did not start"; }
SERVER_UP=1
psql_run() { "$PGBIN/psql" -X -q -h "$TMP" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
export XDG_CACHE_HOME="$TMP/xdg/cache" XDG_STATE_HOME="$TMP/xdg/state"

# ---- the lake -------------------------------------------------------------------------
L="$TMP/lake"
mkdir -p "$L/sales" "$L/events" "$L/raw"
printf 'id,amount,day\n1,10,2024-01-02\n2,20,2024-01-03\n' > "$L/sales/sales_2024_01.csv"
printf 'id,amount,day\n3,2.75,2024-02-01\n4,NA,2024-02-02\n' > "$L/sales/sales_2024_02.csv"
printf 'id;amount;day;channel\r\n5;40000.5;2024-03-01 10:00:00;"web\r\nshop"\r\n6;;2024-03-02;\r\n' \
    > "$L/sales/sales_2024_03.csv"
printf 'id\tday\n7\t2024-04-01\n' > "$L/sales/sales_2024_04.csv"           # no amount
printf 'ev,at,n\nx,03/04/2024,1\ny,05/06/2024,2\n' > "$L/events/ev_a.csv"     # ambiguous
printf 'ev,at,n,big\nz,13/01/2024,3,9000000000\n' > "$L/events/ev_b.csv"      # day-first
printf '1,a\n2,b\n' > "$L/raw/r1.txt"
printf '3,c\n4,\n' > "$L/raw/r2.txt"
[ "$(id -u)" -eq 0 ] && chown -R "$PGUSER_OS:" "$L"
chmod -R a+rX "$TMP"

fail=0
check() { # NAME CONDITION-RESULT MESSAGE
    if [ "$2" = ok ]; then echo "ok $1"; else echo "FAIL $1: $3"; fail=1; fi
}

# ---- 1. grouped SQL loads; rows and NULLs as counted --------------------------------------
for part in "sales events" "raw"; do
    args=()
    [ "$part" = raw ] && args=(--no-header)
    dirs=()
    for p in $part; do dirs+=("$L/$p"); done
    "$CSVINFER" --no-ledger --group "${args[@]}" --format json "${dirs[@]}" > "$TMP/g.json" || true
    "$CSVINFER" --no-ledger --group "${args[@]}" --format sql "${dirs[@]}" > "$TMP/g.sql" || true
    if ! psql_run -f "$TMP/g.sql" > "$TMP/psql.log" 2>&1; then
        check "load $part" bad "$(cat "$TMP/psql.log")"
        [ "$VERBOSE" = 1 ] && cat "$TMP/g.sql"
        continue
    fi
    check "load $part" ok ""
    ntables=$(jq '.tables | length' "$TMP/g.json")
    for i in $(seq 0 $((ntables - 1))); do
        name=$(jq -r ".tables[$i].name" "$TMP/g.json")
        rows=$(jq ".tables[$i].rows" "$TMP/g.json")
        got=$(psql_run -At -c "SELECT count(*) FROM \"$name\"")
        [ "$got" = "$rows" ] && r=ok || r=bad
        check "table $name rows" $r "$got rows loaded, csvinfer counted $rows"
        for col in $(jq -r ".tables[$i].columns[].name" "$TMP/g.json"); do
            want=$(jq ".tables[$i].columns[] | select(.name == \"$col\") | .null_count" "$TMP/g.json")
            got=$(psql_run -At -c "SELECT count(*) FROM \"$name\" WHERE \"$col\" IS NULL")
            [ "$got" = "$want" ] && r=ok || r=bad
            check "table $name column $col nulls" $r "$got NULLs, null_count $want"
        done
    done
    psql_run -c "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
done

# ---- 2. the ambiguous file is read day-first, as its table -------------------------------
"$CSVINFER" --no-ledger --group --format sql "$L/events" | psql_run >/dev/null 2>&1 || true
got=$(psql_run -At -c "SELECT at FROM ev WHERE ev = 'x'" 2>/dev/null || echo error)
[ "$got" = "2024-04-03" ] && r=ok || r=bad
check "day-first table, ambiguous file" $r "03/04/2024 loaded as $got"
psql_run -c "SET client_min_messages TO warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null

# ---- 3. merge of two shards gives the same SQL --------------------------------------------
"$CSVINFER" --no-ledger --mergeable --format json -o "$TMP/s1.json" \
    "$L/sales/sales_2024_03.csv" "$L/events" || true
"$CSVINFER" --no-ledger --mergeable --format json -o "$TMP/s2.json" \
    "$L/sales/sales_2024_04.csv" "$L/sales/sales_2024_01.csv" "$L/sales/sales_2024_02.csv" || true
"$CSVINFER" --no-ledger --group --format sql "$L/events" "$L/sales" > "$TMP/one.sql" || true
"$CSVINFER" merge --group --format sql "$TMP/s2.json" "$TMP/s1.json" > "$TMP/merged.sql" || true
# the single run's order is its PATH order (events, then sales): so is the walk's by name
cmp -s "$TMP/one.sql" "$TMP/merged.sql" && r=ok || r=bad
check "merge --group --format sql equals one run" $r "$(diff "$TMP/one.sql" "$TMP/merged.sql" | head -20)"

# ---- 4. negative: the first file's type for the widened column must fail -----------------
"$CSVINFER" --no-ledger --group --format sql "$L/sales" |
    sed 's/amount NUMERIC([0-9,]*)/amount SMALLINT/' > "$TMP/narrow.sql" || true
grep -q 'amount SMALLINT' "$TMP/narrow.sql" || die "could not narrow the schema"
if psql_run -f "$TMP/narrow.sql" > "$TMP/psql.log" 2>&1; then
    check "narrowed table rejected" bad "the load succeeded with amount SMALLINT"
else
    check "narrowed table rejected" ok ""
fi

[ "$fail" = 0 ] && echo "pg-group-test: all checks passed" || echo "pg-group-test: FAILED"
exit "$fail"
