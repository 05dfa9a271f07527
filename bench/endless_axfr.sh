#!/usr/bin/env bash
# bench/endless_axfr.sh — memory of Tandem as the secondary of a primary whose AXFR never
# ends (THREATS.md "Transfer larger than the zone size limit"; hardening issue row 13).
#
# Starts `tandem-loadgen endless-axfr` (answers SOA queries with serial 2 and every AXFR with
# an opening SOA and then A records without end) and a fresh Tandem (release build) with the
# given flags, configures one secondary zone with that primary, and samples Tandem's VmRSS
# before the transfer, its peak (VmHWM) when Tandem gave the transfer up (the incoming
# status shows the error), and 10 s after that, with the primary gone. Then a second run with
# --max-transfer-bytes lowered, to show the held memory follows the limit.
# Loopback only; every process it starts is stopped on exit; every wait is bounded.
#
# Usage: bench/endless_axfr.sh [--no-build] [--limits "268435456 67108864"]

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NO_COLOR=1
BUILD=1
LIMITS="268435456 67108864"
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --limits) LIMITS="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && cargo build --release -p tandem -p tandem-loadgen >&2)
fi
TANDEM="${TANDEM_BIN:-$ROOT/target/release/tandem}"
LOADGEN="$ROOT/target/release/tandem-loadgen"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
TOKEN=bench-token-0123456789abcdef

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

api() { # METHOD PATH [BODY]
    curl -sf -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        "http://$API/client/v4$2" ${3:+-d "$3"}
}

one_run() { # LIMIT_BYTES
    local limit=$1 dir="$WORK/data-$1" port
    port=$("$LOADGEN" free-port)
    "$LOADGEN" endless-axfr --listen "127.0.0.1:$port" --duration 300 \
        >"$WORK/endless-$limit.json" 2>"$WORK/endless-$limit.log" &
    local primary=$!
    PIDS+=("$primary")
    "$TANDEM" serve --dns-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --data-dir "$dir" \
        --api-token "$TOKEN" --min-refresh-seconds 300 --max-transfer-bytes "$limit" \
        --transfer-timeout-ms 120000 >"$WORK/tandem-$limit.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 200); do [ -s "$dir/listen.json" ] && break; sleep 0.05; done
    API=$(jq -r .api "$dir/listen.json")
    sleep 1
    local before peak after account peer zone result="" started now
    before=$(rss_kib "$pid")
    account=$(api GET /accounts | jq -r '.result[0].id')
    peer=$(api POST "/accounts/$account/secondary_dns/peers" \
        "{\"name\":\"endless\",\"ip\":\"127.0.0.1\",\"port\":$port}" | jq -r .result.id)
    zone=$(api POST /zones '{"name":"endless.test","type":"secondary"}' | jq -r .result.id)
    api POST "/zones/$zone/secondary_dns/incoming" \
        "{\"name\":\"endless.test\",\"peers\":[\"$peer\"],\"auto_refresh_seconds\":86400}" >/dev/null
    started=$(date +%s.%N)
    for _ in $(seq 1200); do # at most 120 s
        result=$(api GET "/zones/$zone/secondary_dns/incoming" |
            jq -r '.result.peer_status[0].last_result // ""')
        if [ -n "$result" ] && [ "$result" != "ok" ]; then break; fi
        sleep 0.1
    done
    now=$(date +%s.%N)
    # The primary goes away at once, so no retry is under way when memory is read again.
    kill "$primary" 2>/dev/null || true
    wait "$primary" 2>/dev/null || true
    peak=$(hwm_kib "$pid")
    sleep 10
    after=$(rss_kib "$pid")
    printf '| %s MiB | %d | %d | %d | %.1f | %s | %s |\n' "$((limit >> 20))" \
        "$((before / 1024))" "$((peak / 1024))" "$((after / 1024))" \
        "$(echo "$now - $started" | bc)" "$result" "$(tail -n 1 "$WORK/endless-$limit.json")"
    kill "$pid" 2>/dev/null || true
}

echo "| --max-transfer-bytes | VmRSS before MiB | peak (VmHWM) MiB | 10 s after the failure MiB | s to failure | last_result | primary sent |"
echo "|---|---|---|---|---|---|---|"
for limit in $LIMITS; do one_run "$limit"; done
