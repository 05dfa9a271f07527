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
# Loopback only; every process it starts is stopped on exit; every wait is
# bounded.
#
# Usage: bench/run.sh [--records N] [--duration S] [--runs N] [--in-flight N]
#                     [--servers "tandem knot nsd"] [--no-build] [--keep] [--out FILE]
# See --help for all options. Needs knotd, nsd, curl, jq, taskset, timeout.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
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
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

for v in RECORDS DURATION RUNS IN_FLIGHT BATCH SOCKETS QUERY_COUNT SERVER_CPU LOADGEN_CPU; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
        echo "run.sh: ${v,,} must be a non-negative integer" >&2
        exit 2
    fi
done
for v in DURATION RUNS IN_FLIGHT BATCH SOCKETS QUERY_COUNT; do
    if ((${!v} == 0)); then
        echo "run.sh: ${v,,} must be positive" >&2
        exit 2
    fi
done
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

# Starts tandem on data dir $1 with log $2; sets TANDEM_PID, DNS_PORT, API.
launch_tandem() {
    local data=$1 logf=$2 i extra=()
    rm -f "$data/listen.json"
    if tandem_has_flag --udp-workers; then
        extra+=(--udp-workers 1)
    else
        log "warning: tandem has no --udp-workers flag yet; running with its default"
    fi
    # Room for the 1M-record zone file (~46 MB) in the import request.
    if tandem_has_flag --max-import-bytes; then extra+=(--max-import-bytes 268435456); fi
    if tandem_has_flag --log; then extra+=(--log warn); fi
    local cmd=(taskset -c "$SERVER_CPU" "$TANDEM" serve --dns-listen 127.0.0.1:0
        --api-listen 127.0.0.1:0 --data-dir "$data" --api-token "$TOKEN" "${extra[@]}")
    COMMANDS+=("${cmd[*]/$TOKEN/\$TOKEN}")
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
    TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    log "tandem: starting"
    launch_tandem "$data" "$dir/log" || {
        tandem_fail "it did not write a usable $data/listen.json"
        return
    }
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
    if launch_tandem "$data" "$dir/log" && wait_soa "$DNS_PORT" "$LOAD_WAIT"; then
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
# Each server transfers the whole zone to kdig once; time and record count.
declare -A AXFR_MS AXFR_N
if command -v kdig >/dev/null; then
    for s in "${STARTED[@]}"; do
        t0=$(now_ms)
        n=$(taskset -c "$LOADGEN_CPU" timeout 300 kdig @127.0.0.1 -p "${PORT[$s]}" +tcp +noall +answer \
            bench.test AXFR 2>/dev/null | grep -c . || true)
        AXFR_MS[$s]=$(($(now_ms) - t0))
        AXFR_N[$s]=$n
        COMMANDS+=("taskset -c $LOADGEN_CPU kdig @127.0.0.1 -p ${PORT[$s]} +tcp +noall +answer bench.test AXFR | grep -c .")
        log "$s: AXFR of $n records in ${AXFR_MS[$s]} ms"
    done
else
    log "skipping AXFR measurement: kdig not installed"
fi

for s in "${STARTED[@]}"; do stop_server "${PID[$s]}"; done

# ---------------------------------------------------------------- report
declare -A QPS PER_CPU
# Prints the path of the median-qps run of server $1.
median_json() {
    local f
    for f in "$WORK/$1"/load.*.json; do echo "$(jq -r .qps "$f") $f"; done \
        | sort -n | awk -v m=$(((RUNS + 1) / 2)) 'NR == m {print $2}'
}

{
    echo "### $RECORDS records; $RUNS x $DURATION s per server; in-flight $IN_FLIGHT, batch $BATCH; server core $SERVER_CPU, loadgen core $LOADGEN_CPU"
    echo
    echo "Host: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), load average before the run $load1; $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
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
    echo "Commands (\$WORK is the temp dir):"
    echo
    echo '```'
    echo "bench/run.sh --records $RECORDS --duration $DURATION --runs $RUNS --in-flight $IN_FLIGHT --batch $BATCH --sockets $SOCKETS --timeout $TIMEOUT --query-count $QUERY_COUNT"
    echo "tandem-loadgen gen-zone --records $RECORDS --origin bench.test --out \$WORK/bench.test.zone --queries-out \$WORK/queries.txt --query-count $QUERY_COUNT"
    for c in "${COMMANDS[@]}"; do echo "${c//$WORK/\$WORK}"; done
    echo '```'
    for conf in knot/knot.conf nsd/nsd.conf; do
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
        echo "### AXFR out (kdig over TCP on loopback, client on core $LOADGEN_CPU)"
        echo
        echo "| server | records received | ms |"
        echo "|---|---:|---:|"
        for s in "${STARTED[@]}"; do
            [[ -n ${AXFR_MS[$s]:-} ]] && echo "| $s | ${AXFR_N[$s]} | ${AXFR_MS[$s]} |"
        done
        echo
        if [[ -n ${AXFR_MS[tandem]:-} && -n ${AXFR_MS[knot]:-} ]]; then
            awk -v t="${AXFR_MS[tandem]}" -v k="${AXFR_MS[knot]}" \
                'BEGIN { printf "Tandem/Knot AXFR time ratio: %.2f (below 1 is faster)\n\n", t / k }'
        fi
    fi
} >"$WORK/report.md"

cat "$WORK/report.md"
if [[ -n $OUT ]]; then
    cp "$WORK/report.md" "$OUT"
    log "report written to $OUT"
fi
