#!/usr/bin/env bash
# ledger-kill.sh — the run ledger under crashes, signals and concurrency
# (issue 5, "Tests"; DESIGN.md §1 "The ledger").
#
#   bash tests/ledger-kill.sh [CSVINFER]     (default: $CSVINFER, else build/csvinfer)
#
# Data: a directory of 200 generated CSV files (four subdirectories of 50;
# 20 files of 1-5 MiB, the rest 1-300 KiB; mixed, numeric and text profiles
# of bench/gen_data.c), and a reference verdict for every file from its own
# `csvinfer --no-cache --no-ledger --format json FILE` run.
#
#   kill     KILL_ITERS (60) runs of `csvinfer --ledger L --cache C DIR`,
#            --ledger-batch 1/8/64 x --threads 1/2, each SIGKILLed after a
#            random delay (0 .. 1.5 s, scaled down to the measured length of a
#            run so that kills land early, midway and late).  All runs append
#            to one ledger (so a torn line left by one kill is met by the next
#            run) and every fourth run starts with an empty cache.  After each
#            kill, the bytes that run appended: every line parses except at
#            most the last (a torn line; also the first may be the empty
#            remainder of the line the previous kill tore), and every
#            file_done event is true: its path is one of the files, its size
#            is the file's size, its rows and schema (name, type, nullable,
#            sql_type per column) are the reference's, and its content digest
#            (if any) is the one an uncached run records; no drift is
#            recorded (nothing changed).
#   signal   SIG_ITERS (16) runs ended by SIGTERM or SIGINT (alternating) at a
#            random moment: a run that wrote its run_start exits 130 and its
#            last event is run_end with "status": "interrupted", "exit": 130;
#            every line of the ledger parses, and its file_done events are
#            true.  A signal that comes after the run ended (exit 0), or
#            before csvinfer set its handlers (killed by it, nothing written),
#            is counted and retried, so at least SIG_ITERS runs are interrupted.
#   concur   CONC_ROUNDS (5) rounds of 4-8 runs started at once on one fresh
#            ledger, over the whole directory or one subdirectory (several
#            runs share a directory): every line is whole and parses, every
#            run has exactly one run_start (its first event) and one run_end
#            (its last, status ok, exit 0), as many file_done events as its
#            directory has files, and every file_done is true.
#
# The checker is first run on a made-up ledger with known faults (a false
# size, rows, type, path, digest; broken lines), which it must all report.
# Prints a summary (iterations, file_done events checked); exits 1 on any
# failure (each is printed), 2 if a tool is missing.  Randomness comes from
# bash's $RANDOM seeded with LEDGER_KILL_SEED (printed, so a failure can be
# replayed).  Everything is written under a temporary directory (TMPDIR),
# removed at exit; XDG_STATE_HOME and XDG_CACHE_HOME point into it.
# About 40 s on 2 cores.
# jq programs are in single quotes on purpose.
# shellcheck disable=SC2016
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-${CSVINFER:-$ROOT/build/csvinfer}}
KILL_ITERS=${KILL_ITERS:-60}
SIG_ITERS=${SIG_ITERS:-16}
CONC_ROUNDS=${CONC_ROUNDS:-5}
SEED=${LEDGER_KILL_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED

[[ -x $BIN ]] || { echo "ledger-kill: no csvinfer binary at $BIN" >&2; exit 2; }
command -v jq >/dev/null || { echo "ledger-kill: jq is needed (apt-get install jq)" >&2; exit 2; }
GEN=$(dirname "$BIN")/gen_data
[[ -x $GEN ]] || GEN="$ROOT/scripts/gen-data"

T=$(mktemp -d "${TMPDIR:-/tmp}/csvi-ledger-kill.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
export XDG_STATE_HOME="$T/state" XDG_CACHE_HOME="$T/cache"
D="$T/data"
FAILS=0
CHECKED=0   # file_done events checked
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# ---- data and references ------------------------------------------------------
mkdir -p "$D"/{a,b,c,d}
for i in $(seq 1 200); do
    sub=$(printf '%s' abcd | cut -c$(( (i - 1) % 4 + 1 )))
    if (( i % 10 == 0 )); then size=$(( (i / 10 % 5) + 1 ))M; else size=$(( i * 37 % 300 + 1 ))K; fi
    case $(( i % 3 )) in 0) prof=mixed ;; 1) prof=numeric ;; *) prof=text ;; esac
    "$GEN" --profile $prof --size "$size" --seed "$i" -o "$D/$sub/f$(printf %03d "$i").csv" \
        || { echo "ledger-kill: cannot generate data with $GEN" >&2; exit 2; }
done
D=$(cd "$D" && pwd -P)   # the ledger records real paths; references are run on them
echo "ledger-kill: data made in ${SECONDS}s"
find "$D" -name '*.csv' | sort > "$T/files"
# One reference per file, from its own run (2 at a time): {path: {size, rows, schema}}.
mkdir "$T/ref"
xargs -P 2 -I{} sh -c 'f=$1; o=$2/ref/$(basename "$f").json
    "$3" --no-cache --no-ledger --format json "$f" > "$o" || echo "reference run failed: $f" >&2' \
    _ {} "$T" "$BIN" < "$T/files"
tr '\n' '\0' < "$T/files" | xargs -0 stat -c $'%n\t%s' \
    | jq -R -n '[inputs | split("\t") | {(.[0]): (.[1] | tonumber)}] | add' > "$T/sizes.json"
# Content digests: from one run over the whole directory, uncached, into a ledger.
"$BIN" --no-cache --threads 1 --ledger "$T/ref.jsonl" "$D" -o /dev/null \
    || { echo "ledger-kill: the reference ledger run failed" >&2; exit 2; }
jq -s '[.[] | select(.event == "file_done") | {(.path): .digest}] | add' "$T/ref.jsonl" > "$T/digests.json"
jq -n --slurpfile size "$T/sizes.json" --slurpfile digest "$T/digests.json" \
    '[inputs | .files[0] | {(.path): {size: $size[0][.path], bytes, rows, digest: $digest[0][.path],
                                      schema: [.columns[] | {name, type, nullable, sql_type}]}}] | add' \
    "$T"/ref/*.json > "$T/ref.json"
nref=$(jq 'length' "$T/ref.json")
echo "ledger-kill: references in ${SECONDS}s"
[[ $nref == 200 ]] || { echo "ledger-kill: $nref references, expected 200" >&2; exit 2; }
jq -e 'all(.[]; .size == .bytes and (.schema | length) > 0)' "$T/ref.json" >/dev/null \
    || fail "a reference run's bytes differ from the file's size, or it has no columns"

# check_events FILE TORN_OK: FILE holds ledger lines.  Prints one line per
# problem, then "checked N" (file_done events checked).  Line 1 may be empty
# (the newline a run writes to end a torn line); with TORN_OK=1 the last line
# may be a torn line that does not parse.
CHECK='
  def cols: [.[] | {name, type, nullable, sql_type}];
  ($ref[0]) as $ref |
  [inputs] as $ls | ($ls | length) as $n |
  [range(0; $n) as $i | $ls[$i] as $l |
    if $l == "" and $i == 0 then empty
    else (try ($l | fromjson) catch null) as $e |
      if ($e | type) != "object" or ($e.event | type) != "string" then
        if $i == $n - 1 and $torn == 1 then empty
        else "line \($i + 1) of \($n) is not a JSON event: \($l[0:120])" end
      elif $e.event == "file_done" then
        $ref[$e.path] as $r |
        if $r == null then "file_done for a path that is not one of the files: \($e.path)"
        elif $e.size != $r.size then "\($e.path): size \($e.size), file has \($r.size)"
        elif $e.rows != $r.rows then "\($e.path): rows \($e.rows), reference \($r.rows)"
        elif $e.digest != null and $e.digest != $r.digest then
          "\($e.path): digest \($e.digest), reference \($r.digest)"
        elif ($e.schema | cols) != $r.schema then
          "\($e.path): schema \($e.schema | cols | tojson) differs from the reference \($r.schema | tojson)"
        else "ok" end
      elif $e.event == "drift" then "drift recorded though no file changed: \($l[0:200])"
      elif $e.event == "file_error" then "file_error on a good file: \($l[0:200])"
      else empty end
    end] as $out |
  ($out[] | select(. != "ok")), "checked \([$out[] | select(. == "ok")] | length)"'

check_events() { # FILE TORN_OK LABEL
    local line
    while IFS= read -r line; do
        case $line in
            "checked "*) CHECKED=$((CHECKED + ${line#checked })) ;;
            *) fail "$3: $line" ;;
        esac
    done < <(jq -R -n -r --slurpfile ref "$T/ref.json" --argjson torn "$2" "$CHECK" "$1" 2>&1)
}

# The checker itself: a made-up ledger of one true file_done, five false ones
# (rows, size, a column's type, a path that is not a file, the digest), each
# followed by a line that is not JSON, the last of them torn (allowed), must
# give exactly ten problems and one event checked.
jq -r 'to_entries[0] | {event: "file_done", path: .key, size: .value.size, rows: .value.rows,
                        schema: .value.schema} as $e |
       ($e, ($e | .rows += 1), ($e | .size += 1), ($e | .schema[0].type = "boolean"),
        ($e | .path += ".gone"), ($e | .digest = "xxh3-128:0")) | (tojson, "{\"event\": \"file_do")' \
    "$T/ref.json" > "$T/selftest.jsonl"
truncate -s -1 "$T/selftest.jsonl"   # the last line torn: no newline
fails_before=$FAILS checked_before=$CHECKED
check_events "$T/selftest.jsonl" 1 "self-test" > "$T/selftest.out"
if (( FAILS - fails_before == 10 && CHECKED - checked_before == 1 )); then
    FAILS=$fails_before CHECKED=$checked_before
else
    cat "$T/selftest.out"
    echo "FAIL: the ledger checker found $((FAILS - fails_before)) problems and" \
         "$((CHECKED - checked_before)) true file_done events in a made-up ledger with 10 and 1"
    FAILS=$((fails_before + 1)) CHECKED=$checked_before
fi

# rand_delay MAX_MS: a random "S.mmm" in 0 .. MAX_MS milliseconds
rand_delay() { local ms=$(( (RANDOM * 32768 + RANDOM) % ($1 + 1) )); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }
now_ms() { date +%s%3N; }

# How long a whole run takes here, for each --ledger-batch, over a cold cache
# and over a warm one (one thread): kill delays are spread over 0 .. 1.3 x
# the length of the kind of run they stop, at most 1.5 s.
run_ms() { # BATCH CACHE: sets RUN_MS to the milliseconds of a whole run
    local t0 st
    t0=$(now_ms)
    "$BIN" --ledger "$T/measure.jsonl" --cache "$2" --threads 1 --ledger-batch "$1" "$D" -o /dev/null
    st=$?
    RUN_MS=$(( $(now_ms) - t0 ))
    (( st == 0 )) || fail "a whole run exited $st"
}
delay_bound() { # MS: 1.3 x MS, within 50 .. 1500
    local m=$(( $1 * 13 / 10 ))
    (( m > 1500 )) && m=1500
    (( m < 50 )) && m=50
    echo $m
}
declare -A BOUND   # [BATCH,cold|warm] -> the longest kill delay, ms
for b in 1 8 64; do
    run_ms $b "$T/measure-cache-$b"; BOUND[$b,cold]=$(delay_bound $RUN_MS)
    run_ms $b "$T/measure-cache-$b"; BOUND[$b,warm]=$(delay_bound $RUN_MS)
    rm -rf "$T/measure-cache-$b"
done
echo "ledger-kill: seed $SEED; 200 files, $(du -sm "$D" | cut -f1) MiB; kill delays up to" \
     "${BOUND[1,cold]}/${BOUND[8,cold]}/${BOUND[64,cold]} ms (batch 1/8/64, cold cache)," \
     "${BOUND[1,warm]}/${BOUND[8,warm]}/${BOUND[64,warm]} ms (warm)"
SECONDS=0

# ---- SIGKILL ----------------------------------------------------------------------
L="$T/kill.jsonl"
: > "$L"
killed=0 finished=0
for ((it = 0; it < KILL_ITERS; it++)); do
    batch=$(( it % 3 == 0 ? 1 : it % 3 == 1 ? 8 : 64 ))
    threads=$(( it / 3 % 2 + 1 ))
    cache="$T/cache-shared" bound=${BOUND[$batch,warm]}
    (( it % 4 == 3 )) && cache="$T/cache-cold-$it" bound=${BOUND[$batch,cold]}
    before=$(stat -c %s "$L")
    delay=$(rand_delay "$bound")
    "$BIN" --ledger "$L" --cache "$cache" --ledger-batch $batch --threads $threads "$D" \
        -o /dev/null 2>"$T/err" &
    pid=$!
    sleep "$delay"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null   # (no "Killed" notice from bash)
    st=$?
    case $st in
        137) killed=$((killed + 1)) ;;
        0) finished=$((finished + 1)) ;;
        *) fail "kill $it: exit status $st: $(head -c 500 "$T/err")" ;;
    esac
    tail -c +$((before + 1)) "$L" > "$T/new"
    check_events "$T/new" 1 "kill $it (batch $batch, threads $threads, ${delay}s)"
    rm -rf "$T/cache-cold-$it"
done
# The whole ledger: a torn line is ended by the next run, so only whole lines
# that do not parse (one per torn batch) and at most a torn last line.
bad=$(jq -R -n '[inputs | select(. != "") | (try fromjson catch null) | select(type != "object")] | length' "$L")
(( bad <= killed )) || fail "the kill ledger has $bad unreadable lines after $killed kills"
echo "kill: $KILL_ITERS runs ($killed killed mid-run, $finished finished first), $bad torn lines in $(wc -l < "$L") lines; ${SECONDS}s"
SECONDS=0

# ---- SIGTERM / SIGINT -------------------------------------------------------------
L="$T/signal.jsonl"
: > "$L"
interrupted=0 late=0 early=0 tries=0
while (( interrupted < SIG_ITERS && tries < SIG_ITERS * 4 )); do
    tries=$((tries + 1))
    sig=$(( tries % 2 ? 15 : 2 ))
    signame=$([[ $sig == 15 ]] && echo TERM || echo INT)
    batch=$(( tries % 3 == 0 ? 1 : tries % 3 == 1 ? 8 : 64 ))
    before=$(stat -c %s "$L")
    delay=$(rand_delay $(( BOUND[$batch,cold] * 7 / 10 )))
    # a cold cache each time, so the run lasts
    "$BIN" --ledger "$L" --cache "$T/cache-sig" --ledger-batch $batch --threads $(( tries / 2 % 2 + 1 )) \
        "$D" -o /dev/null 2>"$T/err" &
    pid=$!
    sleep "$delay"
    kill -$sig $pid 2>/dev/null
    wait $pid 2>/dev/null
    st=$?
    rm -rf "$T/cache-sig"
    tail -c +$((before + 1)) "$L" > "$T/new"
    what="SIG$signame after ${delay}s (try $tries)"
    check_events "$T/new" 0 "$what"
    # this run's events, by its pid's run_start
    run=$(jq -r --argjson pid $pid 'select(.event == "run_start" and .pid == $pid) | .run' "$T/new" 2>/dev/null)
    last=$(jq -c --arg run "$run" 'select(.run == $run)' "$T/new" 2>/dev/null | tail -n 1)
    if [[ -z $run ]]; then
        # the signal came before the handlers were installed: killed by it, nothing written
        if (( st == 128 + sig )); then early=$((early + 1)); else fail "$what: exit $st and no run_start"; fi
    elif (( st == 130 )); then
        interrupted=$((interrupted + 1))
        jq -e '.event == "run_end" and .status == "interrupted" and .exit == 130' <<<"$last" >/dev/null \
            || fail "$what: exit 130 but the run's last event is $last"
    elif (( st == 0 )); then
        late=$((late + 1))
        jq -e '.event == "run_end" and .status == "ok"' <<<"$last" >/dev/null \
            || fail "$what: exit 0 but the run's last event is $last"
    else
        fail "$what: exit status $st (expected 130): $(head -c 500 "$T/err")"
    fi
done
(( interrupted >= SIG_ITERS )) || fail "only $interrupted of $tries signalled runs were interrupted mid-run"
echo "signal: $tries runs signalled: $interrupted interrupted (exit 130), $late had finished, $early before the handlers; ${SECONDS}s"
SECONDS=0

# ---- concurrent runs ------------------------------------------------------------
runs=0
for ((round = 0; round < CONC_ROUNDS; round++)); do
    L="$T/concurrent-$round.jsonl"
    n=$(( 4 + RANDOM % 5 ))
    pids=() dirs=()
    for ((k = 0; k < n; k++)); do
        case $(( RANDOM % 3 )) in
            0) dir=$D ;;                                  # the whole tree
            *) dir=$D/$(printf '%s' abcd | cut -c$(( k % 3 + 1 ))) ;;  # a, b or c: shared
        esac
        "$BIN" --ledger "$L" --cache "$T/cache-conc" --ledger-batch $(( k % 2 ? 1 : 8 )) \
            --ledger-interval $(( RANDOM % 50 )) --threads 1 "$dir" -o /dev/null 2>"$T/err-$k" &
        pids+=($!)
        dirs+=("$dir")
    done
    for ((k = 0; k < n; k++)); do
        wait "${pids[k]}" || fail "concurrent round $round run $k exited $?: $(head -c 300 "$T/err-$k")"
    done
    [[ $(tail -c 1 "$L" | od -An -c | tr -d ' ') == '\n' ]] || fail "round $round: the ledger does not end with a newline"
    check_events "$L" 0 "concurrent round $round"
    for ((k = 0; k < n; k++)); do
        want=$(grep -c "^${dirs[k]}/" "$T/files")
        got=$(jq -c --argjson pid "${pids[k]}" -s '
            (map(select(.event == "run_start" and .pid == $pid)) | map(.run)) as $ids |
            if ($ids | length) != 1 then {error: "\($ids | length) run_start events"} else
              $ids[0] as $id | map(select(.run == $id)) as $ev |
              {first: $ev[0].event, last: $ev[-1].event, status: $ev[-1].status, exit: $ev[-1].exit,
               files: $ev[-1].files, starts: ($ev | map(select(.event == "run_start")) | length),
               ends: ($ev | map(select(.event == "run_end")) | length),
               done: ($ev | map(select(.event == "file_done")) | length)} end' "$L" 2>&1)
        exp="{\"first\":\"run_start\",\"last\":\"run_end\",\"status\":\"ok\",\"exit\":0,\"files\":$want,\"starts\":1,\"ends\":1,\"done\":$want}"
        [[ $got == "$exp" ]] || fail "concurrent round $round run $k (${dirs[k]#"$T"/}): $got, expected $exp"
        runs=$((runs + 1))
    done
    rm -rf "$T/cache-conc"
done
echo "concurrent: $CONC_ROUNDS rounds, $runs runs on shared ledgers; ${SECONDS}s"

echo "ledger-kill: $KILL_ITERS kills, $tries signals, $runs concurrent runs; $CHECKED file_done events checked; $FAILS failures (seed $SEED)"
(( FAILS == 0 ))
