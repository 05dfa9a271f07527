#!/usr/bin/env bash
# bench/ixfr_many.sh — Tandem as the SECONDARY of one IXFR made of very many one-record
# differences (default: a 1,000,000-record zone and an IXFR of 1,000,000 differences), and
# the latency of API writes to ANOTHER zone while it is applied.
#
# Starts a fresh Tandem (release build) with the transfer limits raised, and
# `tandem-loadgen ixfr-many` as the primary (bench/loadgen/src/ixfr_many.rs: zone bench.test
# at serial 1 = SOA, 2 NS, N A records h{i}; serial 1+D = h0..h{D-1} with new addresses; an
# IXFR from serial 1 is D differences, one per serial step). Through the API it creates a
# peer (ixfr_enable) and the secondary zone bench.test, and a full zone other.test. Once
# Tandem serves serial 1 it creates the primary's bump file: the primary moves to serial
# 1+D and sends Tandem a NOTIFY from 127.0.0.1, so Tandem checks the SOA and asks for IXFR.
# Meanwhile one A record is POSTed to other.test every 200 ms (sequentially: 200 ms sleep
# after each answer) with curl, and each call's time_total recorded.
# Reported: bump -> serial 1+D served (first SOA answer with it, queried every 20 ms), bump ->
# the transfer recorded in the zone's incoming status, the transfer type the API and the log
# show, VmRSS before/after and VmHWM, and the POST latencies.
# Loopback only; every process it starts is stopped on exit; every wait is bounded.
#
# Usage: bench/ixfr_many.sh [--no-build] [--records N] [--diffs D]
#            [--max-transfer-bytes BYTES] [--wait SECONDS]

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export NO_COLOR=1
BUILD=1
RECORDS=1000000
DIFFS=1000000
# The reader's memory estimate is about 170 octets per A record and 215 per SOA it holds, so
# an IXFR of D differences (4 D + 2 records) needs about 770 D octets: 4 GiB leaves room.
MAX_TRANSFER_BYTES=$((4 << 30))
WAIT=900
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --records) RECORDS="$2"; shift ;;
        --diffs) DIFFS="$2"; shift ;;
        --max-transfer-bytes) MAX_TRANSFER_BYTES="$2"; shift ;;
        --wait) WAIT="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
for v in "$RECORDS" "$DIFFS" "$MAX_TRANSFER_BYTES" "$WAIT"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "not a number: $v" >&2; exit 2; }
done
if [ "$DIFFS" -gt "$RECORDS" ] || [ "$DIFFS" -lt 1 ]; then
    echo "--diffs must be in 1..=--records" >&2
    exit 2
fi
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
NEW=$((1 + DIFFS))
# Records of the IXFR (4 per difference and 2 SOAs) or of the AXFR, whichever is larger.
MAX_TRANSFER_RECORDS=$((4 * DIFFS + RECORDS + 1000))
[ "$MAX_TRANSFER_RECORDS" -ge 10000000 ] || MAX_TRANSFER_RECORDS=10000000
TRANSFER_TIMEOUT_MS=$((WAIT * 1000))

log() { echo "ixfr_many: $*" >&2; }
us_now() { echo "${EPOCHREALTIME//[.,]/}"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { echo $(($1 / 1024)); }

api() { # METHOD PATH [BODY]
    curl -sf --max-time 60 -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' "http://$API/client/v4$2" ${3:+-d "$3"}
}

# One POST of an A record to other.test; appends "start_us time_total http_code" to $1.
post_one() { # OUTFILE N
    local start r
    start=$(us_now)
    r=$(curl -s -o /dev/null --max-time 60 -w '%{time_total} %{http_code}' -X POST \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        "http://$API/client/v4/zones/$OTHER/dns_records" \
        -d "{\"type\":\"A\",\"name\":\"p$2.other.test\",\"content\":\"192.0.2.$(($2 % 250 + 1))\",\"ttl\":300}") ||
        r="60 timeout"
    echo "$start $r" >>"$1"
}

# count median max (ms) of the time_total column of $1.
latency_stats() { # FILE
    awk '{ print $2 * 1000 }' "$1" | sort -n | awk '
        { v[NR] = $1 } END {
            if (NR == 0) { print "0 - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%d %.1f %.1f\n", NR, m, v[NR] }'
}
# How many answers were not 200.
not_ok() { awk '$3 != "200" { n++ } END { print n + 0 }' "$1"; }
# The POSTs slower than 50 ms: "start (ms after the bump): time_total ms".
slow_posts() { # FILE
    awk -v t0="$T0" '$2 * 1000 > 50 {
        printf "%s+%d ms: %.1f ms (%s)", sep, ($1 - t0) / 1000, $2 * 1000, $3; sep = "; " }
        END { if (sep == "") printf "none" }' "$1"
}

DIR="$WORK/data"
TANDEM_CMD=("$TANDEM" serve --dns-listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --data-dir "$DIR"
    --api-token "$TOKEN" --max-import-bytes 268435456 --min-refresh-seconds 300
    --max-transfer-records "$MAX_TRANSFER_RECORDS" --max-transfer-bytes "$MAX_TRANSFER_BYTES"
    --transfer-timeout-ms "$TRANSFER_TIMEOUT_MS")
"${TANDEM_CMD[@]}" >"$WORK/tandem.log" 2>&1 &
PID=$!
PIDS+=("$PID")
for _ in $(seq 200); do # at most 10 s
    [ -s "$DIR/listen.json" ] && jq -e . "$DIR/listen.json" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
done
if ! [ -s "$DIR/listen.json" ]; then
    log "tandem did not start:"; tail -n 20 "$WORK/tandem.log" >&2; exit 1
fi
API=$(jq -r .api "$DIR/listen.json")
DNS_PORT=$(jq -r '.dns[0]' "$DIR/listen.json" | sed 's/.*://')
[[ $DNS_PORT =~ ^[0-9]+$ && $API == 127.0.0.1:* ]] || { log "bad listen.json"; exit 1; }

PORT=$("$LOADGEN" free-port)
BUMP="$WORK/bump"
PRIMARY_CMD=("$LOADGEN" ixfr-many --listen "127.0.0.1:$PORT" --origin bench.test
    --records "$RECORDS" --diffs "$DIFFS" --bump-file "$BUMP" --notify "127.0.0.1:$DNS_PORT"
    --duration 3500)
"${PRIMARY_CMD[@]}" >"$WORK/primary.json" 2>"$WORK/primary.log" &
PIDS+=("$!")
log "tandem pid $PID: dns 127.0.0.1:$DNS_PORT, api $API; primary 127.0.0.1:$PORT"

ACCOUNT=$(api GET /accounts | jq -er '.result[0].id')
PEER=$(api POST "/accounts/$ACCOUNT/secondary_dns/peers" \
    "{\"name\":\"ixfr-many\",\"ip\":\"127.0.0.1\",\"port\":$PORT,\"ixfr_enable\":true}" | jq -er .result.id)
ZONE=$(api POST /zones "{\"name\":\"bench.test\",\"account\":{\"id\":\"$ACCOUNT\"},\"type\":\"secondary\"}" |
    jq -er .result.id)
OTHER=$(api POST /zones "{\"name\":\"other.test\",\"account\":{\"id\":\"$ACCOUNT\"},\"type\":\"full\"}" |
    jq -er .result.id)
t_axfr=$(us_now)
api POST "/zones/$ZONE/secondary_dns/incoming" \
    "{\"name\":\"bench.test\",\"peers\":[\"$PEER\"],\"auto_refresh_seconds\":86400}" >/dev/null
log "waiting (at most 600 s) for serial 1 (AXFR of $RECORDS records)"
if ! "$LOADGEN" probe --server "127.0.0.1:$DNS_PORT" --name bench.test --type SOA \
    --min-serial 1 --interval-ms 50 --wait 600 >"$WORK/probe1.json"; then
    log "serial 1 was not served within 600 s"; tail -n 20 "$WORK/tandem.log" >&2; exit 1
fi
AXFR_MS=$(jq -r --argjson t "$t_axfr" '(.unix_us - $t) / 1000 | floor' "$WORK/probe1.json")
log "serial 1 served ${AXFR_MS} ms after the incoming configuration"
sleep 2 # let the first transfer's store commit settle

# Baseline: ten POSTs to other.test with no transfer under way.
for i in $(seq 1 10); do post_one "$WORK/post-idle.txt" "$i"; sleep 0.2; done

RSS_BEFORE=$(rss_kib "$PID")
HWM_BEFORE=$(hwm_kib "$PID")
# The probe starts before the bump so its own start is not timed.
"$LOADGEN" probe --server "127.0.0.1:$DNS_PORT" --name bench.test --type SOA \
    --min-serial "$NEW" --interval-ms 20 --wait "$WAIT" >"$WORK/probe2.json" &
PROBE=$!
PIDS+=("$PROBE")
(
    i=1000
    while [ ! -e "$WORK/stop-posts" ]; do
        post_one "$WORK/post-during.txt" "$i"
        i=$((i + 1))
        sleep 0.2
    done
) &
POSTER=$!
PIDS+=("$POSTER")
sleep 0.1
T0=$(us_now)
touch "$BUMP"
log "bumped to serial $NEW; waiting (at most $WAIT s) for Tandem to serve it"
SERVED=ok
wait "$PROBE" || SERVED=failed
T_SERVED=$(jq -r '.unix_us // empty' "$WORK/probe2.json")
RSS_SERVED=$(rss_kib "$PID")
# The new version is served before the store's transaction; wait (bounded) until the
# incoming status records it too, and keep POSTing until then.
T_RECORDED="" STATUS="{}"
for _ in $(seq $((WAIT * 5))); do
    STATUS=$(api GET "/zones/$ZONE/secondary_dns/incoming" |
        jq -c '.result | {soa_serial, state, peer_status: [.peer_status[0] | {last_result, last_transfer_type, last_transfer_serial}]}' ||
        echo "{}")
    if [ "$(jq -r '.peer_status[0].last_transfer_serial // 0' <<<"$STATUS")" = "$NEW" ]; then
        T_RECORDED=$(us_now)
        break
    fi
    [ "$SERVED" = ok ] || break
    sleep 0.2
done
touch "$WORK/stop-posts"
wait "$POSTER" 2>/dev/null || true
RSS_AFTER=$(rss_kib "$PID")
HWM_AFTER=$(hwm_kib "$PID")
sleep 10
RSS_LATER=$(rss_kib "$PID")

ms_since() { [ -n "$1" ] && echo $((($1 - T0) / 1000)) || echo "not within ${WAIT} s"; }
KIND=$(jq -r '.peer_status[0].last_transfer_type // "?"' <<<"$STATUS")
read -r N_IDLE MED_IDLE MAX_IDLE < <(latency_stats "$WORK/post-idle.txt")
touch "$WORK/post-during.txt"
read -r N_DUR MED_DUR MAX_DUR < <(latency_stats "$WORK/post-during.txt")

echo "| records | differences | bump → serial $NEW served ms | bump → transfer recorded in the API status ms | last_transfer_type (API) | VmRSS before MiB | VmRSS at serve MiB | VmRSS at record MiB | VmRSS 10 s later MiB | VmHWM before bump MiB | VmHWM after MiB | POSTs to other.test during | median ms | max ms | not 200 |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$RECORDS" "$DIFFS" "$(ms_since "$T_SERVED")" "$(ms_since "$T_RECORDED")" "$KIND" \
    "$(mib "$RSS_BEFORE")" "$(mib "$RSS_SERVED")" "$(mib "$RSS_AFTER")" "$(mib "$RSS_LATER")" \
    "$(mib "$HWM_BEFORE")" "$(mib "$HWM_AFTER")" "$N_DUR" "$MED_DUR" "$MAX_DUR" \
    "$(not_ok "$WORK/post-during.txt")"
echo
echo "- First AXFR of serial 1 ($((RECORDS + 4)) records) served ${AXFR_MS} ms after the incoming configuration was posted."
echo "- Baseline with no transfer: $N_IDLE POSTs to other.test, median $MED_IDLE ms, max $MAX_IDLE ms."
echo "- POSTs to other.test slower than 50 ms during the transfer (start after the bump: time_total): $(slow_posts "$WORK/post-during.txt")"
echo "- Probe of serial $NEW: $SERVED $(cat "$WORK/probe2.json")"
echo "- Incoming status of bench.test at the end: \`$STATUS\`"
echo "- Tandem's log about the transfers (kind=… is what it asked for and applied):"
grep -E 'transfer (received|applied|failed)|falling back|NOTIFY' "$WORK/tandem.log" |
    sed -E 's/^/    /' | cut -c1-400 || echo "    (none)"
echo "- What the primary sent (one line per transfer; answer=incremental is the IXFR of $DIFFS differences):"
sed -E 's/^/    /' "$WORK/primary.json"
sed -E 's/^/    /' "$WORK/primary.log"
echo
echo "Commands (ports and the temporary directory as in this run):"
echo
echo '```'
echo "${TANDEM_CMD[*]}"
echo "${PRIMARY_CMD[*]}"
echo "curl -X POST .../accounts/$ACCOUNT/secondary_dns/peers -d '{\"name\":\"ixfr-many\",\"ip\":\"127.0.0.1\",\"port\":$PORT,\"ixfr_enable\":true}'"
echo "curl -X POST .../zones -d '{\"name\":\"bench.test\",\"type\":\"secondary\"}'; curl -X POST .../zones -d '{\"name\":\"other.test\",\"type\":\"full\"}'"
echo "curl -X POST .../zones/ZONE/secondary_dns/incoming -d '{\"name\":\"bench.test\",\"peers\":[\"PEER\"],\"auto_refresh_seconds\":86400}'"
echo "tandem-loadgen probe --server 127.0.0.1:$DNS_PORT --name bench.test --type SOA --min-serial 1 --interval-ms 50 --wait 600"
echo "tandem-loadgen probe --server 127.0.0.1:$DNS_PORT --name bench.test --type SOA --min-serial $NEW --interval-ms 20 --wait $WAIT   # started before the bump"
echo "touch $BUMP   # the timer starts here; the primary moves to serial $NEW and sends the NOTIFY"
echo "while :; do curl -s -o /dev/null -w '%{time_total} %{http_code}\\n' -X POST -d '{\"type\":\"A\",\"name\":\"pN.other.test\",\"content\":\"192.0.2.N\",\"ttl\":300}' http://$API/client/v4/zones/OTHER/dns_records; sleep 0.2; done   # until the transfer is recorded"
echo '```'
