#!/usr/bin/env bash
# A PostgreSQL server the tests can use; its URL goes to .cache/test-postgres.url, where
# test/helpers/db.ts reads it. Safe to run again.
# - ANVIL_TEST_PG set: that server, as it is (the variable also wins in the tests).
# - Otherwise the local server on 127.0.0.1:${ANVIL_TEST_PG_PORT:-5432}: as role postgres when it lets
#   us in without a password (a test machine with trust on loopback, used as it is), else as role
#   anvil_test in a Debian cluster on that port. PostgreSQL is installed from Debian and the cluster
#   made and started when missing; anvil_test may create databases (no superuser) and comes in from
#   127.0.0.1 without a password.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${ANVIL_TEST_PG_PORT:-5432}
role=anvil_test
url_file=.cache/test-postgres.url
trusted=postgres://postgres@127.0.0.1:$port/test
ours=postgres://$role@127.0.0.1:$port/test

# Whether a URL connects; with pg from node_modules, so no PostgreSQL client need be installed yet.
connects() {
  node -e '
    const c = new (require("pg").Client)({ connectionString: process.argv[1], connectionTimeoutMillis: 5000 });
    c.connect().then(() => c.end()).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });
  ' "$1"
}

record() {
  mkdir -p "$(dirname "$url_file")"
  echo "$1" >"$url_file"
  echo "setup: tests use PostgreSQL at $1"
}

if [ -n "${ANVIL_TEST_PG:-}" ]; then
  connects "$ANVIL_TEST_PG" || { echo "setup: cannot connect to ANVIL_TEST_PG" >&2; exit 1; }
  exit 0
fi
if connects "$trusted" 2>/dev/null; then record "$trusted"; exit 0; fi
if connects "$ours" 2>/dev/null; then record "$ours"; exit 0; fi

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "setup: installing PostgreSQL from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

cluster=$(pg_lsclusters -h | awk -v port="$port" '$3 == port { print $1, $2; exit }')
if [ -z "$cluster" ]; then
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    echo "setup: a PostgreSQL server that is no local cluster answers on 127.0.0.1:$port and refuses $trusted;" \
      "set ANVIL_TEST_PG to a URL whose role may create databases, or ANVIL_TEST_PG_PORT to a free port" >&2
    exit 1
  fi
  version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  name=main
  [ -e "/etc/postgresql/$version/main" ] && name=anvil-test
  echo "setup: creating PostgreSQL cluster $version/$name on port $port"
  pg_createcluster --port "$port" "$version" "$name" >/dev/null
  cluster="$version $name"
fi
read -r version name <<<"$cluster"

if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
  echo "setup: starting PostgreSQL $version/$name"
  # Under systemd the cluster's unit starts it; without (containers, chroots) pg_ctlcluster does.
  if [ -d /run/systemd/system ]; then
    pg_ctlcluster "$version" "$name" start
  else
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
fi

# The cluster's superuser, through the Unix socket (Debian's peer rule for postgres).
as_postgres() { (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"); }
as_postgres <<SQL
SELECT 'CREATE ROLE $role LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') \gexec
SELECT 'CREATE DATABASE test OWNER $role' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'test') \gexec
-- A test database goes with DROP DATABASE ... WITH (FORCE), which must also end an autovacuum worker
-- in it: PostgreSQL 15 lets only pg_signal_backend's members end a process of no role.
GRANT pg_signal_backend TO $role;
SQL
hba=$(as_postgres -Atc 'SHOW hba_file')
rule="host all $role 127.0.0.1/32 trust"
if ! grep -qxF "$rule" "$hba"; then
  echo "setup: letting role $role in from 127.0.0.1 without a password ($hba)"
  # First match wins in pg_hba.conf, so the rule goes on top.
  { echo "# Anvil's tests (scripts/setup-postgres.sh): a role that may create databases, no superuser"
    echo "$rule"
    cat "$hba"; } >"$hba.anvil"
  chown --reference="$hba" "$hba.anvil"
  chmod --reference="$hba" "$hba.anvil"
  mv "$hba.anvil" "$hba"
  as_postgres -c 'SELECT pg_reload_conf()' >/dev/null
fi
connects "$ours" || { echo "setup: PostgreSQL $version/$name still refuses $ours" >&2; exit 1; }
record "$ours"
