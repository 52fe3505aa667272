#!/usr/bin/env bash
# sqlite-test.sh [-v] [-k] [-n] [CSV|DIR...] — load test of
# `csvinfer --format sql --sql-dialect sqlite` with the sqlite3 shell.
#
# For every file: runs `csvinfer --format sql --sql-dialect sqlite` on it, feeds the output
# (CREATE TABLE, the sqlite3 shell's .import, the UPDATE that turns null spellings into
# NULL) to `sqlite3 -bail` on a fresh temporary database, and checks that sqlite3 exits 0
# with nothing on stderr (.import reports a bad row on stderr and goes on), that
# `SELECT count(*)` equals csvinfer's `rows` (from `--format json`), and, column by
# column, that the NULLs equal csvinfer's `null_count` and every value has the storage
# class its declared type promises (INTEGER: integer, NUMERIC: integer or real, REAL:
# real, TEXT: text): a header imported as a row, a wrong delimiter, nulls loaded as ''
# or booleans loaded as 'true' all fail here.
#
# Files: those named on the command line (a directory: its *.csv *.tsv *.psv *.txt), or by
# default tests/data/*.csv|*.tsv and examples/* — the set scripts/pg-test.sh uses — keeping
# those csvinfer reads without errors (exit 0 of --format json) and says nothing against
# (no `-- warning:`); plus generated files (written into the temp dir) covering every type
# and rule: integers at the int64 limits, decimals, doubles, booleans, dates (day-first
# too), timestamps, timestamptz, time, uuid, leading-zero codes, nulls and null tokens,
# quoted newlines, `;` `|` tab delimiters, CRLF, a header-less file, SQLite keywords and
# case-insensitive duplicates as names.  A NAME.args next to a file (one argument a line,
# as in tests/data) is passed to csvinfer.  Generated files also check declared types and
# some loaded values.  Finally two broken schemas must be rejected: a nullable INTEGER
# column declared NOT NULL, and a decimal column declared INTEGER in a STRICT table.
#
# Output: one line per file, `PASS FILE rows=N`, `FAIL FILE: reason`, `skip FILE: reason`
# or `xfail FILE: reason` (a known limitation of sqlite3's .import, docs/sql-sqlite.md);
# then `N passed, M failed`.  Exit status 1 if anything failed, 2 on a setup problem.
#
#   -v   after a FAIL, print the file, the SQL and sqlite3's messages
#   -k   keep the temp dir
#   -n   no generated files (and no negative checks): only the given or default files
# Environment: CSVINFER (binary, default build/csvinfer).
# Needs: sqlite3 (>= 3.32, for .import --csv --skip) and jq; installed with apt-get
# (Debian) when missing.
set -euo pipefail

# csvinfer gets a private cache and ledger: a test never writes into $HOME.
TMP="$(mktemp -d "${TMPDIR:-/tmp}/sqlite-test.XXXXXX")"
export XDG_CACHE_HOME="$TMP/xdg/cache" XDG_STATE_HOME="$TMP/xdg/state"
mkdir -p "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$TMP/files" "$TMP/work"
unset CSVINFER_LOG

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CSVINFER="${CSVINFER:-$ROOT/build/csvinfer}"
VERBOSE=0
KEEP=0
NOGEN=0

cleanup() {
    local rc=$?
    set +e
    if [ "$KEEP" = 1 ]; then
        echo "sqlite-test: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while [ $# -gt 0 ]; do
    case "$1" in
    -v) VERBOSE=1; shift ;;
    -k) KEEP=1; shift ;;
    -n) NOGEN=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "sqlite-test: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done

die() { echo "sqlite-test: $*" >&2; exit 2; }

# ---------------------------------------------------------------------------------------
# 1. Tools: sqlite3 and jq, installed with apt-get when missing.

missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v jq >/dev/null || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
    echo "sqlite-test: installing ${missing[*]} with apt-get" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
    command -v sqlite3 >/dev/null || die "no sqlite3 after installing it"
    command -v jq >/dev/null || die "no jq after installing it"
fi
# No ~/.sqliterc: nothing of the caller's setup may change a load.
SQLITE=(sqlite3 -batch -init /dev/null)
SQLITE_VERSION="$("${SQLITE[@]}" :memory: 'SELECT sqlite_version()' 2>/dev/null)" ||
    die "sqlite3 does not run"
printf '%s\n' 3.32.0 "$SQLITE_VERSION" | sort -V -C ||
    die "sqlite3 $SQLITE_VERSION is too old: .import --csv --skip needs 3.32"

[ -x "$CSVINFER" ] || die "$CSVINFER not found: build it first (cmake --build build)"
case "$CSVINFER" in */*) CSVINFER="$(realpath -- "$CSVINFER")" ;; esac # cases run in their dirs
probe_out="$(printf 'a\n1\n' | "$CSVINFER" --format sql --sql-dialect sqlite - 2>&1)" ||
    die "this csvinfer has no working --format sql --sql-dialect sqlite: $probe_out"

# ---------------------------------------------------------------------------------------
# 2. The cases.  Parallel arrays, one entry a file.
#   C_LABEL  what the report calls it        C_PATH  the file csvinfer reads
#   C_ARGS   csvinfer arguments, one a line  C_MODE  corpus | load | any | warn | known
#   C_TYPES  generated: "col=ERE;..."  (the declared type in the table must match the ERE)
#   C_CHECK  generated: "SQL => expected" lines; {T} is the table
# Modes: corpus (given/default files): non-zero exit or a warning is a skip.  load: a
# generated file that must load as is: an error or a warning is a FAIL.  any: csvinfer
# may refuse it (warning / error -> skip), but what it lets through must load.  warn:
# csvinfer must say it cannot be loaded as is (no warning is a FAIL).  known: a known
# limitation of sqlite3's .import (docs/sql-sqlite.md): a failure is reported as xfail,
# a pass is a FAIL (the documentation is out of date).
C_LABEL=(); C_PATH=(); C_ARGS=(); C_MODE=(); C_TYPES=(); C_CHECK=()
NCASE=0

push_case() { # label path mode args types checks
    C_LABEL+=("$1"); C_PATH+=("$2"); C_MODE+=("$3"); C_ARGS+=("$4")
    C_TYPES+=("$5"); C_CHECK+=("$6")
    NCASE=$((NCASE + 1))
}

add_file() { # label path: read in place (.import reads it by its absolute path)
    local args="" base="${2%.*}"
    [ -f "$base.args" ] && args="$(cat -- "$base.args")"
    push_case "$1" "$2" corpus "$args" "" ""
}

# gen NAME MODE TYPES CHECKS [csvinfer args...] < content
gen() {
    local name="$1" mode="$2" types="$3" checks="$4"
    shift 4
    local args="" dir
    [ $# -gt 0 ] && args="$(printf '%s\n' "$@")"
    dir="$TMP/files/$(printf '%03d' "$NCASE")"
    mkdir -p "$dir"
    cat >"$dir/$name"
    push_case "gen/$name" "$dir/$name" "$mode" "$args" "$types" "$checks"
}

if [ $# -gt 0 ]; then
    for p in "$@"; do
        if [ -d "$p" ]; then
            while IFS= read -r f; do add_file "$f" "$(realpath -- "$f")"; done < <(
                find "$p" -type f \( -name '*.csv' -o -name '*.tsv' -o -name '*.psv' -o -name '*.txt' \) | LC_ALL=C sort)
        elif [ -f "$p" ]; then
            add_file "$p" "$(realpath -- "$p")"
        else
            die "$p: no such file"
        fi
    done
else
    for f in "$ROOT"/tests/data/*.csv "$ROOT"/tests/data/*.tsv "$ROOT"/examples/*; do
        [ -f "$f" ] || continue
        case "$f" in *.csv|*.tsv|*.psv|*.txt) ;; *) continue ;; esac
        add_file "${f#"$ROOT"/}" "$f"
    done
fi

# --- generated files ---------------------------------------------------------------------
add_generated() {
NINES38=99999999999999999999999999999999999999

# numbers
gen integers.csv load 'sm=INTEGER;i8=INTEGER;zero_one=INTEGER;signed=INTEGER' \
"SELECT min(i8) || ',' || max(i8) FROM {T} => -9223372036854775808,9223372036854775807
SELECT group_concat(signed, ',') FROM (SELECT signed FROM {T} ORDER BY id) => 5,0,0,-7" <<'EOF'
id,sm,i4,i8,zero_one,signed
1,-32768,-2147483648,-9223372036854775808,0,+5
2,32767,2147483647,9223372036854775807,1,-0
3,+5,32768,2147483648,1,+0
4,-0,-32769,-2147483649,0,-7
EOF
# gzip and zstd files: .import "|gzip -dc < '...'" (the name's quote checks the quoting)
for z in gzip zstd; do
gen "it's_$z.csv" load 'n=INTEGER;name=TEXT' \
"SELECT group_concat(name, ',') FROM (SELECT name FROM {T} ORDER BY n) => a,b'c,d" <<'EOF'
n,name
1,a
2,b'c
3,d
EOF
last=$((${#C_PATH[@]} - 1))
"$z" -q "${C_PATH[$last]}" && rm -f "${C_PATH[$last]}"
C_PATH[$last]="${C_PATH[$last]}.$([ "$z" = gzip ] && echo gz || echo zst)"
done
gen decimals.csv load 'amount=NUMERIC;forms=NUMERIC;p38s0=NUMERIC;p37s37=NUMERIC;past_int64=NUMERIC' \
"SELECT amount FROM {T} WHERE id=1 => 12.5
SELECT forms FROM {T} WHERE id=2 => 3
SELECT typeof(p38s0) FROM {T} WHERE id=1 => real
SELECT typeof(p37s37) FROM {T} WHERE id=2 => real
SELECT typeof(past_int64) FROM {T} WHERE id=1 => real
SELECT past_int64 FROM {T} WHERE id=3 => 1" <<EOF
id,amount,forms,p38s0,p37s37,past_int64
1,12.50,.5,$NINES38,0.$(printf '9%.0s' $(seq 37)),9223372036854775808
2,-3.25,3.,-$NINES38,-0.$(printf '1%.0s' $(seq 37)),-9223372036854775809
3,999.99,-.5,0,0,1
EOF
gen decimals_narrow.csv load 'amount=NUMERIC' 'SELECT sum(amount) FROM {T} => 1009.24' <<'EOF'
id,amount
1,12.50
2,-3.25
3,999.99
EOF
gen doubles.csv load 'exp=REAL;special=REAL;extreme=REAL' \
"SELECT exp FROM {T} WHERE id=2 => -0.0025
SELECT special FROM {T} WHERE id=2 => -Inf
SELECT special FROM {T} WHERE id=3 => Inf
SELECT typeof(special) || ':' || special FROM {T} WHERE id=1 => text:NaN
SELECT typeof(extreme) FROM {T} WHERE id=3 => real" <<'EOF'
id,exp,special,extreme
1,1e5,NaN,1.7976931348623157e308
2,-2.5E-3,-inf,-2.2250738585072014e-308
3,.5e1,+Infinity,4.9e-324
4,1E+10,Inf,0e0
EOF
gen booleans.csv load 'b=INTEGER;nb=INTEGER' \
"SELECT group_concat(b, ',') FROM (SELECT b FROM {T} ORDER BY id) => 1,0,1,0,1,0,1,0
SELECT group_concat(coalesce(nb, 'null'), ',') FROM (SELECT nb FROM {T} ORDER BY id) => 1,null,0,null,1,0,null,1" <<'EOF'
id,b,nb
1,true,TRUE
2,false,
3,t,f
4,F,NULL
5,yes,Y
6,NO, n 
7,y,
8,n," yes"
EOF

# date-times: SQLite stores them as TEXT, as written
gen dates_dayfirst.csv load 'd=TEXT;ts=TEXT' \
"SELECT d FROM {T} WHERE id=2 => 01/02/2024
SELECT ts FROM {T} WHERE id=3 => 29/02/2024 23:59:59" <<'EOF'
id,d,ts
1,31/01/2024,31/01/2024 10:30:00
2,01/02/2024,01/02/2024 08:15:00
3,29/02/2024,29/02/2024 23:59:59
EOF
gen dates_dayfirst_flag.csv load 'd=TEXT' 'SELECT d FROM {T} WHERE id=1 => 03/04/2024' --dayfirst <<'EOF'
id,d
1,03/04/2024
2,01/02/2024
EOF
gen dates_iso.csv load 'd=TEXT;slash=TEXT' \
"SELECT count(*) FROM {T} WHERE date(d) = d => 4" <<'EOF'
id,d,slash
1,2024-02-29,2024/02/29
2,1999-12-31,1999/12/31
3,2024-3-5,2024/3/5
4,0001-01-01,0001/01/01
5,9999-12-31,9999/12/31
EOF
gen dates_monthname.csv load 'a=TEXT;b=TEXT' 'SELECT b FROM {T} WHERE id=1 => March 15, 2024' <<'EOF'
id,a,b
1,15 Mar 2024,"March 15, 2024"
2,5 MAY 2024,"May 5, 2024"
EOF
gen timestamps.csv load 'ts=TEXT;t_sep=TEXT;frac=TEXT' \
"SELECT datetime(ts) FROM {T} WHERE id=1 => 2024-01-15 09:30:00" <<'EOF'
id,ts,t_sep,frac
1,2024-01-15 09:30:00,2024-01-15T09:30:00,2024-01-15 09:30:00.123456
2,2024-02-29 23:59:59,2024-02-29T23:59,2024/02/29 23:59:59.5
EOF
gen timestamptz.csv load 'z=TEXT;off=TEXT' \
"SELECT datetime(off) FROM {T} WHERE id=1 => 2024-03-15 05:00:00" <<'EOF'
id,z,off
1,2024-03-15T10:30:00Z,2024-03-15 10:30:00+05:30
2,2024-03-15T10:30:00.123456Z,2024-03-15T10:30:00-08:00
EOF
gen times.csv load 'hm=TEXT;hms=TEXT;frac=TEXT' "SELECT time(hms) FROM {T} WHERE id=2 => 23:59:59" <<'EOF'
id,hm,hms,frac
1,09:30,09:30:00,09:30:00.5
2,23:59,23:59:59,23:59:59.999999
EOF
gen uuids.csv load 'u=TEXT' "SELECT u FROM {T} WHERE id=2 => A987FBC9-4BED-3078-CF07-9141BA07C9F3" <<'EOF'
id,u
1,123e4567-e89b-12d3-a456-426614174000
2,A987FBC9-4BED-3078-CF07-9141BA07C9F3
EOF

# text
gen leading_zeros.csv load 'zip=TEXT;code=TEXT' \
"SELECT zip || '|' || code FROM {T} WHERE id=1 => 00501|007" <<'EOF'
id,zip,code
1,00501,007
2,10001,00
3,02134,0
EOF
gen quoted_newlines.csv load 't=TEXT' \
"SELECT hex(t) FROM {T} WHERE id=2 => 6D756C74690A6C696E65
SELECT t FROM {T} WHERE id=3 => say \"hi\", ok" <<'EOF'
id,t,n
1,plain,1
2,"multi
line",2
3,"say ""hi"", ok",3
EOF
gen unicode.csv load '' "SELECT count(*) FROM {T} WHERE \"naïve\" = 'ça va' => 1" <<'EOF'
id,café,naïve,日本
1,crème brûlée,ça va,東京
2,😀 emoji,x,y
EOF
gen trimmed.csv load 'n=INTEGER;b=INTEGER;x=NUMERIC;f=REAL' \
"SELECT sum(n) FROM {T} => 49
SELECT group_concat(b, ',') FROM (SELECT b FROM {T} ORDER BY id) => 1,0" < <(
    printf 'id,n,b,x,f\n1, 42 , true , 1.5 , 1e5 \n2,\t7\t,false\t,"  10.0",\tinf\n')
gen spaces_only.csv load 'n=TEXT' "SELECT length(n) FROM {T} WHERE id=1 => 3" <<'EOF'
id,n
1,   
2,5
EOF

# nulls
gen nulls.csv load 'n=INTEGER;x=NUMERIC;d=TEXT;t=TEXT;all_null=TEXT' \
"SELECT count(*) FROM {T} WHERE n IS NULL => 4
SELECT count(*) FROM {T} WHERE t IS NULL => 3
SELECT group_concat(n, ',') FROM {T} => 5,6" <<'EOF'
id,n,x,d,t,all_null
1,,1.5,2024-01-01,a,
2,NA,,NULL,null,NA
3,5,N/A,2024-01-03,"",\N
4,\N,2.5,,NA,
5,NULL,3.5,2024-01-05,b,
6,6,\N,2024-01-06,c,
EOF
gen null_quoted_token.csv load 'n=INTEGER' "SELECT count(*) FROM {T} WHERE n IS NULL => 2" <<'EOF'
id,n
1,"NA"
2,5
3,NA
EOF
gen null_token_padded.csv load 'n=INTEGER' "SELECT count(*) FROM {T} WHERE n IS NULL => 2" <<'EOF'
id,n
1, NA 
2,5
3,	NULL
EOF
gen null_custom.csv load 'n=INTEGER;t=TEXT' \
"SELECT count(*) FROM {T} WHERE n IS NULL => 2
SELECT t FROM {T} WHERE id=2 => NA" --null - --null '(none)' <<'EOF'
id,n,t
1,-,-
2,5,NA
3,(none),x
EOF
gen nulls_typed.csv load 'n=INTEGER' "SELECT count(*) FROM {T} WHERE n IS NULL => 2" <<'EOF'
id,n
1,
2,5
3,NA
EOF
gen quoted_empty_text.csv warn '' '' --quoted-empty-is-text <<'EOF'
id,nick,n
1,"",5
2,,6
EOF

# dialects
gen semicolon.csv load 'price=NUMERIC;price_local=TEXT' \
"SELECT product FROM {T} WHERE id=3 => Wasser; still
SELECT price_local FROM {T} WHERE id=1 => 3,50" <<'EOF'
id;product;price;price_local
1;Kaffee;3.50;3,50
2;Tee;2.00;2,00
3;"Wasser; still";0.99;0,99
EOF
gen tab.tsv load 'amount=NUMERIC' "SELECT name FROM {T} WHERE id=2 => a,b" < <(
    printf 'id\tname\tamount\n1\tAnn\t1.5\n2\ta,b\t2.25\n3\t"tab\there"\t3\n')
gen pipe.psv load 'n=INTEGER' "SELECT t FROM {T} WHERE n=2 => x,y" <<'EOF'
n|t
1|a
2|x,y
EOF
gen colon.csv load 'n=INTEGER' "SELECT t FROM {T} WHERE n=2 => b" --delimiter : <<'EOF'
n:t
1:a
2:b
EOF
gen crlf.csv load 'n=INTEGER' \
"SELECT hex(name) FROM {T} WHERE id=2 => 6D756C74690D0A6C696E65
SELECT length(last) FROM {T} WHERE id=1 => 3" < <(
    printf 'id,name,n,last\r\n1,Ann,5,abc\r\n2,"multi\r\nline",6,"xyz"\r\n')
gen no_header.csv load 'column_1=INTEGER;column_3=NUMERIC;column_4=INTEGER' \
"SELECT column_2 FROM {T} WHERE column_1=1 => 2024-01-05
SELECT group_concat(column_4, ',') FROM {T} => 1,0,1" <<'EOF'
1,2024-01-05,19.99,true
2,2024-01-06,5.00,false
3,2024-01-07,120.50,true
EOF
gen no_header_flag.csv load 'column_1=TEXT' "SELECT column_1 FROM {T} WHERE rowid=1 => alpha" --no-header <<'EOF'
alpha,beta
gamma,delta
EOF
gen bom.csv load 'id=INTEGER' "SELECT name FROM {T} WHERE id=1 => Ann" < <(
    printf '\xef\xbb\xbfid,name\n1,Ann\n2,Bob\n')
gen bom_crlf_semicolon.csv load 'id=INTEGER;amount=NUMERIC' "SELECT amount FROM {T} WHERE id=2 => -2.5" < <(
    printf '\xef\xbb\xbfid;amount\r\n1;1.25\r\n2;-2.50\r\n')
gen bom_no_header.csv load 'column_1=INTEGER' "SELECT sum(column_1) FROM {T} => 4" < <(
    printf '\xef\xbb\xbf1,2\n3,4\n')
gen header_quoted_newline.csv load 'id=INTEGER' '' < <(printf 'id,"two\nlines"\n1,2\n3,4\n')
gen single_column.csv load 'v=INTEGER' "SELECT count(*) FROM {T} WHERE v IS NULL => 1" < <(
    printf 'v\n1\n\n2\n')
gen no_final_newline.csv load '' "SELECT t FROM {T} WHERE id=2 => b" < <(printf 'id,t\n1,a\n2,b')
gen header_only.csv load '' '' <<'EOF'
a,b
EOF
gen quote_none.csv load 't=TEXT' "SELECT t FROM {T} WHERE id=1 => 5\" screen" --quote none <<'EOF'
id,t
1,5" screen
2,x
EOF
# what PostgreSQL's COPY rejects, .import reads as csvinfer does
gen cr_in_field.csv load '' "SELECT hex(t) FROM {T} WHERE id=1 => 610D62" < <(printf 'id,t\n1,a\rb\n2,c\n')
gen mixed_line_endings.csv load 'v=INTEGER' "SELECT sum(v) FROM {T} => 12" < <(printf 'id,v\r\n1,2\r\n3,4\n5,6\r\n')
gen end_of_data_marker.csv load '' "SELECT count(*) FROM {T} => 3" < <(printf 'name\nfoo\n\\.\nbar\n')

# names
gen "My File-2024.csv" load 'id=INTEGER' '' <<'EOF'
id,v
1,2
EOF
gen "o'brien \"x\" back\\slash.csv" load 'id=INTEGER' '' <<'EOF'
id,v
1,2
EOF
gen sqlite_stat1.csv load 'id=INTEGER' '' <<'EOF'
id,v
1,2
EOF
gen keywords.csv load 'index=INTEGER;drop=INTEGER;values=INTEGER;select=INTEGER;Order=INTEGER;two words=INTEGER;rowid=INTEGER' \
'SELECT "index" + "values" + "rowid" FROM {T} => 13' <<'EOF'
index,drop,values,select,Order,two words,rowid
1,2,3,4,5,6,9
EOF
gen case_duplicates.csv load 'Id=INTEGER' "SELECT Id FROM {T} => 1" <<'EOF'
Id,id,ID,x
1,2,3,4
EOF
gen quote_in_name.csv load 'a"b=INTEGER' "SELECT \"a\"\"b\" FROM {T} => 1" <<'EOF'
"a""b",it's
1,2
EOF
gen dup_names.csv load '' '' <<'EOF'
id,a,a,,b
1,2,3,4,5
EOF
gen wide_1601_columns.csv load '' '' < <(
    awk 'BEGIN { for (r = 0; r < 2; r++) { for (i = 1; i <= 1601; i++) printf "%s%s", (i > 1 ? "," : ""), (r ? i : "c" i); print "" } }')

# a file cut into many slices (--chunk-size 4K): facts settled only by its last rows
gen many_slices.csv load 'id=INTEGER;amount=NUMERIC;d=TEXT;big=INTEGER' \
"SELECT d FROM {T} WHERE id=40000 => 13/01/2024" --chunk-size 4K < <(
    awk 'BEGIN { print "id,amount,d,big";
        for (i = 1; i <= 40000; i++) {
            amt = (i == 40000) ? "12345678.1234" : sprintf("%d.5", i % 1000);
            d = (i == 40000) ? "13/01/2024" : "01/02/2024";
            big = (i == 40000) ? "5000000000" : i;
            printf "%d,%s,%s,%s\n", i, amt, d, big } }')

# csvinfer must say these cannot be loaded by .import as they are
gen single_quote.csv warn '' '' <<'EOF'
id,name,note
1,'Smith, John',ok
2,Plain,'a, b'
EOF
gen latin1.csv warn '' '' < <(printf 'id,name\n1,caf\xe9\n2,na\xefve\n')
gen trailing_blank.csv warn '' '' < <(printf 'id,v\n1,2\n\n\n')
gen tolerant_threshold.csv warn '' '' --threshold 0.8 <<'EOF'
id,qty
1,10
2,20
3,30
4,40
5,n/a
EOF
# known limitation: .import reads a quote inside an unquoted field as data, csvinfer (and
# PostgreSQL) as the start of a quoted part
gen quote_mid_field.csv known 'n=INTEGER' "SELECT n FROM {T} WHERE id=1 => 123" <<'EOF'
id,n
1,12"3"
2,4
EOF
}
[ "$NOGEN" = 1 ] || add_generated

# ---------------------------------------------------------------------------------------
# 3. Running a case.

PASSED=0
FAILED=0
SKIPPED=0
XFAILED=0

reason_of() { # FILE: its first lines on one line
    tr '\n' ' ' <"$1" | cut -c1-300
}

report_fail() { # label reason
    if [ "${CUR_MODE:-}" = known ]; then
        XFAILED=$((XFAILED + 1))
        echo "xfail $1: $2 (known limitation, docs/sql-sqlite.md)"
        return 0
    fi
    FAILED=$((FAILED + 1))
    echo "FAIL $1: $2"
    if [ "$VERBOSE" = 1 ]; then
        echo "  --- file (first 20 lines, cat -A) ---"
        sed -n '1,20p' -- "$CUR_PATH" | cat -A | cut -c1-200 | sed 's/^/  | /'
        if [ -s "$CUR_SQL" ]; then
            echo "  --- SQL ---"
            sed 's/^/  | /' "$CUR_SQL" | cut -c1-300 | sed -n '1,60p'
        fi
        if [ -s "$CUR_ERR" ]; then
            echo "  --- messages ---"
            sed 's/^/  | /' "$CUR_ERR" | sed -n '1,20p'
        fi
    fi
}

# The sqlite3 shell's quoting of a dot-command argument: "..." with \ escapes.
shell_arg_re() { # the quoted form of $1, as an ERE
    local s="${1//\\/\\\\}"
    s="${s//\"/\\\"}"
    printf '"%s"' "$s" | sed 's/[][\\.*^$+?(){}|/]/\\&/g'
}

q() { # sqlite3 DB SQL: one query, list mode
    "${SQLITE[@]}" -list -noheader -separator '|' "$1" "$2"
}

run_case() {
    local i="$1"
    local label="${C_LABEL[$i]}" path="${C_PATH[$i]}" mode="${C_MODE[$i]}"
    CUR_MODE="$mode"
    local w="$TMP/work/$i"
    mkdir -p "$w"
    CUR_PATH="$path"; CUR_SQL="$w/sql"; CUR_ERR="$w/err"
    : >"$CUR_SQL"; : >"$CUR_ERR"
    local args=()
    [ -n "${C_ARGS[$i]}" ] && mapfile -t args <<<"${C_ARGS[$i]}"
    local dir
    dir="$(dirname -- "$path")"

    # csvinfer's verdict: exit status, rows, each column's type and null_count.
    local rc=0
    (cd "$dir" && timeout 60 "$CSVINFER" --format json "${args[@]}" -- "$path") \
        >"$w/json" 2>"$w/json.err" || rc=$?
    if [ "$rc" -ne 0 ] && ! { [ "$mode" = warn ] && [ "$rc" = 1 ]; }; then
        local why
        why="$(jq -r '[.files[0].errors[]? | "\(.kind) at line \(.line)"] | .[0:3] | join(", ")' "$w/json" 2>/dev/null || true)"
        [ -n "$why" ] || why="$(head -c 200 "$w/json.err" | tr '\n' ' ')"
        if [ "$mode" = load ]; then
            cp "$w/json.err" "$CUR_ERR"
            report_fail "$label" "csvinfer --format json exit $rc: $why"
        else
            SKIPPED=$((SKIPPED + 1))
            echo "skip $label: csvinfer exit $rc ($why)"
        fi
        return 0
    fi
    local rows
    rows="$(jq -r '.files | if length == 1 then .[0].rows else "files=\(length)" end' "$w/json" 2>/dev/null || echo '?')"
    if ! [[ "$rows" =~ ^[0-9]+$ ]]; then
        report_fail "$label" "unexpected --format json output (rows: $rows)"
        return 0
    fi

    # The SQL.
    local json_rc=$rc
    rc=0
    (cd "$dir" && timeout 60 "$CSVINFER" --format sql --sql-dialect sqlite "${args[@]}" -- "$path") \
        >"$CUR_SQL" 2>"$w/sql.err" || rc=$?
    if [ "$rc" -ne "$json_rc" ]; then
        cp "$w/sql.err" "$CUR_ERR"
        report_fail "$label" "csvinfer --format sql exit $rc: $(head -c 200 "$w/sql.err" | tr '\n' ' ')"
        return 0
    fi
    local head_rows
    head_rows="$(sed -n 's/^-- csvinfer: .*: \([0-9][0-9]*\) rows*$/\1/p' "$CUR_SQL" | sed -n 1p)"
    if [ "$head_rows" != "$rows" ]; then
        report_fail "$label" "SQL header says '${head_rows:-nothing}' rows, --format json says $rows"
        return 0
    fi
    local warn
    warn="$(sed -n 's/^-- warning: //p' "$CUR_SQL" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')"
    if [ "$mode" = warn ]; then
        if [ -n "$warn" ]; then
            PASSED=$((PASSED + 1))
            echo "PASS $label: warns ($warn)" | cut -c1-300
        else
            report_fail "$label" "csvinfer says nothing against loading it with .import, but .import cannot load it as is"
        fi
        return 0
    fi
    if [ -n "$warn" ]; then
        if [ "$mode" = load ]; then
            report_fail "$label" "csvinfer warns that it cannot be loaded as is, but it must load: $warn"
        else
            SKIPPED=$((SKIPPED + 1))
            echo "skip $label: $warn" | cut -c1-300
        fi
        return 0
    fi
    local table
    table="$(sed -n 's/^CREATE TABLE \(.*\) ($/\1/p' "$CUR_SQL" | sed -n 1p)"
    if [ -z "$table" ]; then
        if [ "$rows" = 0 ] && [ "$(jq -r '.files[0].columns | length' "$w/json")" = 0 ]; then
            PASSED=$((PASSED + 1)) # a zero-byte file: nothing to create, nothing to load
            echo "PASS $label rows=0 (no columns, no table)"
        else
            report_fail "$label" "no CREATE TABLE line in the SQL"
        fi
        return 0
    fi
    local src
    src="$(realpath -- "$path")"
    case "$path" in *.gz | *.zst) # .import "|gzip -dc < 'path'" (shell-quoted)
        src="|$([ "${path##*.}" = gz ] && echo gzip || echo zstd) -dc < '$(printf '%s' "$src" | sed "s/'/'\\\\''/g")'" ;;
    esac
    if ! grep -qE "^\.import .*$(shell_arg_re "$src") " "$CUR_SQL"; then
        report_fail "$label" "no .import of the file's absolute path $path"
        return 0
    fi

    # Load it into a fresh database.
    local db="$w/db"
    rc=0
    timeout 60 "${SQLITE[@]}" -bail "$db" <"$CUR_SQL" >"$w/out" 2>"$CUR_ERR" || rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$CUR_ERR" ]; then
        report_fail "$label" "sqlite3 exit $rc: $(reason_of "$CUR_ERR")"
        return 0
    fi
    local count
    if ! count="$(q "$db" "SELECT count(*) FROM $table" 2>"$CUR_ERR")"; then
        report_fail "$label" "count failed: $(reason_of "$CUR_ERR")"
        return 0
    fi
    if [ "$count" != "$rows" ]; then
        report_fail "$label" "table has $count rows, csvinfer says rows=$rows"
        return 0
    fi

    # Column by column: NULLs = csvinfer's null_count; storage classes = declared type.
    local problems=()
    local -a ctype cnull dtype dname
    mapfile -t ctype < <(jq -r '.files[0].columns[].type' "$w/json")
    mapfile -t cnull < <(jq -r '.files[0].columns[].null_count' "$w/json")
    local meta
    meta="$(q "$db" "SELECT p.type || '|' || hex(p.name) FROM sqlite_schema s, pragma_table_info(s.name) p WHERE s.type = 'table' ORDER BY p.cid" 2>"$CUR_ERR")" || true
    local k j line hexname esc
    k=0
    while IFS= read -r line; do # names come hex-encoded: any byte survives the trip
        [ -n "$line" ] || continue
        dtype[k]="${line%%|*}"
        hexname="${line#*|}"
        esc=""
        for ((j = 0; j < ${#hexname}; j += 2)); do esc+="\\x${hexname:j:2}"; done
        printf -v "dname[$k]" '%b' "$esc"
        k=$((k + 1))
    done <<<"$meta"
    if [ "$k" -ne "${#ctype[@]}" ]; then
        report_fail "$label" "the table has $k columns, csvinfer found ${#ctype[@]}"
        return 0
    fi
    local checks="$w/checks.sql" ident allowed
    for ((k = 0; k < ${#ctype[@]}; k++)); do
        ident="\"${dname[k]//\"/\"\"}\""
        case "${dtype[k]}" in
        INTEGER) allowed="typeof($ident) = 'integer'" ;;
        NUMERIC) allowed="typeof($ident) IN ('integer', 'real')" ;;
        REAL) allowed="typeof($ident) = 'real'" ;;
        TEXT) allowed="typeof($ident) = 'text'" ;;
        *) problems+=("column ${dname[k]} has declared type '${dtype[k]}'"); continue ;;
        esac
        # SQLite has no NaN: a double column keeps it as text
        [ "${ctype[k]}" = double ] &&
            allowed="$allowed OR lower(trim($ident)) IN ('nan', '+nan', '-nan')"
        printf "SELECT %d, count(*) FILTER (WHERE %s IS NULL), count(*) FILTER (WHERE %s IS NOT NULL AND NOT (%s)), (SELECT typeof(%s) || ' ' || quote(%s) FROM %s WHERE %s IS NOT NULL AND NOT (%s) LIMIT 1) FROM %s;\n" \
            "$k" "$ident" "$ident" "$allowed" "$ident" "$ident" "$table" "$ident" "$allowed" "$table"
    done >"$checks"
    local n nulls bad example
    while IFS='|' read -r n nulls bad example; do
        [ -n "$n" ] || continue
        [ "$nulls" = "${cnull[n]}" ] ||
            problems+=("column ${dname[n]}: $nulls NULLs, csvinfer null_count ${cnull[n]}")
        [ "$bad" = 0 ] ||
            problems+=("column ${dname[n]} (${ctype[n]}, ${dtype[n]}): $bad values of the wrong storage class, e.g. $example")
    done < <("${SQLITE[@]}" -list -noheader -separator '|' "$db" <"$checks" 2>"$CUR_ERR" || true)
    [ -s "$CUR_ERR" ] && problems+=("checks failed: $(reason_of "$CUR_ERR")")

    # Generated files: declared types and some values.
    if [ -n "${C_TYPES[$i]}" ]; then
        local spec col re got
        IFS=';' read -r -a specs <<<"${C_TYPES[$i]}"
        for spec in "${specs[@]}"; do
            col="${spec%%=*}"
            re="${spec#*=}"
            got=""
            for ((k = 0; k < ${#dname[@]}; k++)); do
                [ "${dname[k]}" = "$col" ] && got="${dtype[k]}"
            done
            if [ -z "$got" ]; then
                problems+=("no column '$col'")
            elif ! [[ "$got" =~ ^($re)$ ]]; then
                problems+=("$col is $got, expected $re")
            fi
        done
    fi
    if [ -n "${C_CHECK[$i]}" ]; then
        local query want have
        while IFS= read -r line; do
            [ -n "$line" ] || continue
            query="${line%% => *}"
            want="${line#* => }"
            query="${query//\{T\}/$table}"
            have="$(q "$db" "$query" 2>&1)" || true
            [ "$have" = "$want" ] || problems+=("[$query] gave '$have', expected '$want'")
        done <<<"${C_CHECK[$i]}"
    fi
    if [ ${#problems[@]} -gt 0 ]; then
        local joined
        joined="$(printf '%s; ' "${problems[@]}")"
        report_fail "$label" "loaded $count rows, but ${joined%; }"
        return 0
    fi
    if [ "$mode" = known ]; then
        FAILED=$((FAILED + 1))
        echo "FAIL $label: a known limitation loads now: update docs/sql-sqlite.md and the mode here"
        return 0
    fi
    PASSED=$((PASSED + 1))
    echo "PASS $label rows=$rows"
}

# ---------------------------------------------------------------------------------------
# 4. Negative checks: schemas broken by hand must make the load fail — the harness can
# see a NOT NULL that the data breaks and a type too narrow for the data.

neg_load() { # NAME SQL-FILE: load into a fresh database; exit status of sqlite3, messages in $CUR_ERR
    local rc=0
    rm -f "$TMP/work/neg-$1.db"
    timeout 60 "${SQLITE[@]}" -bail "$TMP/work/neg-$1.db" <"$2" >/dev/null 2>"$CUR_ERR" || rc=$?
    return "$rc"
}

neg_source() { # LABEL: the generated file's path
    local i
    for i in "${!C_LABEL[@]}"; do
        [ "${C_LABEL[$i]}" = "$1" ] && { printf '%s' "${C_PATH[$i]}"; return 0; }
    done
    return 1
}

negative_checks() {
    local w="$TMP/work/negative" src
    mkdir -p "$w"
    CUR_MODE=negative; CUR_ERR="$w/err"

    # (a) a nullable INTEGER column declared NOT NULL: the nulls must be refused.
    src="$(neg_source gen/nulls_typed.csv)"
    CUR_PATH="$src"; CUR_SQL="$w/notnull.sql"
    "$CSVINFER" --format sql --sql-dialect sqlite "$src" >"$w/notnull.orig" 2>"$CUR_ERR" || true
    sed -E 's/^([[:space:]]+"?n"?[[:space:]]+INTEGER),$/\1 NOT NULL,/; s/^([[:space:]]+"?n"?[[:space:]]+INTEGER)$/\1 NOT NULL/' \
        "$w/notnull.orig" >"$CUR_SQL"
    if cmp -s "$w/notnull.orig" "$CUR_SQL"; then
        report_fail "NOT NULL schema" "could not add NOT NULL to column n (no nullable 'n INTEGER' in the SQL)"
    elif neg_load notnull "$CUR_SQL"; then
        report_fail "NOT NULL schema" "the load with n INTEGER NOT NULL succeeded: the harness cannot see nulls loaded as values"
    elif ! grep -q 'NOT NULL constraint failed' "$CUR_ERR"; then
        report_fail "NOT NULL schema" "the load failed, but not on the NOT NULL column: $(reason_of "$CUR_ERR")"
    else
        PASSED=$((PASSED + 1))
        echo "PASS NOT NULL schema rejected as expected"
    fi

    # (b) a STRICT table with the decimal column as INTEGER must refuse 12.50; the same
    # table with REAL (a STRICT table takes no NUMERIC) must load: the type is the cause.
    src="$(neg_source gen/decimals_narrow.csv)"
    CUR_PATH="$src"; CUR_SQL="$w/strict.sql"
    "$CSVINFER" --format sql --sql-dialect sqlite "$src" >"$w/strict.orig" 2>"$CUR_ERR" || true
    sed -E 's/^([[:space:]]+"?amount"?[[:space:]]+)NUMERIC/\1REAL/; s/^\);$/) STRICT;/' \
        "$w/strict.orig" >"$w/strict_real.sql"
    sed -E 's/^([[:space:]]+"?amount"?[[:space:]]+)NUMERIC/\1INTEGER/; s/^\);$/) STRICT;/' \
        "$w/strict.orig" >"$CUR_SQL"
    if ! grep -qE '^[[:space:]]+"?amount"?[[:space:]]+INTEGER' "$CUR_SQL" || ! grep -q '^) STRICT;$' "$CUR_SQL"; then
        report_fail "narrowed STRICT schema" "could not narrow column amount (no 'amount NUMERIC' or no ');' in the SQL)"
    elif ! neg_load strict_real "$w/strict_real.sql" || [ -s "$CUR_ERR" ]; then
        report_fail "narrowed STRICT schema" "the control (amount REAL, STRICT) did not load: $(reason_of "$CUR_ERR")"
    elif neg_load strict "$CUR_SQL"; then
        report_fail "narrowed STRICT schema" "the load with amount INTEGER (STRICT) succeeded: the harness cannot see a too-narrow type"
    elif ! grep -q 'cannot store .* value in INTEGER column' "$CUR_ERR"; then
        report_fail "narrowed STRICT schema" "the load failed, but not on the narrowed column: $(reason_of "$CUR_ERR")"
    else
        PASSED=$((PASSED + 1))
        echo "PASS narrowed STRICT schema rejected as expected"
    fi
}

# ---------------------------------------------------------------------------------------

START=$SECONDS
for i in "${!C_LABEL[@]}"; do
    run_case "$i"
done
[ "$NOGEN" = 1 ] || negative_checks
echo "sqlite-test: sqlite3 $SQLITE_VERSION, $NCASE files ($SKIPPED skipped, $XFAILED known limitations), $((SECONDS - START)) s" >&2
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
