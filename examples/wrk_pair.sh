#!/usr/bin/env bash
# getTable on the server and the primary-key lookup on the benchmark's ceiling, each under wrk
# (one C client thread, 32 connections, 5 s after 2 s of warm-up), one after the other: the
# issue's own way of measuring, with a client far lighter than the benchmark's in-process one.
# Prints each side's rate and the CPU time it used per request (user, system, from /proc).
#
#   cargo build --release --examples
#   target/release/examples/bench --keep /tmp/pb --tables 1000 --seconds 0.3 --sustain 1
#   examples/wrk_pair.sh /tmp/pb [rounds]
#
# Needs wrk. The server and the ceiling run on copies of the kept databases; UC_EMULATOR_BIN
# names another server binary (to compare two builds); WRK_THREADS sets wrk's threads (1).
set -euo pipefail
keep=${1:?usage: wrk_pair.sh KEEP_DIR [ROUNDS]}
rounds=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$keep"/bench.db "$keep"/ceiling.db "$work"/
per_schema=$(python3 -c "import sqlite3; print(sqlite3.connect('$keep/ceiling.db').execute(\"SELECT count(*) FROM items WHERE catalog_name = 'cat0' AND schema_name = 's0'\").fetchone()[0])")

# Tables cat{0..9}.s{0..9}.t{0..per_schema-1}, visited in turn.
script() { # path format, Authorization header or ""
  local auth=""; [ -n "$2" ] && auth="[\"Authorization\"] = \"$2\""
  cat > "$work/load.lua" <<LUA
local i = 0
request = function()
  i = i + 1
  local path = string.format("$1", i % 10, math.floor(i / 10) % 10, math.floor(i / 100) % $per_schema)
  return wrk.format("GET", path, { $auth })
end
LUA
}

cpu() { awk '{print $14 + $15, $14, $15}' "/proc/$1/stat"; }

measure() { # name pid port
  wrk -t"${WRK_THREADS:-1}" -c32 -d2s -s "$work/load.lua" "http://127.0.0.1:$3" > /dev/null
  read -r _ u1 s1 <<< "$(cpu "$2")"
  local out; out=$(wrk -t"${WRK_THREADS:-1}" -c32 -d5s -s "$work/load.lua" "http://127.0.0.1:$3")
  read -r _ u2 s2 <<< "$(cpu "$2")"
  local n rps tick; n=$(awk '/requests in/ {print $1}' <<< "$out"); rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  tick=$(getconf CLK_TCK)
  if grep -q "Non-2xx" <<< "$out"; then echo "$1: answers other than 200" >&2; exit 1; fi
  awk -v name="$1" -v rps="$rps" -v n="$n" -v u=$((u2 - u1)) -v s=$((s2 - s1)) -v t="$tick" \
    'BEGIN { printf "%-28s %9.0f req/s  user %5.1f us  system %5.1f us per request\n", name, rps, u / t / n * 1e6, s / t / n * 1e6 }'
  echo "$rps" > "$work/rate.$1"
}

coproc CEILING { exec "$root/target/release/examples/bench" --serve-ceiling "$work/ceiling.db"; }
read -r line <&"${CEILING[0]}"
ceiling_port=${line##*:}
"${UC_EMULATOR_BIN:-$root/target/release/uc-emulator}" serve --bind 127.0.0.1:0 --db "$work/bench.db" \
  --fixtures "$root/fixtures/default.json" --fixtures "$keep/bench-grants.json" > "$work/server.out" 2> /dev/null &
server=$!
until grep -q "listening on" "$work/server.out" 2> /dev/null; do sleep 0.1; done
server_port=$(grep -o "listening on [^ ]*" "$work/server.out" | head -1 | sed 's/.*://')

for round in $(seq "$rounds"); do
  echo "round $round"
  script "/t/cat%d.s%d.t%d" ""; measure ceiling "$CEILING_PID" "$ceiling_port"
  script "/api/2.1/unity-catalog/tables/cat%d.s%d.t%d" "Bearer dapi-admin"; measure admin "$server" "$server_port"
  script "/api/2.1/unity-catalog/tables/cat%d.s%d.t%d" "Bearer dapi-alice"; measure group "$server" "$server_port"
  awk -v c="$(cat "$work/rate.ceiling")" -v a="$(cat "$work/rate.admin")" -v g="$(cat "$work/rate.group")" \
    'BEGIN { printf "getTable vs ceiling: admin %.2f, through a group %.2f\n", a / c, g / c }'
done
