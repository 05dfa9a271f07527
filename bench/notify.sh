#!/usr/bin/env bash
# bench/notify.sh — what a refused NOTIFY costs the server, against an
# ordinary query, and whether queries are still answered during a flood.
#
# A Tandem primary of the small zone notify.test runs on the load
# generator's core. The server under test runs pinned to one core (Tandem:
# one UDP worker, log level info, its default) and serves the generated zone
# bench.test (imported) and notify.test as a secondary of that primary, which
# it transfers before the measurements; with --servers "tandem knot", knotd
# (one UDP worker) is set up the same way and measured in turn. Then,
# tandem-loadgen pinned to the other core, for --duration seconds each:
#  1. idle: the server's CPU time with no traffic (its background work);
#  2. queries from 127.0.0.1 at --rate a second (the generated query list);
#  3. NOTIFYs for notify.test (a zone it is secondary for) from 127.0.0.2,
#     which is no linked peer's: refused;
#  4. NOTIFYs for a zone it does not host, from 127.0.0.2: refused;
#  each with the server's CPU time (utime+stime of /proc/PID/stat, every
#  thread) less the idle share, per answered message; steps 2-4 are run
#  --runs times, interleaved, and the median is reported;
#  5. queries at --flood-query-rate a second from 127.0.0.1, alone and then
#     while 127.0.0.2 floods NOTIFYs as fast as the server answers them
#     (--flood-in-flight outstanding): the fraction of queries answered.
# For Tandem it also reads /metrics (refused NOTIFYs counted, log lines left
# out by the log budget) and counts its log lines about refused NOTIFYs.
# Prints a Markdown report with the exact commands. Loopback only; every
# process it starts is stopped on exit; every wait is bounded.
#
# Usage: bench/notify.sh [--duration S] [--rate N] [--runs N] [--records N]
#                        [--flood-query-rate N] [--flood-in-flight N]
#                        [--servers "tandem knot"] [--no-build] [--keep] [--out FILE]
# Needs curl, jq, taskset, timeout; knotd for the Knot rows.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NO_COLOR=1 # plain server logs, so the script can grep them
DURATION=10
RATE=20000
RUNS=3
RECORDS=100000
FLOOD_QUERY_RATE=2000
FLOOD_IN_FLIGHT=1000
SERVER_CPU=0
LOADGEN_CPU=1
SERVERS="tandem knot"
BUILD=1
KEEP=0
OUT=""
STRANGER=127.0.0.2

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
    cat <<EOF
Options:
  --duration S          seconds of each measurement (default $DURATION)
  --rate N              messages a second in steps 2-4 (default $RATE); 0: as many as the
                        server answers with 200 outstanding
  --runs N              rounds of steps 2-4, interleaved; the median is reported (default $RUNS)
  --records N           records of the generated zone bench.test (default $RECORDS)
  --flood-query-rate N  queries a second during the flood (default $FLOOD_QUERY_RATE)
  --flood-in-flight N   NOTIFYs outstanding in the flood (default $FLOOD_IN_FLIGHT)
  --server-cpu C        core of the server under test (default $SERVER_CPU)
  --loadgen-cpu C       core of the load generator and the primary (default $LOADGEN_CPU)
  --servers LIST        subset of "tandem knot" (default both; knot needs knotd)
  --no-build            use the binaries already built
  --keep                keep the temp dir (logs, results)
  --out FILE            also write the Markdown report to FILE
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) DURATION=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --records) RECORDS=$2; shift 2 ;;
        --flood-query-rate) FLOOD_QUERY_RATE=$2; shift 2 ;;
        --flood-in-flight) FLOOD_IN_FLIGHT=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --loadgen-cpu) LOADGEN_CPU=$2; shift 2 ;;
        --servers) SERVERS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "notify.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for v in DURATION RATE RUNS RECORDS FLOOD_QUERY_RATE FLOOD_IN_FLIGHT SERVER_CPU LOADGEN_CPU; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
        echo "notify.sh: ${v,,} must be a non-negative integer" >&2
        exit 2
    fi
done
for v in DURATION RUNS RECORDS FLOOD_QUERY_RATE FLOOD_IN_FLIGHT; do
    if ((${!v} == 0)); then
        echo "notify.sh: ${v,,} must be positive" >&2
        exit 2
    fi
done
[[ $SERVER_CPU != "$LOADGEN_CPU" ]] || {
    echo "notify.sh: --server-cpu and --loadgen-cpu must differ" >&2
    exit 2
}
for s in $SERVERS; do
    case "$s" in
        tandem | knot) ;;
        *) echo "notify.sh: unknown server $s" >&2; exit 2 ;;
    esac
done

log() { printf '[notify %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
for tool in taskset curl jq timeout; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LG=$TARGET/release/tandem-loadgen
TANDEM=$TARGET/release/tandem
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-notify-bench.XXXXXX")
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
HZ=$(getconf CLK_TCK)
PIDS=()
COMMANDS=()
declare -A PID PORT

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ $KEEP == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# User+system CPU clock ticks of a process so far (every thread, ended ones too).
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# Waits (at most $3 s) for an authoritative SOA answer for zone $2 on port $1.
wait_soa() {
    "$LG" probe --server "127.0.0.1:$1" --name "$2" --type SOA --wait "$3" >/dev/null
}

# ---------------------------------------------------------------- build, data
if [[ $BUILD == 1 ]]; then
    log "building: cargo build --release -p tandem -p tandem-loadgen"
    (cd "$ROOT" && cargo build --release -p tandem -p tandem-loadgen) >"$WORK/build.log" 2>&1 \
        || { tail -n 30 "$WORK/build.log" >&2; die "build failed"; }
fi
[[ -x $LG && -x $TANDEM ]] || die "$LG or $TANDEM missing (build them or drop --no-build)"
read -r load1 _ </proc/loadavg
log "load average $load1 at start"
"$LG" gen-zone --records "$RECORDS" --origin bench.test --out "$WORK/bench.test.zone" \
    --queries-out "$WORK/queries.txt" --query-count 200000
"$LG" gen-zone --records 100 --origin notify.test --out "$WORK/notify.test.zone"

# ---------------------------------------------------------------- tandem
# Starts tandem on data dir $1, log $2, core $3, then flags; sets T_PID,
# T_PORT, T_API and T_CMD (the command, token hidden).
launch_tandem() {
    local data=$1 logf=$2 cpu=$3 i
    shift 3
    mkdir -p "$data"
    local cmd=(taskset -c "$cpu" "$TANDEM" serve --dns-listen 127.0.0.1:0
        --api-listen 127.0.0.1:0 --data-dir "$data" --api-token "$TOKEN" --udp-workers 1 "$@")
    T_CMD="${cmd[*]/$TOKEN/\$TOKEN}"
    T_CMD=${T_CMD/$TANDEM/tandem}
    T_CMD=${T_CMD//$WORK/DIR}
    "${cmd[@]}" >>"$logf" 2>&1 &
    T_PID=$!
    PIDS+=("$T_PID")
    for ((i = 0; i < 1200; i++)); do
        [[ -s $data/listen.json ]] && jq -e . "$data/listen.json" >/dev/null 2>&1 && break
        kill -0 "$T_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    T_PORT=$(jq -r '.dns[0]' "$data/listen.json" | sed 's/.*://')
    T_API=$(jq -r '.api' "$data/listen.json")
}

# Calls the Tandem API at $1: method $2, path $3 (under /client/v4), curl args.
api() {
    local addr=$1 method=$2 path=$3
    shift 3
    curl -sS --fail-with-body --max-time 600 -X "$method" \
        -H "Authorization: Bearer $TOKEN" "$@" "http://$addr/client/v4$path"
}

# POSTs JSON $3 to path $2 of the API at $1 and prints .result.id.
api_create() {
    api "$1" POST "$2" -H 'Content-Type: application/json' -d "$3" | jq -er '.result.id'
}

# A full zone $2 on the Tandem at API $1, imported from $WORK/$2.zone; prints its id.
tandem_full_zone() {
    local acct zid
    acct=$(api "$1" GET /accounts | jq -er '.result[0].id')
    zid=$(api_create "$1" /zones "{\"name\":\"$2\",\"account\":{\"id\":\"$acct\"},\"type\":\"full\"}")
    api "$1" POST "/zones/$zid/dns_records/import?replace=true" -F "file=@$WORK/$2.zone" >/dev/null
    echo "$zid"
}

log "primary: tandem on core $LOADGEN_CPU with notify.test"
launch_tandem "$WORK/primary" "$WORK/primary.log" "$LOADGEN_CPU" --log warn \
    || die "the primary did not start"
P_PORT=$T_PORT P_API=$T_API
COMMANDS+=("$T_CMD   # primary of notify.test")
P_ZID=$(tandem_full_zone "$P_API" notify.test)
P_ACCT=$(api "$P_API" GET /accounts | jq -er '.result[0].id')
P_PEERS=()

# Lets the secondary on port $1 transfer notify.test from the primary, which
# NOTIFYs it.
link_to_primary() {
    P_PEERS+=("$(api_create "$P_API" "/accounts/$P_ACCT/secondary_dns/peers" \
        "{\"name\":\"secondary-$1\",\"ip\":\"127.0.0.1\",\"port\":$1}")")
    local peers
    peers=$(printf '%s\n' "${P_PEERS[@]}" | jq -R . | jq -sc .)
    api "$P_API" "$([[ ${#P_PEERS[@]} == 1 ]] && echo POST || echo PUT)" \
        "/zones/$P_ZID/secondary_dns/outgoing" -H 'Content-Type: application/json' \
        -d "{\"name\":\"notify.test\",\"peers\":$peers}" >/dev/null
    api "$P_API" POST "/zones/$P_ZID/secondary_dns/outgoing/enable" >/dev/null
}

start_tandem() {
    local acct zid peer
    log "tandem: starting on core $SERVER_CPU"
    launch_tandem "$WORK/tandem" "$WORK/tandem.log" "$SERVER_CPU" || {
        log "skipping tandem: it did not start"
        return 1
    }
    COMMANDS+=("$T_CMD   # server under test")
    link_to_primary "$T_PORT"
    tandem_full_zone "$T_API" bench.test >/dev/null
    acct=$(api "$T_API" GET /accounts | jq -er '.result[0].id')
    zid=$(api_create "$T_API" /zones "{\"name\":\"notify.test\",\"account\":{\"id\":\"$acct\"},\"type\":\"secondary\"}")
    peer=$(api_create "$T_API" "/accounts/$acct/secondary_dns/peers" \
        "{\"name\":\"primary\",\"ip\":\"127.0.0.1\",\"port\":$P_PORT}")
    api "$T_API" POST "/zones/$zid/secondary_dns/incoming" -H 'Content-Type: application/json' \
        -d "{\"name\":\"notify.test\",\"peers\":[\"$peer\"]}" >/dev/null
    wait_soa "$T_PORT" bench.test 120 && wait_soa "$T_PORT" notify.test 60 || {
        tail -n 20 "$WORK/tandem.log" >&2
        log "skipping tandem: bench.test or notify.test not served"
        return 1
    }
    PID[tandem]=$T_PID PORT[tandem]=$T_PORT
    TANDEM_API=$T_API
}

start_knot() {
    command -v knotd >/dev/null || {
        log "skipping knot: knotd not installed"
        return 1
    }
    local dir=$WORK/knot port i
    mkdir -p "$dir/run" "$dir/db" "$dir/zones"
    port=$("$LG" free-port)
    cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: notice
database:
    storage: "$dir/db"
template:
  - id: default
    storage: "$dir/zones"
    semantic-checks: off
remote:
  - id: primary
    address: 127.0.0.1@$P_PORT
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    action: notify
zone:
  - domain: bench.test
    file: "$WORK/bench.test.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
  - domain: notify.test
    master: primary
    acl: notify_from_primary
EOF
    log "knot: starting on core $SERVER_CPU"
    taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 &
    PID[knot]=$!
    PIDS+=("${PID[knot]}")
    COMMANDS+=("taskset -c $SERVER_CPU knotd -c DIR/knot/knot.conf   # server under test")
    link_to_primary "$port"
    wait_soa "$port" bench.test 120 && wait_soa "$port" notify.test 60 || {
        tail -n 20 "$dir/log" >&2
        log "skipping knot: bench.test or notify.test not served"
        stop_pid "${PID[knot]}"
        unset 'PID[knot]'
        return 1
    }
    PORT[knot]=$port
}

STARTED=()
for s in $SERVERS; do
    if "start_$s"; then STARTED+=("$s"); fi
done
((${#STARTED[@]} > 0)) || die "no server could be started"

# ---------------------------------------------------------------- measure
# Runs tandem-loadgen against server $1 with the rest as its arguments,
# pinned to the load generator's core; prints its JSON with the server's CPU
# seconds over the run added (server_cpu_s).
measure() {
    local name=$1 c0 c1 out
    shift
    local cmd=(taskset -c "$LOADGEN_CPU" "$LG" --server "127.0.0.1:${PORT[$name]}"
        --duration "$DURATION" "$@")
    c0=$(cpu_ticks "${PID[$name]}")
    out=$(timeout $((DURATION + 60)) "${cmd[@]}")
    c1=$(cpu_ticks "${PID[$name]}")
    jq -c --argjson t $((c1 - c0)) --argjson hz "$HZ" '. + {server_cpu_s: ($t / $hz)}' <<<"$out"
}

# The server's CPU seconds over --duration with no traffic.
idle_cpu() {
    local c0 c1
    c0=$(cpu_ticks "${PID[$1]}")
    sleep "$DURATION"
    c1=$(cpu_ticks "${PID[$1]}")
    awk -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }'
}

# The loadgen arguments and the description of traffic kind $1; sets ARGS and WHAT.
traffic() {
    case $1 in
        queries)
            ARGS=(--queries "$WORK/queries.txt")
            WHAT="queries (bench.test, from 127.0.0.1)" ;;
        notify-secondary)
            ARGS=(--notify notify.test --source "$STRANGER")
            WHAT="NOTIFY for notify.test (a secondary zone) from $STRANGER: refused" ;;
        notify-unknown)
            ARGS=(--notify unknown.test --source "$STRANGER")
            WHAT="NOTIFY for unknown.test (not hosted) from $STRANGER: refused" ;;
    esac
    ARGS+=(--rate "$RATE" --in-flight 200 --timeout 1)
}

# Server CPU µs per answer, less the idle share, of run file $1 of server $2.
us_per_answer() {
    jq -r --argjson idle "${IDLE[$2]}" \
        'if .received > 0 then ((.server_cpu_s - $idle) / .received * 1e6 * 100 | round / 100) else "-" end' "$1"
}

KINDS=(queries notify-secondary notify-unknown)
ROWS=()
FLOOD_ROWS=()
declare -A IDLE
for s in "${STARTED[@]}"; do
    IDLE[$s]=$(idle_cpu "$s")
    log "$s: idle CPU ${IDLE[$s]} s in $DURATION s"
done
for ((round = 1; round <= RUNS; round++)); do
    for kind in "${KINDS[@]}"; do
        traffic "$kind"
        for s in "${STARTED[@]}"; do
            if [[ $s == tandem && $round == 1 ]]; then
                COMMANDS+=("taskset -c $LOADGEN_CPU tandem-loadgen --server 127.0.0.1:PORT --duration $DURATION ${ARGS[*]//$WORK\//}")
            fi
            measure "$s" "${ARGS[@]}" >"$WORK/$s.$kind.$round.json"
            log "$s $kind round $round: $(jq -c '{sent, received, rcodes, server_cpu_s}' "$WORK/$s.$kind.$round.json")"
        done
    done
done
for s in "${STARTED[@]}"; do
    for kind in "${KINDS[@]}"; do
        traffic "$kind"
        each=$(for ((r = 1; r <= RUNS; r++)); do us_per_answer "$WORK/$s.$kind.$r.json" "$s"; done | tr '\n' ' ')
        median=$(tr ' ' '\n' <<<"$each" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        ROWS+=("$(jq -rs --arg s "$s" --arg what "$WHAT" --arg each "${each% }" --arg median "$median" '
            "| \($s) | \($what) | \(map(.sent) | add) | \(map(.received) | add) | \(map(.rcodes | to_entries[] | select(.value > 0)) | group_by(.key) | map("\(.[0].key) \(map(.value) | add)") | join(", ")) | \(map(.server_cpu_s) | add * 100 | round / 100) | **\($median)** | \($each) |"' \
            "$WORK/$s.$kind".*.json)")
    done
done
for s in "${STARTED[@]}"; do
    # Queries alone, then the same queries during a NOTIFY flood.
    qargs=(--queries "$WORK/queries.txt" --rate "$FLOOD_QUERY_RATE" --in-flight 100 --timeout 1 --seed 7)
    alone=$(measure "$s" "${qargs[@]}")
    flood_cmd=(taskset -c "$LOADGEN_CPU" "$LG" --server "127.0.0.1:${PORT[$s]}" --duration "$((DURATION + 2))"
        --notify notify.test --source "$STRANGER" --in-flight "$FLOOD_IN_FLIGHT" --timeout 1 --seed 9)
    if [[ $s == tandem ]]; then
        COMMANDS+=("taskset -c $LOADGEN_CPU tandem-loadgen --server 127.0.0.1:PORT --duration $((DURATION + 2)) --notify notify.test --source $STRANGER --in-flight $FLOOD_IN_FLIGHT --timeout 1 --seed 9   # flood")
        COMMANDS+=("taskset -c $LOADGEN_CPU tandem-loadgen --server 127.0.0.1:PORT --duration $DURATION --queries queries.txt --rate $FLOOD_QUERY_RATE --in-flight 100 --timeout 1 --seed 7   # during the flood, 1 s after it starts")
    fi
    timeout $((DURATION + 60)) "${flood_cmd[@]}" >"$WORK/$s.flood.json" &
    flood_pid=$!
    PIDS+=("$flood_pid")
    sleep 1
    during=$(measure "$s" "${qargs[@]}")
    wait "$flood_pid" || true
    echo "$alone" >"$WORK/$s.alone.json"
    echo "$during" >"$WORK/$s.during.json"
    log "$s flood: $(jq -c '{sent, received, qps, rcodes}' "$WORK/$s.flood.json"); queries during it: $(jq -c '{sent, received, lost, latency_avg_us}' <<<"$during")"
    FLOOD_ROWS+=("$(jq -rn --arg s "$s" --argjson a "$alone" --argjson d "$during" --slurpfile f "$WORK/$s.flood.json" '
        def pct(r): if r.sent > 0 then (r.received / r.sent * 10000 | round / 100) else 0 end;
        "| \($s) | \($f[0].qps) | \($f[0].rcodes | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ")) | \(pct($a))% (\($a.received)/\($a.sent)), \($a.latency_avg_us) µs | \(pct($d))% (\($d.received)/\($d.sent)), \($d.latency_avg_us) µs | \($d.server_cpu_s) |"')")
done

# ---------------------------------------------------------------- report
TANDEM_NOTES=""
if [[ -n ${PID[tandem]:-} ]]; then
    metrics=$(curl -sS --max-time 30 -H "Authorization: Bearer $TOKEN" "http://$TANDEM_API/metrics")
    refused=$(grep -E '^tandem_notify_received_total\{zone="notify.test",result="refused"\}' <<<"$metrics" | awk '{print $2}')
    suppressed=$(grep -E '^tandem_log_lines_suppressed_total\{what="notify_refused"\}' <<<"$metrics" | awk '{print $2}')
    lines=$(grep -c 'NOTIFY refused' "$WORK/tandem.log" || true)
    TANDEM_NOTES="Tandem counted ${refused:-0} refused NOTIFYs for notify.test in \`tandem_notify_received_total\`; its log has $lines lines about refused NOTIFYs (of every kind) and \`tandem_log_lines_suppressed_total{what=\"notify_refused\"}\` is ${suppressed:-0}."
fi

report() {
    local idle
    idle=$(for s in "${STARTED[@]}"; do printf '%s %s s, ' "$s" "${IDLE[$s]}"; done)
    local pace="at $RATE a second"
    [[ $RATE != 0 ]] || pace="as fast as answered, 200 outstanding"
    echo "### Refused NOTIFY against a query ($(date -u +%Y-%m-%d), $RUNS x $DURATION s each $pace)"
    echo
    echo "Server on core $SERVER_CPU, load generator and primary on core $LOADGEN_CPU; load average $load1 at start."
    echo "Server CPU with no traffic over $DURATION s (subtracted): ${idle%, }."
    echo
    echo "| server | traffic | sent | answered | rcodes | server CPU s | server CPU µs per answer (median) | each run |"
    echo "|---|---|---:|---:|---|---:|---:|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "NOTIFY flood from $STRANGER ($FLOOD_IN_FLIGHT outstanding) with $FLOOD_QUERY_RATE queries a second from 127.0.0.1:"
    echo
    echo "| server | NOTIFYs answered a second | NOTIFY rcodes | queries alone: answered, latency | queries during the flood: answered, latency | server CPU s during |"
    echo "|---|---:|---|---|---|---:|"
    printf '%s\n' "${FLOOD_ROWS[@]}"
    echo
    [[ -z $TANDEM_NOTES ]] || { echo "$TANDEM_NOTES"; echo; }
    echo "Commands (PORT: the server's DNS port; DIR: the temp dir):"
    echo
    echo '```'
    printf '%s\n' "${COMMANDS[@]}"
    echo '```'
}
report | tee "$WORK/report.md"
[[ -z $OUT ]] || cp "$WORK/report.md" "$OUT"
