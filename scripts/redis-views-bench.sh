#!/usr/bin/env bash
# Measures the Redis views on one seeded DATA_DIR: replay throughput of a first build into Redis (apps/projector),
# beside a raw scan of the same events and a replay into in-memory views (ceilings measured in the same run),
# and the latency of the dashboard and the affiliate list served by apps/api from Redis (autocannon).
#
#   npm run build
#   node dist/bench/seed.js --data-dir /tmp/views-10k --affiliates 10000      # prints {"programId": ...}
#   scripts/redis-views-bench.sh /tmp/views-10k <programId>
#
# Env: REDIS_URL (default redis://127.0.0.1:6379), CONNECTIONS (10), DURATION (10 s per endpoint), DIST (dist/),
# DURING (a command run while the reads are measured).
# Writes under the key prefix bench:<random>: and deletes it at the end; touches nothing else in Redis.
set -euo pipefail
DIR=${1:?usage: $0 DATA_DIR PROGRAM_ID}
PROGRAM=${2:?usage: $0 DATA_DIR PROGRAM_ID}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# DIST: a build elsewhere (e.g. one not touched by concurrent `npm run build`s); default the repository's dist/.
DIST=${DIST:-$ROOT/dist}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export REDIS_KEY_PREFIX="bench:$RANDOM$RANDOM:"
export DATA_DIR=$DIR ADMIN_TOKEN=bench-token-123456 HOST=127.0.0.1 LOG_LEVEL=info
CONNECTIONS=${CONNECTIONS:-10}
DURATION=${DURATION:-10}
PROJ_PORT=${PROJ_PORT:-39181}
API_PORT=${API_PORT:-39182}
LOGS=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  node -e "
    const { RedisViewStore } = require('$DIST/libs/views/src/redis.view-store.js');
    const s = new RedisViewStore({ url: process.env.REDIS_URL, keyPrefix: process.env.REDIS_KEY_PREFIX, commandTimeoutMs: 60000 });
    s.connect().then(() => s.deleteAllWithPrefix()).then((n) => s.close().then(() => console.error('deleted', n, 'keys under', process.env.REDIS_KEY_PREFIX)));
  "
  rm -rf "$LOGS"
}
trap cleanup EXIT

HEAD=$(node -e "const D=require('$ROOT/node_modules/better-sqlite3');const db=new D('$DIR/events.sqlite',{readonly:true});console.log(db.prepare('SELECT MAX(position) p FROM events').get().p)")
AFFILIATES=$(node -e "const D=require('$ROOT/node_modules/better-sqlite3');const db=new D('$DIR/events.sqlite',{readonly:true});console.log(db.prepare(\"SELECT COUNT(*) n FROM events WHERE type='AffiliateEnrolled' AND json_extract(data,'$.programId')=?\").get('$PROGRAM').n)")
echo "events in the store: $HEAD; affiliates in program $PROGRAM: $AFFILIATES"

# 0. Ceilings measured beside it (the lead's benchmark): a raw scan of the events table, and the replay into in-memory views.
echo "{\"rawScan\": $(node "$DIST/bench/raw-sqlite.js" scan "$DIR")}"
echo "{\"inMemoryReplay\": $(node "$DIST/bench/replay.js" "$DIR")}"

# 1. First build into Redis by the projector: from its first commit to the last projection swapped in.
PORT=$PROJ_PORT node "$DIST/apps/projector/src/main.js" > "$LOGS/projector.log" 2>&1 &
pids+=($!)
until [ "$(grep -c 'first build of a projection caught up' "$LOGS/projector.log" || true)" -ge 3 ]; do
  if ! kill -0 "${pids[0]}" 2>/dev/null; then cat "$LOGS/projector.log"; exit 1; fi
  sleep 0.2
done
node -e "
  const lines = require('fs').readFileSync('$LOGS/projector.log', 'utf8').split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return {}; } });
  const start = Date.parse(lines.find((l) => l.msg === 'projector writing').time);
  const end = Math.max(...lines.filter((l) => l.msg === 'first build of a projection caught up and serves reads').map((l) => Date.parse(l.time)));
  const s = (end - start) / 1000;
  console.log(JSON.stringify({ redisReplay: { events: $HEAD, seconds: s, eventsPerSecond: Math.round($HEAD / s) } }));
"
redis-cli -u "$REDIS_URL" info memory | grep -E '^used_memory_human' || true

# 2. The api on its own, reading from Redis.
PORT=$API_PORT node "$DIST/apps/api/src/main.js" > "$LOGS/api.log" 2>&1 &
pids+=($!)
until curl -sf "http://127.0.0.1:$API_PORT/ready" > /dev/null; do sleep 0.2; done
B="http://127.0.0.1:$API_PORT/api/programs/$PROGRAM"
CURSOR=$(curl -s -H "authorization: Bearer $ADMIN_TOKEN" "$B/affiliates?sort=conversionRate&order=asc&limit=50" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).nextCursor))")
# DURING: a command run in the background while the reads are measured (e.g. a seeding command appending
# to the same DATA_DIR: the projector applies it meanwhile, so the dashboard's cached distribution is re-read).
if [ -n "${DURING:-}" ]; then bash -c "$DURING" > "$LOGS/during.log" 2>&1 & pids+=($!); sleep 1; fi
for path in "dashboard" "affiliates?sort=clicks&order=desc&limit=50" "affiliates?sort=conversionRate&order=asc&limit=50&cursor=$CURSOR"; do
  npx autocannon -c "$CONNECTIONS" -d "$DURATION" -j -H "authorization=Bearer $ADMIN_TOKEN" "$B/$path" 2> /dev/null |
    node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);console.log(JSON.stringify({path:'$path'.replace(/cursor=.*/, 'cursor=<page 2>'),affiliates:$AFFILIATES,p50ms:r.latency.p50,p99ms:r.latency.p99,reqPerSec:r.requests.average,non2xx:r.non2xx,errors:r.errors}))})"
done
