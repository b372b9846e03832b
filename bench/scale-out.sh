#!/usr/bin/env bash
# Scale-out on PostgreSQL: 3 conductor processes and 2 API processes on one database, the
# lifecycle bench (bench/lifecycle.ts, N nodes) through both APIs, against a single all-in-one on
# PostgreSQL with the same N. In the scale-out run one conductor is killed with SIGKILL in the middle
# of the deploy phase; the others take its nodes over. Afterwards it checks that no node is lost or
# wedged: all N exist, none is in a working state or locked, and any node whose deploy the kill
# interrupted (deploy failed, as Ironic leaves it) reaches active when deployed again.
# Every process is started and stopped here; the two databases are made and dropped here.
#
#   bench/scale-out.sh [N]            (default 10000)
#   ANVIL_BENCH_PG=postgres://postgres@127.0.0.1:5432   server (a role that may create databases)
#   ANVIL_BENCH_CONCURRENCY=32        requests in flight
#   SCALE_OUT_SINGLE=0                skip the single all-in-one run
#   SCALE_OUT_KILL=0                  no SIGKILL (throughput only)
#   SCALE_OUT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   node options of the 5 server processes
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
PG=${ANVIL_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
SCALE_DB=anvil_bench_scale_out
SINGLE_DB=anvil_bench_single
ENTRY=dist/anvil.mjs
WORK=$(mktemp -d /tmp/anvil-scale-out.XXXXXX)
PIDS=()
NODE_ARGS=${SCALE_OUT_NODE_ARGS:-}

[ -f "$ENTRY" ] || node --import tsx scripts/bundle.ts >/dev/null

sql() { psql -qtA "$PG/postgres" -c "$1"; }
count() { psql -qtA "$PG/$SCALE_DB" -c "$1"; }

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  sql "drop database if exists $SCALE_DB with (force)" || true
  sql "drop database if exists $SINGLE_DB with (force)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# 5 processes share the server's max_connections (100 by default) with whatever else uses it.
cat >"$WORK/anvil.yaml" <<EOF
database:
  maxConnections: 8
conductor:
  heartbeatInterval: 1
  heartbeatTimeout: 6
  powerSyncInterval: 0
log:
  level: warn
  pretty: false
EOF

run_single() {
  sql "drop database if exists $SINGLE_DB with (force)"
  sql "create database $SINGLE_DB"
  echo "== single all-in-one on PostgreSQL, $N nodes"
  ANVIL_BENCH_ENTRY=$ENTRY ANVIL_BENCH_DATABASE_URL="$PG/$SINGLE_DB" ANVIL_BENCH_PG_URL="$PG/$SINGLE_DB" ANVIL_CONFIG="$WORK/anvil.yaml" \
    node --import tsx bench/lifecycle.ts "$N" | tee "$WORK/single.txt"
  sql "drop database if exists $SINGLE_DB with (force)"
}

run_scale_out() {
  sql "drop database if exists $SCALE_DB with (force)"
  sql "create database $SCALE_DB"
  local url="$PG/$SCALE_DB" apis=() conductors=()
  # The first API migrates the new database alone: processes migrating it at once can collide.
  for i in 1 2; do
    local port
    port=$(free_port)
    ANVIL_DATABASE_URL=$url ANVIL_API_LISTEN=127.0.0.1:$port node $NODE_ARGS "$ENTRY" api --config "$WORK/anvil.yaml" &>"$WORK/api-$i.log" &
    PIDS+=("$!"); apis+=("http://127.0.0.1:$port")
    for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
  done
  for i in 1 2 3; do
    ANVIL_DATABASE_URL=$url ANVIL_CONDUCTOR_HOSTNAME=scale-out-c$i node $NODE_ARGS "$ENTRY" conductor --config "$WORK/anvil.yaml" &>"$WORK/conductor-$i.log" &
    PIDS+=("$!"); conductors+=("$!")
  done
  for _ in $(seq 300); do [ "$(count "select count(*) from conductors where online")" = 3 ] && break; sleep 0.2; done
  sleep 2  # every conductor sees the other two before work arrives
  local server_pids
  server_pids=$(IFS=,; echo "${PIDS[*]}")
  echo "== scale-out: 2 APIs (${apis[*]}), 3 conductors, one PostgreSQL database, $N nodes"
  ANVIL_BENCH_URL=$(IFS=,; echo "${apis[*]}") ANVIL_BENCH_PIDS=$server_pids ANVIL_BENCH_PG_URL=$url node --import tsx bench/lifecycle.ts "$N" | tee "$WORK/scale-out.txt" &
  local bench=$!
  if [ "${SCALE_OUT_KILL:-1}" != 0 ]; then
    # The middle of the deploy phase: half of the nodes deployed.
    while kill -0 "$bench" 2>/dev/null && [ "$(count "select count(*) from nodes where provision_state = 'active'")" -lt $((N / 2)) ]; do sleep 0.2; done
    if kill -0 "$bench" 2>/dev/null; then
      local held
      held=$(count "select count(*) from nodes where reservation = 'scale-out-c2'")
      kill -KILL "${conductors[1]}"
      echo "== SIGKILL of conductor scale-out-c2 at $(count "select count(*) from nodes where provision_state = 'active'") of $N active; it held $held node locks"
    fi
  fi
  if ! wait "$bench"; then
    echo "== the lifecycle bench failed (see above); the processes' last lines:"
    for f in "$WORK"/api-*.log "$WORK"/conductor-*.log; do echo "-- $(basename "$f")"; tail -n 5 "$f" | cut -c1-400; done
  fi

  echo "== after the run"
  echo "nodes: $(count "select count(*) from nodes") of $N"
  echo "by provision state: $(count "select string_agg(provision_state || ' ' || n, ', ') from (select provision_state, count(*) n from nodes group by 1 order by 2 desc) s")"
  echo "locked: $(count "select count(*) from nodes where reservation is not null"), in a working state: $(count "select count(*) from nodes where provision_state in ('verifying','cleaning','clean wait','deploying','wait call-back','inspecting','deleting')")"
  echo "deploys worked by: $(count "select string_agg(conductor || ' ' || n, ', ') from (select conductor, count(distinct node_id) n from node_history where event_type = 'deploy' and conductor is not null group by 1 order by 1) s") nodes"
  local failed
  failed=$(count "select uuid from nodes where provision_state = 'deploy failed'")
  if [ -n "$failed" ]; then
    echo "$(echo "$failed" | wc -l) deploys interrupted by the kill (last_error: $(count "select last_error from nodes where provision_state = 'deploy failed' limit 1")); deploying them again"
    for uuid in $failed; do
      curl -sf -o /dev/null -X PUT -H 'Content-Type: application/json' -H 'X-OpenStack-Ironic-API-Version: 1.72' -d '{"target":"active"}' "${apis[0]}/v1/nodes/$uuid/states/provision"
    done
    for _ in $(seq 600); do [ "$(count "select count(*) from nodes where provision_state <> 'active'")" = 0 ] && break; sleep 0.5; done
  fi
  echo "active: $(count "select count(*) from nodes where provision_state = 'active'") of $N"
}

[ "${SCALE_OUT_SINGLE:-1}" = 0 ] || run_single
run_scale_out
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
