#!/usr/bin/env bash
# bench/run.sh — reproducible single-core benchmark of Tandem, Knot and NSD.
#
# Builds tandem and tandem-loadgen (release) and generates one zone and one
# query list with `tandem-loadgen gen-zone`. Then:
#  1. starts each server in a temp dir on a free loopback port, pinned with
#     taskset to one core, with one UDP worker; measures zone load time
#     (process start, or for Tandem the import API call, to the first good
#     authoritative SOA answer) and resident memory after load (VmRSS of the
#     main process; Pss summed over its process tree). Tandem is also
#     restarted on the same data dir to time the load from its embedded store.
#  2. runs tandem-loadgen, pinned to another core, against each server in
#     turn, --runs rounds interleaved (so background noise spreads evenly),
#     and keeps the median qps per server.
#  3. prints a Markdown table, the Tandem/Knot and Tandem/NSD qps ratios and
#     the exact commands.
#  4. zone transfers in: a knotd primary (on the load generator's core)
#     serves the same zone; Tandem, Knot and NSD (on the server core), each
#     fresh and in turn, are told about the zone as a secondary of it, and the
#     time until each serves the primary's serial is measured, with its VmRSS
#     afterwards (--xfr-in-runs rounds, interleaved; median).
#  5. IXFR propagation: Tandem as primary of the imported zone with Tandem,
#     Knot and NSD as its secondaries; one record is added through Tandem's
#     API --ixfr-changes times, and the time from the API answer until each
#     secondary serves the new serial is measured.
# Loopback only; every process it starts is stopped on exit; every wait is
# bounded.
#
# Usage: bench/run.sh [--records N] [--duration S] [--runs N] [--in-flight N]
#                     [--servers "tandem knot nsd"] [--no-build] [--keep] [--out FILE]
#                     [--xfr-only | --no-xfr] [--xfr-in-runs N] [--ixfr-changes N]
# See --help for all options. Needs knotd, nsd, curl, jq, taskset, timeout.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NO_COLOR=1 # plain server logs, so the script can grep them
RECORDS=100000
DURATION=10
RUNS=3
IN_FLIGHT=100
BATCH=64
SOCKETS=1
TIMEOUT=0.5
QUERY_COUNT=200000
SERVER_CPU=0
LOADGEN_CPU=1
SERVERS="tandem knot nsd"
BUILD=1
KEEP=0
OUT=""
LOAD_WAIT=600 # seconds a server may take to load the zone
RUN_QPS=1 # steps 1-3 (load time, memory, qps, AXFR out)
RUN_XFR=1 # steps 4-5 (AXFR in, IXFR propagation)
XFR_IN_RUNS=3
IXFR_CHANGES=5

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
    cat <<EOF
Options:
  --records N       data records in the zone (default $RECORDS; 1000000 for the big run)
  --duration S      seconds of each load run (default $DURATION)
  --runs N          load runs per server, interleaved; the median is reported (default $RUNS)
  --in-flight N     queries outstanding in the load generator (default $IN_FLIGHT)
  --batch N         sendmmsg/recvmmsg batch (default $BATCH)
  --sockets N       load generator sockets (default $SOCKETS)
  --timeout S       seconds before an unanswered query counts as lost (default $TIMEOUT)
  --query-count N   distinct queries cycled through (default $QUERY_COUNT)
  --server-cpu C    core for the servers (default $SERVER_CPU)
  --loadgen-cpu C   core for the load generator (default $LOADGEN_CPU)
  --servers LIST    subset of "tandem knot nsd" (default all)
  --no-build        use the binaries already built
  --keep            keep the temp dir (configs, logs, zone, results)
  --out FILE        also write the Markdown report to FILE
  --xfr-only        only the zone transfer measurements (steps 4-5)
  --no-xfr          skip the zone transfer measurements (steps 4-5)
  --xfr-in-runs N   AXFR-in rounds per secondary, interleaved; median reported (default $XFR_IN_RUNS)
  --ixfr-changes N  one-record changes timed for IXFR propagation (default $IXFR_CHANGES)
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --records) RECORDS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --in-flight) IN_FLIGHT=$2; shift 2 ;;
        --batch) BATCH=$2; shift 2 ;;
        --sockets) SOCKETS=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --query-count) QUERY_COUNT=$2; shift 2 ;;
        --server-cpu) SERVER_CPU=$2; shift 2 ;;
        --loadgen-cpu) LOADGEN_CPU=$2; shift 2 ;;
        --servers) SERVERS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        --out) OUT=$2; shift 2 ;;
        --xfr-only) RUN_QPS=0; RUN_XFR=1; shift ;;
        --no-xfr) RUN_XFR=0; shift ;;
        --xfr-in-runs) XFR_IN_RUNS=$2; shift 2 ;;
        --ixfr-changes) IXFR_CHANGES=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

for v in RECORDS DURATION RUNS IN_FLIGHT BATCH SOCKETS QUERY_COUNT SERVER_CPU LOADGEN_CPU XFR_IN_RUNS IXFR_CHANGES; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
        echo "run.sh: ${v,,} must be a non-negative integer" >&2
        exit 2
    fi
done
for v in DURATION RUNS IN_FLIGHT BATCH SOCKETS QUERY_COUNT XFR_IN_RUNS IXFR_CHANGES; do
    if ((${!v} == 0)); then
        echo "run.sh: ${v,,} must be positive" >&2
        exit 2
    fi
done
if [[ $RUN_QPS == 0 && $RUN_XFR == 0 ]]; then
    echo "run.sh: --xfr-only and --no-xfr leave nothing to measure" >&2
    exit 2
fi
if [[ $SERVER_CPU == "$LOADGEN_CPU" ]]; then
    echo "run.sh: --server-cpu and --loadgen-cpu must differ" >&2
    exit 2
fi
for s in $SERVERS; do
    case "$s" in
        tandem | knot | nsd) ;;
        *) echo "run.sh: unknown server $s" >&2; exit 2 ;;
    esac
done

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

for tool in taskset curl jq timeout pgrep; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install util-linux curl jq coreutils procps)"
done

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LG=$TARGET/release/tandem-loadgen
TANDEM=$TARGET/release/tandem
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tandem-bench.XXXXXX")
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') # Tandem's administrator token
PIDS=()     # every server process still running
COMMANDS=() # exact commands, for the report
declare -A PORT PID LOAD_MS RESTART_MS RESTART_RSS RSS PSS

# Stops a process and its descendants (by pid): TERM, then KILL after 10 s.
stop_tree() {
    local pid=$1 kids k i
    kids=$(pgrep -P "$pid" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for k in $kids; do stop_tree "$k"; done
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Drops a pid from PIDS (the process has ended).
forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# Stops a server started by this script and forgets its pid.
stop_server() {
    stop_tree "$1"
    forget_pid "$1"
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_tree "$pid"; done
    if [[ $KEEP == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Largest VmRSS in a process tree, in KiB.
max_rss_tree_kib() {
    local pid=$1 max r k
    max=$(rss_kib "$pid")
    for k in $(pgrep -P "$pid" 2>/dev/null || true); do
        r=$(max_rss_tree_kib "$k")
        if ((r > max)); then max=$r; fi
    done
    echo "$max"
}

# Pss summed over a process and all its descendants, in KiB.
pss_tree_kib() {
    local pid=$1 total k
    total=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
    for k in $(pgrep -P "$pid" 2>/dev/null || true); do
        total=$((total + $(pss_tree_kib "$k")))
    done
    echo "$total"
}

# User+system CPU clock ticks used so far by a process tree.
cpu_ticks_tree() {
    local pid=$1 total k
    total=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    for k in $(pgrep -P "$pid" 2>/dev/null || true); do
        total=$((total + $(cpu_ticks_tree "$k")))
    done
    echo "$total"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Waits (at most $2 s) until the server on port $1 gives an authoritative SOA answer.
wait_soa() {
    "$LG" probe --server "127.0.0.1:$1" --name bench.test --type SOA --wait "$2" >/dev/null
}

# Sanity check of a few answers before loading a server.
check_answers() {
    local port=$1 rc=0
    "$LG" probe --server "127.0.0.1:$port" --name www0.bench.test --type A --wait 5 >/dev/null || rc=1
    "$LG" probe --server "127.0.0.1:$port" --name txt17.bench.test --type TXT --wait 5 >/dev/null || rc=1
    "$LG" probe --server "127.0.0.1:$port" --name alias18.bench.test --type A --wait 5 >/dev/null || rc=1
    [[ $rc == 0 ]] || log "warning: server on port $port does not answer www0/txt17/alias18 correctly"
}

# Records what a server measured after its load: name, pid, port, load ms.
loaded() {
    local name=$1 pid=$2
    PID[$name]=$pid
    PORT[$name]=$3
    LOAD_MS[$name]=$4
    check_answers "$3"
    RSS[$name]=$(max_rss_tree_kib "$pid")
    PSS[$name]=$(pss_tree_kib "$pid")
    log "$name: zone loaded in $4 ms, VmRSS $(mib "${RSS[$name]}") MiB, tree Pss $(mib "${PSS[$name]}") MiB"
}

# ---------------------------------------------------------------- build
if [[ $BUILD == 1 ]]; then
    log "building: cargo build --release -p tandem -p tandem-loadgen"
    if ! (cd "$ROOT" && cargo build --release -p tandem -p tandem-loadgen) >"$WORK/build.log" 2>&1; then
        tail -n 20 "$WORK/build.log" >&2
        log "building tandem failed (above); building tandem-loadgen alone"
        (cd "$ROOT" && cargo build --release -p tandem-loadgen) >>"$WORK/build.log" 2>&1 \
            || {
                tail -n 40 "$WORK/build.log" >&2
                die "cannot build tandem-loadgen"
            }
        TANDEM_BUILD_FAILED=1
    fi
fi
[[ -x $LG ]] || die "$LG missing (build it or drop --no-build)"

read -r load1 _ </proc/loadavg
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    log "warning: load average is $load1; other work on this machine makes the numbers noisy"
fi

# ---------------------------------------------------------------- data
log "generating zone: $RECORDS records, $QUERY_COUNT queries in $WORK"
t0=$(now_ms)
"$LG" gen-zone --records "$RECORDS" --origin bench.test --out "$WORK/bench.test.zone" \
    --queries-out "$WORK/queries.txt" --query-count "$QUERY_COUNT"
log "zone generated in $(($(now_ms) - t0)) ms ($(du -h "$WORK/bench.test.zone" | cut -f1))"

# ---------------------------------------------------------------- knot
start_knot() {
    command -v knotd >/dev/null || {
        log "skipping knot: knotd not installed"
        return
    }
    local dir=$WORK/knot port pid t0
    mkdir -p "$dir/run" "$dir/db"
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
    storage: "$WORK"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
acl:
  - id: axfr_from_loopback
    address: 127.0.0.1
    action: transfer
zone:
  - domain: bench.test
    file: "bench.test.zone"
    acl: axfr_from_loopback
EOF
    COMMANDS+=("taskset -c $SERVER_CPU knotd -c $dir/knot.conf")
    log "knot: starting on port $port"
    t0=$(now_ms)
    taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf" >"$dir/log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if ! wait_soa "$port" "$LOAD_WAIT"; then
        tail -n 20 "$dir/log" >&2
        log "skipping knot: no SOA answer"
        stop_server "$pid"
        return
    fi
    loaded knot "$pid" "$port" $(($(now_ms) - t0))
}

# ---------------------------------------------------------------- nsd
start_nsd() {
    command -v nsd >/dev/null || {
        log "skipping nsd: nsd not installed"
        return
    }
    local dir=$WORK/nsd port pid t0
    mkdir -p "$dir"
    port=$("$LG" free-port)
    # Response rate limiting is on by default in NSD (200 answers/s per
    # name and source); it would drop and truncate benchmark traffic.
    cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1
    port: $port
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$WORK"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    verbosity: 1
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: bench.test
    zonefile: "bench.test.zone"
    provide-xfr: 127.0.0.1 NOKEY
EOF
    COMMANDS+=("taskset -c $SERVER_CPU nsd -d -c $dir/nsd.conf")
    log "nsd: starting on port $port"
    t0=$(now_ms)
    taskset -c "$SERVER_CPU" nsd -d -c "$dir/nsd.conf" >"$dir/log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if ! wait_soa "$port" "$LOAD_WAIT"; then
        tail -n 20 "$dir/log" >&2
        log "skipping nsd: no SOA answer"
        stop_server "$pid"
        return
    fi
    # NSD forks; the serving process is a descendant, so VmRSS is the
    # largest in the tree.
    loaded nsd "$pid" "$port" $(($(now_ms) - t0))
}

# ---------------------------------------------------------------- tandem
# True if `tandem serve --help` lists flag $1.
tandem_has_flag() {
    [[ -n ${TANDEM_HELP:-} ]] || TANDEM_HELP=$("$TANDEM" serve --help 2>&1 || true)
    grep -qE -- "$1([ =,]|\$)" <<<"$TANDEM_HELP"
}

# Starts tandem on data dir $1 with log $2, pinned to core $3 (default the
# server core), log filter $4 (default warn) and any further flags; sets
# TANDEM_PID, DNS_PORT, API and TANDEM_CMD (the command, token hidden).
launch_tandem() {
    local data=$1 logf=$2 cpu=${3:-$SERVER_CPU} filter=${4:-warn} i extra=()
    shift 2
    shift $(($# < 2 ? $# : 2))
    rm -f "$data/listen.json"
    if tandem_has_flag --udp-workers; then
        extra+=(--udp-workers 1)
    else
        log "warning: tandem has no --udp-workers flag yet; running with its default"
    fi
    # Room for the 1M-record zone file (~46 MB) in the import request.
    if tandem_has_flag --max-import-bytes; then extra+=(--max-import-bytes 268435456); fi
    if tandem_has_flag --log; then extra+=(--log "$filter"); fi
    local cmd=(taskset -c "$cpu" "$TANDEM" serve --dns-listen 127.0.0.1:0
        --api-listen 127.0.0.1:0 --data-dir "$data" --api-token "$TOKEN" "${extra[@]}" "$@")
    TANDEM_CMD="${cmd[*]/$TOKEN/\$TOKEN}"
    TANDEM_CMD=${TANDEM_CMD/$TANDEM/tandem}
    "${cmd[@]}" >>"$logf" 2>&1 &
    TANDEM_PID=$!
    PIDS+=("$TANDEM_PID")
    for ((i = 0; i < 1200; i++)); do
        [[ -s $data/listen.json ]] && jq -e . "$data/listen.json" >/dev/null 2>&1 && break
        kill -0 "$TANDEM_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    [[ -s $data/listen.json ]] || return 1
    DNS_PORT=$(jq -r '.dns[0]' "$data/listen.json" | sed 's/.*://')
    API=$(jq -r '.api' "$data/listen.json")
    [[ $DNS_PORT =~ ^[0-9]+$ && $API == 127.0.0.1:* ]]
}

api() {
    local method=$1 path=$2
    shift 2
    curl -sS --fail-with-body --max-time "$LOAD_WAIT" -X "$method" \
        -H "Authorization: Bearer $TOKEN" "$@" "http://$API$path"
}

# Gives up on tandem: logs why and stops it.
tandem_fail() {
    tail -n 20 "$WORK/tandem/log" >&2 || true
    log "skipping tandem: $*"
    [[ -z ${TANDEM_PID:-} ]] || stop_server "$TANDEM_PID"
}

start_tandem() {
    if [[ ${TANDEM_BUILD_FAILED:-0} == 1 ]]; then
        log "skipping tandem: 'cargo build --release -p tandem' failed (log: $WORK/build.log)"
        return
    fi
    if [[ ! -x $TANDEM ]]; then
        log "skipping tandem: $TANDEM not built"
        return
    fi
    if ! tandem_has_flag --dns-listen; then
        log "skipping tandem: 'tandem serve --dns-listen' is not implemented yet"
        return
    fi
    local dir=$WORK/tandem data t0 load_ms acct zid resp
    data=$dir/data
    mkdir -p "$data"
    log "tandem: starting"
    launch_tandem "$data" "$dir/log" || {
        tandem_fail "it did not write a usable $data/listen.json"
        return
    }
    COMMANDS+=("$TANDEM_CMD")
    log "tandem: dns 127.0.0.1:$DNS_PORT, api $API; importing the zone"
    if ! resp=$(api GET /client/v4/accounts) || ! acct=$(jq -er '.result[0].id' <<<"$resp"); then
        tandem_fail "GET /client/v4/accounts failed: ${resp:-}"
        return
    fi
    if ! resp=$(api POST /client/v4/zones -H 'Content-Type: application/json' \
        -d "{\"name\":\"bench.test\",\"account\":{\"id\":\"$acct\"},\"type\":\"full\"}") \
        || ! zid=$(jq -er '.result.id' <<<"$resp"); then
        tandem_fail "zone creation failed: ${resp:-}"
        return
    fi
    COMMANDS+=("curl -sS -X POST -H \"Authorization: Bearer \$TOKEN\" -F file=@bench.test.zone http://$API/client/v4/zones/$zid/dns_records/import?replace=true")
    t0=$(now_ms)
    if ! resp=$(api POST "/client/v4/zones/$zid/dns_records/import?replace=true" \
        -F "file=@$WORK/bench.test.zone"); then
        tandem_fail "import failed: $(head -c 500 <<<"${resp:-}")"
        return
    fi
    load_ms=$(($(now_ms) - t0))
    wait_soa "$DNS_PORT" 60 || {
        tandem_fail "no SOA answer after the import"
        return
    }
    log "tandem: import call took $load_ms ms (first SOA answer after $(($(now_ms) - t0)) ms)"
    loaded tandem "$TANDEM_PID" "$DNS_PORT" "$load_ms"

    # Restart on the same data dir: time to load from the embedded store.
    stop_server "$TANDEM_PID"
    TANDEM_PID=""
    t0=$(now_ms)
    if launch_tandem "$data" "$dir/log" && COMMANDS+=("$TANDEM_CMD") && wait_soa "$DNS_PORT" "$LOAD_WAIT"; then
        RESTART_MS[tandem]=$(($(now_ms) - t0))
        RESTART_RSS[tandem]=$(rss_kib "$TANDEM_PID")
        PID[tandem]=$TANDEM_PID
        PORT[tandem]=$DNS_PORT
        # Outgoing transfers to 127.0.0.1, for the AXFR measurement.
        local peer
        peer=$(api POST "/client/v4/accounts/$acct/secondary_dns/peers" -H 'Content-Type: application/json' \
            -d '{"name":"bench","ip":"127.0.0.1","port":53}' | jq -r '.result.id')
        api POST "/client/v4/zones/$zid/secondary_dns/outgoing" -H 'Content-Type: application/json' \
            -d "{\"name\":\"bench.test\",\"peers\":[\"$peer\"]}" >/dev/null
        api POST "/client/v4/zones/$zid/secondary_dns/outgoing/enable" >/dev/null
        log "tandem: restart to first SOA answer ${RESTART_MS[tandem]} ms, VmRSS $(mib "${RESTART_RSS[tandem]}") MiB"
    else
        tandem_fail "it did not answer after a restart on the same data dir"
        unset 'PID[tandem]'
    fi
}

STARTED=()
declare -A AXFR_MS=() AXFR_N=() AXFR_RSS=()
if [[ $RUN_QPS == 1 ]]; then
    for s in $SERVERS; do "start_$s"; done

    # ---------------------------------------------------------------- load
    STARTED=()
    for s in $SERVERS; do [[ -z ${PID[$s]:-} ]] || STARTED+=("$s"); done
    ((${#STARTED[@]} > 0)) || die "no server could be started"

    # One load run against server $1, round $2; JSON to $WORK/$1/load.$2.json.
    run_load() {
        local name=$1 round=$2
        local cmd=(taskset -c "$LOADGEN_CPU" "$LG" --server "127.0.0.1:${PORT[$name]}"
            --queries "$WORK/queries.txt" --duration "$DURATION" --in-flight "$IN_FLIGHT"
            --batch "$BATCH" --sockets "$SOCKETS" --timeout "$TIMEOUT")
        local json=$WORK/$name/load.$round.json c0 c1
        ((round > 1)) || COMMANDS+=("${cmd[*]}")
        c0=$(cpu_ticks_tree "${PID[$name]}")
        # In the background so a signal to this script is handled at once.
        timeout $((DURATION + 60)) "${cmd[@]}" >"$json.tmp" &
        local lg=$!
        PIDS+=("$lg")
        wait "$lg"
        forget_pid "$lg"
        c1=$(cpu_ticks_tree "${PID[$name]}")
        # Add the server's CPU use during the run (user+system, all threads and
        # child processes; softirq time is not included).
        jq -c --argjson t $((c1 - c0)) --argjson hz "$(getconf CLK_TCK)" \
            '. + {server_cpu_s: ($t / $hz)}' "$json.tmp" >"$json"
        rm -f "$json.tmp"
        log "$name round $round: $(jq -c '{qps, lost, server_cpu_s, rcodes}' "$json")"
    }

    log "load: ${STARTED[*]}, $RUNS x $DURATION s each, in-flight $IN_FLIGHT"
    for ((round = 1; round <= RUNS; round++)); do
        for s in "${STARTED[@]}"; do run_load "$s" "$round"; done
    done
    # ---------------------------------------------------------------- AXFR out
    # Each server transfers the whole zone once to `tandem-loadgen axfr`, a raw
    # client that counts RRs and checks the closing SOA without decoding (kdig
    # prints every record and is slower than the servers). Then VmRSS again:
    # a transfer out must not leave the server bigger.
    for s in "${STARTED[@]}"; do
        out=$(taskset -c "$LOADGEN_CPU" "$LG" axfr --server "127.0.0.1:${PORT[$s]}" --zone bench.test 2>&1 || true)
        if jq -e .rrs >/dev/null 2>&1 <<<"$out"; then
            AXFR_MS[$s]=$(jq -r '.elapsed_ms | floor' <<<"$out")
            AXFR_N[$s]=$(jq -r .rrs <<<"$out")
        else
            AXFR_MS[$s]=-
            AXFR_N[$s]=-
            log "$s: AXFR failed: $out"
        fi
        AXFR_RSS[$s]=$(max_rss_tree_kib "${PID[$s]}")
        log "$s: AXFR of ${AXFR_N[$s]} RRs in ${AXFR_MS[$s]} ms, VmRSS after $(mib "${AXFR_RSS[$s]}") MiB"
    done
    COMMANDS+=("taskset -c $LOADGEN_CPU $LG axfr --server 127.0.0.1:PORT --zone bench.test")

    for s in "${STARTED[@]}"; do stop_server "${PID[$s]}"; done
fi

# ---------------------------------------------------------------- transfers
# Steps 4-5. Every secondary runs on the server core, every primary on the
# load generator's core; tandem-loadgen probe asks for the SOA serial.
XFR_COMMANDS=()
declare -A XIN_MS=() XIN_RSS=() IX_MS=() IX_TYPE=()
IX_API_MS=()
IX_PRIMARY_MS=()
XFR_DIR=$WORK/xfr
PRIMARY_SERIAL=""

us_now() { echo "${EPOCHREALTIME//[.,]/}"; }

# The serial that the server on port $1 serves for bench.test, or nothing.
serial_of() {
    "$LG" probe --server "127.0.0.1:$1" --name bench.test --type SOA --wait 5 2>/dev/null \
        | jq -r 'select(.ok and .serial != null) | .serial' 2>/dev/null || true
}

# Starts polling the server on port $1 every $2 ms (one UDP SOA query each
# time, from tandem-loadgen probe; dig costs ~30 ms per run here) until it
# serves serial $3 or newer, at most $4 s; the answer goes to file $5. Sets
# POLL_PID. Started before the change it waits for, so the time the probe
# takes to start does not count.
start_poll() {
    "$LG" probe --server "127.0.0.1:$1" --name bench.test --type SOA --min-serial "$3" \
        --interval-ms "$2" --wait "$4" >"$5" 2>/dev/null &
    POLL_PID=$!
}

# Waits for the poll $1 (writing file $2) to end, stopping it early if
# process $3 (optional) ends; prints the ms from $4 (microseconds, as from
# us_now) to the answer with the serial, or fails.
finish_poll() {
    local poll=$1 out=$2 pid=${3:-} t0=$4 ms
    while kill -0 "$poll" 2>/dev/null; do
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            kill "$poll" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    wait "$poll" 2>/dev/null || true
    ms=$(jq -r --argjson t0 "$t0" 'select(.ok and .unix_us != null) | (.unix_us - $t0) / 1000 | round' "$out" 2>/dev/null || true)
    [[ $ms =~ ^-?[0-9]+$ ]] || return 1
    echo "$ms"
}

# Curl to the Tandem API at address $1: method $2, path $3, more curl args.
api_at() {
    local addr=$1 method=$2 path=$3
    shift 3
    curl -sS --fail-with-body --max-time "$LOAD_WAIT" -X "$method" \
        -H "Authorization: Bearer $TOKEN" "$@" "http://$addr/client/v4$path"
}

# POSTs JSON $3 to path $2 of the API at $1 and prints .result.id.
api_create() {
    local resp
    if ! { resp=$(api_at "$1" POST "$2" -H 'Content-Type: application/json' -d "$3") \
        && jq -er '.result.id' <<<"$resp"; }; then
        log "POST $2 $3 failed: ${resp:-}"
        return 1
    fi
}

# Warnings and errors of a Tandem log, for the report.
tandem_log_problems() {
    grep -E ' (WARN|ERROR) ' "$1" 2>/dev/null | head -n 5 || true
}

# Knot configuration for a secondary: dir $1, port $2, primary port $3.
# Zone files and journal as Knot's defaults (zone file written right after
# a transfer); one worker of each kind, like the load measurement.
knot_secondary_conf() {
    cat <<EOF
server:
    rundir: "$1/run"
    listen: 127.0.0.1@$2
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "$1/db"
template:
  - id: default
    storage: "$1/zones"
remote:
  - id: primary
    address: 127.0.0.1@$3
acl:
  - id: notify_from_primary
    address: 127.0.0.1
    action: notify
EOF
}

# NSD configuration for a secondary: dir $1, port $2, then the zone options
# ($3, one per line) of the pattern "secondary".
nsd_secondary_conf() {
    cat <<EOF
server:
    ip-address: 127.0.0.1
    port: $2
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$1"
    database: ""
    zonelistfile: "$1/zone.list"
    xfrdfile: "$1/xfrd.state"
    xfrdir: "$1"
    pidfile: "$1/nsd.pid"
    verbosity: 2
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: yes
    control-interface: $1/nsd.sock
pattern:
    name: secondary
    zonefile: "%s.zone"
$3
EOF
}

# Starts a process in the background with its output to log $1; sets BG_PID.
spawn() {
    local logf=$1
    shift
    "$@" >"$logf" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# Waits (at most $2 s) until command $3... succeeds while process $1 lives.
wait_ready() {
    local pid=$1 limit=$2 i
    shift 2
    for ((i = 0; i < limit * 20; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# The knotd primary of step 4, serving the generated zone file; sets
# XPRIMARY_PORT and XPRIMARY_PID.
start_xfr_primary() {
    local dir=$XFR_DIR/primary
    mkdir -p "$dir/run" "$dir/db"
    XPRIMARY_PORT=$("$LG" free-port)
    cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$XPRIMARY_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "$dir/db"
template:
  - id: default
    storage: "$WORK"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
acl:
  - id: transfer_to_loopback
    address: 127.0.0.1
    action: transfer
zone:
  - domain: bench.test
    file: "bench.test.zone"
    acl: transfer_to_loopback
EOF
    XFR_COMMANDS+=("taskset -c $LOADGEN_CPU knotd -c $dir/knot.conf   # primary of the AXFR-in measurement")
    spawn "$dir/log" taskset -c "$LOADGEN_CPU" knotd -c "$dir/knot.conf"
    XPRIMARY_PID=$BG_PID
    if ! wait_soa "$XPRIMARY_PORT" "$LOAD_WAIT"; then
        tail -n 20 "$dir/log" >&2
        stop_server "$XPRIMARY_PID"
        return 1
    fi
    PRIMARY_SERIAL=$(serial_of "$XPRIMARY_PORT")
    log "axfr-in: knotd primary on port $XPRIMARY_PORT serves serial $PRIMARY_SERIAL"
}

# Records an AXFR-in result: server $1, round $2, ms $3, pid $4, port $5.
xin_done() {
    local s=$1 r=$2 ms=$3 pid=$4 port=$5
    XIN_MS[$s]="${XIN_MS[$s]:-}${XIN_MS[$s]:+ }$ms"
    XIN_RSS[$s]="${XIN_RSS[$s]:-}${XIN_RSS[$s]:+ }$(max_rss_tree_kib "$pid")"
    check_answers "$port"
    log "axfr-in $s round $r: serial $PRIMARY_SERIAL served after $ms ms, VmRSS $(mib "$(max_rss_tree_kib "$pid")") MiB"
}

# Tandem as secondary, fresh data dir: time from the POST of the incoming
# configuration to the primary's serial in answers.
xin_tandem() {
    local r=$1
    local dir=$XFR_DIR/tandem-in.$r acct zid peer t0 ms
    mkdir -p "$dir/data"
    launch_tandem "$dir/data" "$dir/log" "$SERVER_CPU" info --min-refresh-seconds 1 || {
        log "axfr-in tandem round $r: it did not start"
        tail -n 20 "$dir/log" >&2
        [[ -z ${TANDEM_PID:-} ]] || stop_server "$TANDEM_PID"
        return 1
    }
    ((r > 1)) || XFR_COMMANDS+=("$TANDEM_CMD   # secondary")
    if ! { acct=$(api_at "$API" GET /accounts | jq -er '.result[0].id') \
        && zid=$(api_create "$API" /zones "{\"name\":\"bench.test\",\"account\":{\"id\":\"$acct\"},\"type\":\"secondary\"}") \
        && peer=$(api_create "$API" "/accounts/$acct/secondary_dns/peers" \
            "{\"name\":\"primary\",\"ip\":\"127.0.0.1\",\"port\":$XPRIMARY_PORT}"); }; then
        stop_server "$TANDEM_PID"
        return 1
    fi
    if ((r == 1)); then
        XFR_COMMANDS+=("curl -X POST -H \"Authorization: Bearer \$TOKEN\" -d '{\"name\":\"bench.test\",\"account\":{\"id\":\"ACCOUNT\"},\"type\":\"secondary\"}' http://API/client/v4/zones")
        XFR_COMMANDS+=("curl -X POST -H \"Authorization: Bearer \$TOKEN\" -d '{\"name\":\"primary\",\"ip\":\"127.0.0.1\",\"port\":$XPRIMARY_PORT}' http://API/client/v4/accounts/ACCOUNT/secondary_dns/peers")
        XFR_COMMANDS+=("curl -X POST -H \"Authorization: Bearer \$TOKEN\" -d '{\"name\":\"bench.test\",\"peers\":[\"PEER\"]}' http://API/client/v4/zones/ZONE/secondary_dns/incoming   # timer starts here")
    fi
    start_poll "$DNS_PORT" 50 "$PRIMARY_SERIAL" "$LOAD_WAIT" "$dir/poll.json"
    sleep 0.1
    t0=$(us_now)
    api_at "$API" POST "/zones/$zid/secondary_dns/incoming" -H 'Content-Type: application/json' \
        -d "{\"name\":\"bench.test\",\"peers\":[\"$peer\"]}" >/dev/null || {
        kill "$POLL_PID" 2>/dev/null || true
        stop_server "$TANDEM_PID"
        return 1
    }
    if ms=$(finish_poll "$POLL_PID" "$dir/poll.json" "$TANDEM_PID" "$t0"); then
        xin_done tandem "$r" "$ms" "$TANDEM_PID" "$DNS_PORT"
        api_at "$API" GET "/zones/$zid/secondary_dns/incoming" | jq -c '.result | {state, soa_serial, peer_status}' \
            >"$dir/incoming.json" || true
    else
        log "axfr-in tandem round $r: no serial $PRIMARY_SERIAL within $LOAD_WAIT s"
        tail -n 20 "$dir/log" >&2
    fi
    stop_server "$TANDEM_PID"
}

# Knot as secondary, fresh: knotd runs from a configuration database
# without the zone; the zone is added with knotc conf-set and the timer
# starts at conf-commit (Knot's "tell it about the zone").
xin_knot() {
    local r=$1
    local dir=$XFR_DIR/knot-in.$r port pid t0 ms sock
    mkdir -p "$dir/run" "$dir/db" "$dir/zones"
    port=$("$LG" free-port)
    sock=$dir/run/knot.sock
    knot_secondary_conf "$dir" "$port" "$XPRIMARY_PORT" >"$dir/knot.conf"
    knotc -C "$dir/confdb" conf-import "$dir/knot.conf" >"$dir/log" 2>&1 || {
        log "axfr-in knot round $r: knotc conf-import failed: $(cat "$dir/log")"
        return 1
    }
    spawn "$dir/log" taskset -c "$SERVER_CPU" knotd -C "$dir/confdb"
    pid=$BG_PID
    if ! wait_ready "$pid" 30 knotc -s "$sock" status; then
        log "axfr-in knot round $r: knotd did not start"
        tail -n 20 "$dir/log" >&2
        stop_server "$pid"
        return 1
    fi
    if ((r == 1)); then
        XFR_COMMANDS+=("knotc -C \$WORK/xfr/knot-in.1/confdb conf-import \$WORK/xfr/knot-in.1/knot.conf"
            "taskset -c $SERVER_CPU knotd -C \$WORK/xfr/knot-in.1/confdb   # secondary"
            "knotc -s SOCK conf-begin; knotc -s SOCK conf-set 'zone[bench.test]'; knotc -s SOCK conf-set 'zone[bench.test].master' primary; knotc -s SOCK conf-set 'zone[bench.test].acl' notify_from_primary"
            "knotc -s SOCK conf-commit   # timer starts here")
    fi
    if ! { knotc -s "$sock" conf-begin && knotc -s "$sock" conf-set 'zone[bench.test]' \
        && knotc -s "$sock" conf-set 'zone[bench.test].master' primary \
        && knotc -s "$sock" conf-set 'zone[bench.test].acl' notify_from_primary; } >>"$dir/knotc.log" 2>&1; then
        log "axfr-in knot round $r: knotc conf-set failed: $(cat "$dir/knotc.log")"
        stop_server "$pid"
        return 1
    fi
    start_poll "$port" 50 "$PRIMARY_SERIAL" "$LOAD_WAIT" "$dir/poll.json"
    sleep 0.1
    t0=$(us_now)
    knotc -s "$sock" conf-commit >>"$dir/knotc.log" 2>&1 || {
        log "axfr-in knot round $r: knotc conf-commit failed: $(cat "$dir/knotc.log")"
        kill "$POLL_PID" 2>/dev/null || true
        stop_server "$pid"
        return 1
    }
    if ms=$(finish_poll "$POLL_PID" "$dir/poll.json" "$pid" "$t0"); then
        xin_done knot "$r" "$ms" "$pid" "$port"
    else
        log "axfr-in knot round $r: no serial $PRIMARY_SERIAL within $LOAD_WAIT s"
        tail -n 20 "$dir/log" >&2
    fi
    stop_server "$pid"
}

# NSD as secondary, fresh: nsd runs without zones; the zone is added with
# nsd-control addzone (pattern with request-xfr: AXFR) and the timer starts
# just before it.
xin_nsd() {
    local r=$1
    local dir=$XFR_DIR/nsd-in.$r port pid t0 ms
    mkdir -p "$dir"
    port=$("$LG" free-port)
    nsd_secondary_conf "$dir" "$port" "    request-xfr: AXFR 127.0.0.1@$XPRIMARY_PORT NOKEY
    allow-notify: 127.0.0.1 NOKEY" >"$dir/nsd.conf"
    spawn "$dir/log" taskset -c "$SERVER_CPU" nsd -d -c "$dir/nsd.conf"
    pid=$BG_PID
    if ! wait_ready "$pid" 30 nsd-control -c "$dir/nsd.conf" status; then
        log "axfr-in nsd round $r: nsd did not start"
        tail -n 20 "$dir/log" >&2
        stop_server "$pid"
        return 1
    fi
    if ((r == 1)); then
        XFR_COMMANDS+=("taskset -c $SERVER_CPU nsd -d -c \$WORK/xfr/nsd-in.1/nsd.conf   # secondary"
            "nsd-control -c \$WORK/xfr/nsd-in.1/nsd.conf addzone bench.test secondary   # timer starts here")
    fi
    start_poll "$port" 50 "$PRIMARY_SERIAL" "$LOAD_WAIT" "$dir/poll.json"
    sleep 0.1
    t0=$(us_now)
    nsd-control -c "$dir/nsd.conf" addzone bench.test secondary >"$dir/control.log" 2>&1 || {
        log "axfr-in nsd round $r: nsd-control addzone failed: $(cat "$dir/control.log")"
        kill "$POLL_PID" 2>/dev/null || true
        stop_server "$pid"
        return 1
    }
    if ms=$(finish_poll "$POLL_PID" "$dir/poll.json" "$pid" "$t0"); then
        xin_done nsd "$r" "$ms" "$pid" "$port"
    else
        log "axfr-in nsd round $r: no serial $PRIMARY_SERIAL within $LOAD_WAIT s"
        tail -n 20 "$dir/log" >&2
    fi
    stop_server "$pid"
}

# Which of $SERVERS can take part in the transfer measurements.
xfr_servers() {
    local s
    for s in $SERVERS; do
        case $s in
            tandem)
                if [[ ${TANDEM_BUILD_FAILED:-0} == 1 || ! -x $TANDEM ]]; then
                    log "transfers: skipping tandem: not built"
                elif ! tandem_has_flag --min-refresh-seconds; then
                    log "transfers: skipping tandem: no --min-refresh-seconds flag"
                else
                    echo tandem
                fi
                ;;
            knot)
                if command -v knotd >/dev/null && command -v knotc >/dev/null; then echo knot; else
                    log "transfers: skipping knot: knotd/knotc not installed"
                fi
                ;;
            nsd)
                if command -v nsd >/dev/null && command -v nsd-control >/dev/null; then echo nsd; else
                    log "transfers: skipping nsd: nsd/nsd-control not installed"
                fi
                ;;
        esac
    done
}

measure_axfr_in() {
    local r s
    if ! command -v knotd >/dev/null; then
        log "skipping AXFR in: knotd (the primary) not installed"
        return
    fi
    mkdir -p "$XFR_DIR"
    start_xfr_primary || {
        log "skipping AXFR in: the knotd primary did not start"
        return
    }
    log "axfr-in: ${XSERVERS[*]}, $XFR_IN_RUNS round(s), $RECORDS records"
    XFR_COMMANDS+=("tandem-loadgen probe --server 127.0.0.1:PORT --name bench.test --type SOA --min-serial $PRIMARY_SERIAL --interval-ms 50 --wait $LOAD_WAIT   # until the secondary serves the serial")
    for ((r = 1; r <= XFR_IN_RUNS; r++)); do
        for s in "${XSERVERS[@]}"; do "xin_$s" "$r" || true; done
    done
    stop_server "$XPRIMARY_PID"
}

# ---- IXFR propagation
# Starts the Tandem primary of step 5 with the imported zone; sets IP_API,
# IP_PORT, IP_PID, IP_ZID, IP_ACCT.
start_ixfr_primary() {
    local dir=$XFR_DIR/ixfr/tandem-primary
    mkdir -p "$dir/data"
    launch_tandem "$dir/data" "$dir/log" "$LOADGEN_CPU" info || {
        tail -n 20 "$dir/log" >&2
        return 1
    }
    XFR_COMMANDS+=("$TANDEM_CMD   # IXFR primary")
    IP_PID=$TANDEM_PID IP_API=$API IP_PORT=$DNS_PORT
    IP_ACCT=$(api_at "$IP_API" GET /accounts | jq -er '.result[0].id') \
        && IP_ZID=$(api_create "$IP_API" /zones "{\"name\":\"bench.test\",\"account\":{\"id\":\"$IP_ACCT\"},\"type\":\"full\"}") \
        && api_at "$IP_API" POST "/zones/$IP_ZID/dns_records/import?replace=true" \
            -F "file=@$WORK/bench.test.zone" >/dev/null \
        && wait_soa "$IP_PORT" 60
}

# Links secondary $1 at port $2 (ixfr_enable) to the primary's outgoing list.
declare -A IX_PEER=()
ixfr_peer() {
    IX_PEER[$1]=$(api_create "$IP_API" "/accounts/$IP_ACCT/secondary_dns/peers" \
        "{\"name\":\"$1\",\"ip\":\"127.0.0.1\",\"port\":$2,\"ixfr_enable\":true}")
}

# Tandem secondary of the IXFR primary; sets IS_PID, IS_API, IS_PORT.
start_ixfr_tandem() {
    local dir=$XFR_DIR/ixfr/tandem
    mkdir -p "$dir/data"
    launch_tandem "$dir/data" "$dir/log" "$SERVER_CPU" info --min-refresh-seconds 1 || {
        tail -n 20 "$dir/log" >&2
        return 1
    }
    XFR_COMMANDS+=("$TANDEM_CMD   # IXFR secondary")
    IS_PID=$TANDEM_PID IS_API=$API IS_PORT=$DNS_PORT
}

configure_ixfr_tandem() {
    local acct zid peer
    acct=$(api_at "$IS_API" GET /accounts | jq -er '.result[0].id') \
        && zid=$(api_create "$IS_API" /zones "{\"name\":\"bench.test\",\"account\":{\"id\":\"$acct\"},\"type\":\"secondary\"}") \
        && peer=$(api_create "$IS_API" "/accounts/$acct/secondary_dns/peers" \
            "{\"name\":\"primary\",\"ip\":\"127.0.0.1\",\"port\":$IP_PORT,\"ixfr_enable\":true}") \
        && api_at "$IS_API" POST "/zones/$zid/secondary_dns/incoming" -H 'Content-Type: application/json' \
            -d "{\"name\":\"bench.test\",\"peers\":[\"$peer\"]}" >/dev/null \
        && IS_ZID=$zid
}

start_ixfr_knot() {
    local dir=$XFR_DIR/ixfr/knot
    mkdir -p "$dir/run" "$dir/db" "$dir/zones"
    knot_secondary_conf "$dir" "$1" "$IP_PORT" >"$dir/knot.conf"
    cat >>"$dir/knot.conf" <<EOF
zone:
  - domain: bench.test
    master: primary
    acl: notify_from_primary
EOF
    XFR_COMMANDS+=("taskset -c $SERVER_CPU knotd -c $dir/knot.conf   # IXFR secondary")
    spawn "$dir/log" taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf"
    IK_PID=$BG_PID
}

start_ixfr_nsd() {
    local dir=$XFR_DIR/ixfr/nsd
    mkdir -p "$dir"
    nsd_secondary_conf "$dir" "$1" "    request-xfr: 127.0.0.1@$IP_PORT NOKEY
    allow-notify: 127.0.0.1 NOKEY" >"$dir/nsd.conf"
    cat >>"$dir/nsd.conf" <<EOF
zone:
    name: bench.test
    include-pattern: secondary
EOF
    XFR_COMMANDS+=("taskset -c $SERVER_CPU nsd -d -c $dir/nsd.conf   # IXFR secondary")
    spawn "$dir/log" taskset -c "$SERVER_CPU" nsd -d -c "$dir/nsd.conf"
    IN_PID=$BG_PID
}

measure_ixfr() {
    local s i t0 t1 ms serial want resp pending primary_ms
    local -A port=() pid=()
    [[ " ${XSERVERS[*]} " == *" tandem "* ]] || {
        log "skipping IXFR propagation: it needs Tandem as the primary"
        return
    }
    mkdir -p "$XFR_DIR/ixfr"
    start_ixfr_primary || {
        log "skipping IXFR propagation: the Tandem primary did not start or import"
        [[ -z ${IP_PID:-} ]] || stop_server "$IP_PID"
        return
    }
    serial=$(serial_of "$IP_PORT")
    log "ixfr: Tandem primary on port $IP_PORT, serial $serial"
    # Every secondary's port is known before the primary links it.
    for s in "${XSERVERS[@]}"; do
        case $s in
            tandem)
                start_ixfr_tandem || {
                    log "ixfr: tandem secondary did not start"
                    continue
                }
                port[tandem]=$IS_PORT pid[tandem]=$IS_PID
                ;;
            knot | nsd) port[$s]=$("$LG" free-port) ;;
        esac
        ixfr_peer "$s" "${port[$s]}" || unset "port[$s]"
    done
    local peers
    peers=$(for s in "${!IX_PEER[@]}"; do echo "${IX_PEER[$s]}"; done | jq -R . | jq -sc .)
    if ! { api_at "$IP_API" POST "/zones/$IP_ZID/secondary_dns/outgoing" -H 'Content-Type: application/json' \
        -d "{\"name\":\"bench.test\",\"peers\":$peers}" >/dev/null \
        && api_at "$IP_API" POST "/zones/$IP_ZID/secondary_dns/outgoing/enable" >/dev/null; }; then
        log "skipping IXFR propagation: outgoing configuration failed"
        for s in "${!pid[@]}"; do stop_server "${pid[$s]}"; done
        stop_server "$IP_PID"
        return
    fi
    XFR_COMMANDS+=("curl -X POST ... -d '{\"name\":\"bench.test\",\"peers\":[PEERS]}' http://PRIMARY_API/client/v4/zones/ZONE/secondary_dns/outgoing; curl -X POST ... .../secondary_dns/outgoing/enable")
    for s in "${XSERVERS[@]}"; do
        [[ -n ${port[$s]:-} ]] || continue
        case $s in
            tandem) configure_ixfr_tandem || unset "port[tandem]" ;;
            knot) start_ixfr_knot "${port[knot]}" && pid[knot]=$IK_PID ;;
            nsd) start_ixfr_nsd "${port[nsd]}" && pid[nsd]=$IN_PID ;;
        esac
    done
    for s in "${!port[@]}"; do
        t0=$(us_now)
        start_poll "${port[$s]}" 50 "$serial" "$LOAD_WAIT" "$XFR_DIR/ixfr/$s.0"
        if ms=$(finish_poll "$POLL_PID" "$XFR_DIR/ixfr/$s.0" "${pid[$s]:-}" "$t0"); then
            log "ixfr: $s has serial $serial"
        else
            log "ixfr: $s never served serial $serial; left out"
            tail -n 20 "$XFR_DIR/ixfr/$s/log" >&2 || true
            unset "port[$s]"
        fi
    done
    XFR_COMMANDS+=("curl -X POST -H \"Authorization: Bearer \$TOKEN\" -d '{\"type\":\"A\",\"name\":\"ixfr-N.bench.test\",\"content\":\"192.0.2.N\",\"ttl\":300}' http://PRIMARY_API/client/v4/zones/ZONE/dns_records   # timer starts at its answer"
        "tandem-loadgen probe --server 127.0.0.1:PORT --name bench.test --type SOA --min-serial NEW --interval-ms 2 --wait 30   # per secondary, in parallel")
    for ((i = 1; i <= IXFR_CHANGES; i++)); do
        # More than Tandem's --min-soa-check-interval-ms (1 s) since the last
        # change, so each change is a fresh NOTIFY-caused check everywhere.
        sleep 1.5
        want=$((serial + 1))
        # Poll every secondary (and the primary) in parallel, from before
        # the change.
        declare -A poll=()
        for s in "${!port[@]}"; do
            start_poll "${port[$s]}" 2 "$want" 30 "$XFR_DIR/ixfr/$s.$i"
            poll[$s]=$POLL_PID
        done
        start_poll "$IP_PORT" 2 "$want" 30 "$XFR_DIR/ixfr/primary.$i"
        poll[primary]=$POLL_PID
        sleep 0.1
        t0=$(us_now)
        resp=$(api_at "$IP_API" POST "/zones/$IP_ZID/dns_records" -H 'Content-Type: application/json' \
            -d "{\"type\":\"A\",\"name\":\"ixfr-$i.bench.test\",\"content\":\"192.0.2.$i\",\"ttl\":300}") || {
            log "ixfr change $i: the API refused it: $resp"
            for s in "${!poll[@]}"; do kill "${poll[$s]}" 2>/dev/null || true; done
            break
        }
        t1=$(us_now)
        IX_API_MS+=("$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.0f", d / 1000 }')")
        primary_ms=$(finish_poll "${poll[primary]}" "$XFR_DIR/ixfr/primary.$i" "" "$t1") || primary_ms=timeout
        IX_PRIMARY_MS+=("$primary_ms")
        pending=""
        for s in "${!port[@]}"; do
            ms=$(finish_poll "${poll[$s]}" "$XFR_DIR/ixfr/$s.$i" "" "$t1") || ms=timeout
            IX_MS[$s]="${IX_MS[$s]:-}${IX_MS[$s]:+ }$ms"
            pending+=" $s ${ms} ms,"
        done
        serial=$(serial_of "$IP_PORT")
        log "ixfr change $i (serial $serial): API call ${IX_API_MS[-1]} ms; primary serves it after $primary_ms ms;${pending%,}"
    done
    # How each secondary got the changes.
    [[ -z ${port[tandem]:-} ]] || IX_TYPE[tandem]=$(api_at "$IS_API" GET "/zones/$IS_ZID/secondary_dns/incoming" \
        | jq -r '.result.peer_status[0].last_transfer_type // "?"')
    [[ -z ${port[knot]:-} ]] \
        || IX_TYPE[knot]="$(grep -c 'IXFR, incoming.*finished' "$XFR_DIR/ixfr/knot/log" || true) IXFR, $(grep -c 'AXFR, incoming.*finished' "$XFR_DIR/ixfr/knot/log" || true) AXFR (log)"
    [[ -z ${port[nsd]:-} ]] || IX_TYPE[nsd]="updates of $(grep -o 'received update to serial [0-9]* .* of [0-9]* bytes' "$XFR_DIR/ixfr/nsd/log" \
        | tail -n "$IXFR_CHANGES" | awk '{print $(NF - 1)}' | paste -sd' ' -) bytes (log)"
    IX_OUT="$(grep -c 'transfer out.*kind="IXFR"' "$XFR_DIR/ixfr/tandem-primary/log" || true) IXFR and $(grep -c 'transfer out.*kind="AXFR"' "$XFR_DIR/ixfr/tandem-primary/log" || true) AXFR"
    for s in "${!pid[@]}"; do stop_server "${pid[$s]}"; done
    stop_server "$IP_PID"
}

# Median of whitespace-separated numbers ("timeout" counts as highest).
median() { tr ' ' '\n' | sed 's/timeout/999999999/' | sort -n | awk '{a[NR] = $1} END { if (NR) print (a[int((NR + 1) / 2)] == 999999999 ? "timeout" : a[int((NR + 1) / 2)]) }'; }
maxof() { tr ' ' '\n' | sed 's/timeout/999999999/' | sort -n | tail -n 1 | sed 's/999999999/timeout/'; }

xfr_report() {
    local s how
    echo
    echo "### AXFR in ($RECORDS records; knotd primary on core $LOADGEN_CPU, each secondary fresh on core $SERVER_CPU; $XFR_IN_RUNS round(s), interleaved)"
    echo
    if ((${#XIN_MS[@]} == 0)); then
        echo "Not measured (see the log)."
        echo
    else
        echo "Time from telling the secondary about the zone to the first answer (an SOA query every 50 ms) that shows the primary's serial $PRIMARY_SERIAL."
        echo
        echo "| secondary | ms (median) | ms of each run | VmRSS after MiB (median) | told by |"
        echo "|---|---:|---|---:|---|"
        for s in "${XSERVERS[@]}"; do
            [[ -n ${XIN_MS[$s]:-} ]] || continue
            case $s in
                tandem) how="API: POST .../secondary_dns/incoming (zone and peer created before)" ;;
                knot) how="knotc conf-commit (zone added with conf-set before)" ;;
                nsd) how="nsd-control addzone (pattern with request-xfr: AXFR)" ;;
            esac
            echo "| $s | $(median <<<"${XIN_MS[$s]}") | ${XIN_MS[$s]} | $(mib "$(median <<<"${XIN_RSS[$s]}")") | $how |"
        done
        echo
        if [[ -n ${XIN_MS[tandem]:-} && -n ${XIN_MS[knot]:-} ]]; then
            awk -v t="$(median <<<"${XIN_MS[tandem]}")" -v k="$(median <<<"${XIN_MS[knot]}")" \
                'BEGIN { printf "Tandem/Knot AXFR-in time ratio: %.2f (below 1 is faster)\n\n", t / k }'
        fi
    fi
    echo "### IXFR propagation (one added A record; Tandem primary on core $LOADGEN_CPU, secondaries on core $SERVER_CPU; $IXFR_CHANGES changes)"
    echo
    if ((${#IX_MS[@]} == 0)); then
        echo "Not measured (see the log)."
        echo
    else
        echo "Time from the answer of Tandem's POST .../dns_records to the first answer of each secondary (an SOA query every 2 ms) that shows the new serial. Tandem sends the NOTIFY of a change at once when no round went out in the last 100 ms; changes closer together share one round."
        echo
        echo "| secondary | ms (median) | ms (max) | ms of each change | transfers |"
        echo "|---|---:|---:|---|---|"
        for s in "${XSERVERS[@]}"; do
            [[ -n ${IX_MS[$s]:-} ]] || continue
            echo "| $s | $(median <<<"${IX_MS[$s]}") | $(maxof <<<"${IX_MS[$s]}") | ${IX_MS[$s]} | ${IX_TYPE[$s]:-} |"
        done
        echo
        echo "Tandem's API call (POST dns_records) took ${IX_API_MS[*]} ms; the primary itself served the new serial ${IX_PRIMARY_MS[*]} ms after the API answer. The primary served ${IX_OUT:-?} transfers out in all (the first of each secondary is an AXFR)."
        echo
    fi
    echo "Transfer commands:"
    echo
    echo '```'
    for c in "${XFR_COMMANDS[@]}"; do echo "${c//$WORK/\$WORK}"; done
    echo '```'
    local f
    for f in "$XFR_DIR"/tandem-in.*/log "$XFR_DIR"/ixfr/tandem-primary/log "$XFR_DIR"/ixfr/tandem/log; do
        [[ -f $f ]] || continue
        if [[ -n $(tandem_log_problems "$f") ]]; then
            echo
            echo "Warnings in Tandem's log ${f//$WORK/\$WORK}:"
            echo
            echo '```'
            tandem_log_problems "$f"
            echo '```'
        fi
    done
}

if [[ $RUN_XFR == 1 ]]; then
    mapfile -t XSERVERS < <(xfr_servers)
    if ((${#XSERVERS[@]} == 0)); then
        log "skipping transfers: none of $SERVERS can take part"
    else
        measure_axfr_in
        measure_ixfr
    fi
fi

# ---------------------------------------------------------------- report
declare -A QPS PER_CPU
# Prints the path of the median-qps run of server $1.
median_json() {
    local f
    for f in "$WORK/$1"/load.*.json; do echo "$(jq -r .qps "$f") $f"; done \
        | sort -n | awk -v m=$(((RUNS + 1) / 2)) 'NR == m {print $2}'
}

qps_table() {
    echo "| server | qps (median) | qps of each run | server CPU % | answers per server CPU-s (all runs) | lost | NOERROR | NXDOMAIN | other rcodes | avg latency µs | zone load ms | restart load ms | VmRSS MiB | tree Pss MiB | VmRSS after restart MiB |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in "${STARTED[@]}"; do
        json=$(median_json "$s")
        QPS[$s]=$(jq -r .qps "$json")
        runs=$(for f in "$WORK/$s"/load.*.json; do jq -r .qps "$f"; done | paste -sd' ' -)
        # Responses per CPU-second of the server over all runs: less
        # sensitive than qps to other work competing for the server's core.
        per_cpu=$(jq -s '(map(.received) | add) as $r | (map(.server_cpu_s) | add) as $c
            | if $c > 0 then ($r / $c | round) else "-" end' "$WORK/$s"/load.*.json)
        PER_CPU[$s]=$per_cpu
        rrss="-"
        [[ -z ${RESTART_RSS[$s]:-} ]] || rrss=$(mib "${RESTART_RSS[$s]}")
        jq -r --arg n "$s" --arg l "${LOAD_MS[$s]}" --arg r "${RESTART_MS[$s]:--}" --arg runs "$runs" --arg per_cpu "$per_cpu" \
            --arg rss "$(mib "${RSS[$s]}")" --arg pss "$(mib "${PSS[$s]}")" --arg rrss "$rrss" \
            '"| \($n) | \(.qps) | \($runs) | \(100 * .server_cpu_s / .duration | round) | \($per_cpu) | \(.lost) | \(.rcodes.NOERROR // 0) | \(.rcodes.NXDOMAIN // 0) | \(([.rcodes | to_entries[] | select(.key != "NOERROR" and .key != "NXDOMAIN") | .value] | add) // 0) | \(.latency_avg_us) | \($l) | \($r) | \($rss) | \($pss) | \($rrss) |"' \
            "$json"
    done
    echo
    for other in knot nsd; do
        if [[ -n ${QPS[tandem]:-} && -n ${QPS[$other]:-} ]]; then
            awk -v t="${QPS[tandem]}" -v o="${QPS[$other]}" -v tc="${PER_CPU[tandem]}" \
                -v oc="${PER_CPU[$other]}" -v n="$other" 'BEGIN {
                    name = (n == "knot" ? "Knot" : "NSD")
                    printf "Tandem/%s qps ratio: %.2f", name, (o > 0 ? t / o : 0)
                    if (tc + 0 > 0 && oc + 0 > 0) printf " (answers per server CPU-s: %.2f)", tc / oc
                    printf "\n\n"
                }'
        fi
    done
}

{
    if [[ $RUN_QPS == 1 ]]; then
        echo "### $RECORDS records; $RUNS x $DURATION s per server; in-flight $IN_FLIGHT, batch $BATCH; server core $SERVER_CPU, loadgen core $LOADGEN_CPU"
    else
        echo "### $RECORDS records; zone transfers only; secondaries on core $SERVER_CPU, primary on core $LOADGEN_CPU"
    fi
    echo
    echo "Host: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), load average before the run $load1; $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    ((${#STARTED[@]} == 0)) || qps_table
    xfr_flags="--xfr-in-runs $XFR_IN_RUNS --ixfr-changes $IXFR_CHANGES"
    if [[ $RUN_XFR == 0 ]]; then
        xfr_flags="--no-xfr"
    elif [[ $RUN_QPS == 0 ]]; then
        xfr_flags="--xfr-only $xfr_flags"
    fi
    echo "Commands (\$WORK is the temp dir):"
    echo
    echo '```'
    echo "bench/run.sh --records $RECORDS --duration $DURATION --runs $RUNS --in-flight $IN_FLIGHT --batch $BATCH --sockets $SOCKETS --timeout $TIMEOUT --query-count $QUERY_COUNT --servers \"$SERVERS\" $xfr_flags"
    echo "tandem-loadgen gen-zone --records $RECORDS --origin bench.test --out \$WORK/bench.test.zone --queries-out \$WORK/queries.txt --query-count $QUERY_COUNT"
    for c in "${COMMANDS[@]}"; do
        c=${c//$WORK/\$WORK}
        echo "${c//$LG/tandem-loadgen}"
    done
    echo '```'
    for conf in knot/knot.conf nsd/nsd.conf xfr/primary/knot.conf xfr/knot-in.1/knot.conf xfr/nsd-in.1/nsd.conf \
        xfr/ixfr/knot/knot.conf xfr/ixfr/nsd/nsd.conf; do
        [[ -f $WORK/$conf ]] || continue
        echo
        echo "\$WORK/$conf:"
        echo
        echo '```'
        sed "s|$WORK|\$WORK|g" "$WORK/$conf"
        echo '```'
    done
    if ((${#AXFR_MS[@]} > 0)); then
        echo
        echo "### AXFR out (tandem-loadgen axfr over TCP on loopback, client on core $LOADGEN_CPU)"
        echo
        echo "| server | RRs received (both SOAs) | ms | VmRSS after MiB |"
        echo "|---|---:|---:|---:|"
        for s in "${STARTED[@]}"; do
            [[ -n ${AXFR_MS[$s]:-} ]] && echo "| $s | ${AXFR_N[$s]} | ${AXFR_MS[$s]} | $(mib "${AXFR_RSS[$s]:-0}") |"
        done
        echo
        if [[ ${AXFR_MS[tandem]:--} != - && ${AXFR_MS[knot]:--} != - ]]; then
            awk -v t="${AXFR_MS[tandem]}" -v k="${AXFR_MS[knot]}" \
                'BEGIN { printf "Tandem/Knot AXFR time ratio: %.2f (below 1 is faster)\n\n", t / k }'
        fi
        if [[ -n ${AXFR_RSS[tandem]:-} && -n ${AXFR_RSS[knot]:-} ]]; then
            awk -v t="${AXFR_RSS[tandem]}" -v k="${AXFR_RSS[knot]}" \
                'BEGIN { printf "Tandem/Knot VmRSS after the AXFR: %.2f\n\n", t / k }'
        fi
    fi
    [[ $RUN_XFR == 0 ]] || xfr_report
} >"$WORK/report.md"

cat "$WORK/report.md"
if [[ -n $OUT ]]; then
    cp "$WORK/report.md" "$OUT"
    log "report written to $OUT"
fi
