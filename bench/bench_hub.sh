#!/usr/bin/env bash
# Benchmark the hub: start `kizuna hub` on loopback with a fresh data directory, run
# bench_hub (ingest objects/s, paging objects/s, p50/p99 under concurrent clients), stop it.
#
#   bash bench/bench_hub.sh BUILD_DIR [N=1000000] [CLIENTS=64] [SECONDS=10] [--tls]
#
# Use a Release build. Needs nothing but the build (libcurl is linked into bench_hub).
set -euo pipefail
build=${1:?usage: bench_hub.sh BUILD_DIR [N] [CLIENTS] [SECONDS] [--tls]}
n=${2:-1000000}
clients=${3:-64}
seconds=${4:-10}
tls=${5:-}
k="$build/src/kizuna"
data=$(mktemp -d /tmp/kz-bench-XXXXXX)
log="$data.log"
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$data" "$log"
}
trap cleanup EXIT
"$k" admin --data "$data" org add bench >/dev/null
echo bench-password | "$k" admin --data "$data" user add bench --org bench
cid=$("$k" admin --data "$data" collection add --title Bench)
"$k" admin --data "$data" grant read,write "$cid" --user bench
conf="$data/hub.conf"
printf 'threads = %s\nmax_connections_per_ip = 0\nmax_content_length = 67108864\n' \
    "$(nproc)" >"$conf"
if [ "$tls" = "--tls" ]; then
    "$k" hub --data "$data" --config "$conf" --listen 127.0.0.1:0 2>"$log" &
else
    "$k" hub --data "$data" --config "$conf" --listen 127.0.0.1:0 --plain-http 2>"$log" &
fi
pid=$!
for _ in $(seq 100); do
    url=$(grep -o 'https\?://127\.0\.0\.1:[0-9]*' "$log" | head -1 || true)
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "$url" ] || { cat "$log"; exit 1; }
# the per-request log goes to a file; the bench measures the hub, not the terminal
"$build/bench/bench_hub" "$url" bench:bench-password "$cid" "$n" "$clients" "$seconds"
echo "database: $(du -sh "$data" | cut -f1) for $n objects"
