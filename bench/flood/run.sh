#!/bin/sh
# Flood benchmark: what a flood of logins does to protected requests.
#
# Builds jot, starts it on a loopback port with a throw-away SQLite
# database and bcrypt cost 10, then runs with wrk (Debian package "wrk"):
#   1. GET /v1/users/me at 16 connections, alone;
#   2. POST /v1/auth/login (right password) at 64 connections, alone;
#   3. the same GET while the 64 connections post logins;
# and measures the bcrypt bound (one core's compare rate at the same cost
# times the CPUs) in the same run. Prints the ratios.
#
# Usage: sh bench/flood/run.sh   (from the repository root)
# Settings: FLOOD_SECONDS (default 10) per workload, FLOOD_PORT (18099).
set -eu

secs=${FLOOD_SECONDS:-10}
port=${FLOOD_PORT:-18099}
cost=10
base=http://127.0.0.1:$port
dir=$(mktemp -d /tmp/jot-flood.XXXXXX)
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }

go build -o "$dir/jot" ./cmd/jot
go build -o "$dir/bcryptrate" ./bench/flood/bcryptrate

JOT_ADDR=127.0.0.1:$port JOT_DATABASE_URL="sqlite://$dir/jot.db" JOT_BCRYPT_COST=$cost \
	JOT_LOGIN_RATE=1000000/s "$dir/jot" serve 2>"$dir/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
i=0
until curl -sf "$base/healthz" >/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "jot did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
	sleep 0.1
done

export FLOOD_EMAIL=flood@example.com FLOOD_PASSWORD=flood-bench-Pa55phrase
curl -sf -X POST "$base/v1/auth/signup" -H 'Content-Type: application/json' \
	-d "{\"email\":\"$FLOOD_EMAIL\",\"password\":\"$FLOOD_PASSWORD\"}" >/dev/null
# The GET runs as another user: the flood's logins soon pass
# JOT_MAX_SESSIONS for theirs, which ends its oldest sessions.
access=$(curl -sf -X POST "$base/v1/auth/signup" -H 'Content-Type: application/json' \
	-d "{\"email\":\"reader@example.com\",\"password\":\"$FLOOD_PASSWORD\"}" |
	sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -sf "$base/v1/users/me" -H "Authorization: Bearer $access" >/dev/null

# rps FILE and p99ms FILE read wrk's summary; errors FILE its non-2xx count.
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
p99ms() {
	awk '$1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v);
		m = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v; print m }' "$1"
}
errors() { awk '/Non-2xx/ {n += $NF} /Socket errors/ {n += 1} END {print n + 0}' "$1"; }
get() { wrk -t1 -c16 -d"${1}s" --latency --timeout 30s -H "Authorization: Bearer $access" "$base/v1/users/me"; }
logins() { wrk -t1 -c64 -d"${1}s" --timeout 30s -s bench/flood/login.lua "$base/v1/auth/login"; }

echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')  commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)  cpus: $(nproc)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$dir/bcryptrate" -cost $cost -d 3s >"$dir/bound"
bound=$(sed -E 's/.*bound=([0-9.]+).*/\1/' "$dir/bound")
get "$secs" >"$dir/get-alone"
logins "$secs" >"$dir/login-alone"
logins $((secs + 6)) >"$dir/login-flood" &
lpid=$!
sleep 3
get "$secs" >"$dir/get-flood"
wait $lpid
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

for f in get-alone login-alone get-flood login-flood; do
	echo "--- $f"
	grep -E 'Requests/sec|Latency  |^ +99%|Non-2xx|Socket errors|requests in' "$dir/$f" || true
done
awk -v ga="$(rps "$dir/get-alone")" -v gf="$(rps "$dir/get-flood")" \
	-v pa="$(p99ms "$dir/get-alone")" -v pf="$(p99ms "$dir/get-flood")" \
	-v la="$(rps "$dir/login-alone")" -v lf="$(rps "$dir/login-flood")" -v b="$bound" \
	-v ea="$(errors "$dir/get-alone")" -v ef="$(errors "$dir/get-flood")" \
	-v ela="$(errors "$dir/login-alone")" -v elf="$(errors "$dir/login-flood")" \
	-v cores="$(nproc)" -v one="$(cat "$dir/bound")" 'BEGIN {
	printf "bcrypt bound (cost 10): %s\n", one
	printf "GET alone:        %8.1f req/s  p99 %8.2f ms  (errors %d)\n", ga, pa, ea
	printf "GET under flood:  %8.1f req/s  p99 %8.2f ms  (errors %d)\n", gf, pf, ef
	printf "logins alone:     %8.1f req/s  (errors %d)\n", la, ela
	printf "logins in flood:  %8.1f req/s  (errors %d)\n", lf, elf
	printf "GET p99 ratio (flood/alone):   %.2f  (target <= 2)\n", pf / pa
	printf "GET req/s ratio (flood/alone): %.2f  (target >= 0.8)\n", gf / ga
	printf "logins alone / bcrypt bound:   %.2f  (target >= 0.95)\n", la / b
}'
