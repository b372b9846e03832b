#!/usr/bin/env bash
# A RabbitMQ the notification tests publish to and consume from: the one on 127.0.0.1:5672 as it is
# (guest/guest), else Debian's rabbitmq-server, installed when missing and started detached. Its URL
# goes to .cache/test-rabbitmq.url (test/helpers/rabbitmq.ts reads it). ANVIL_TEST_AMQP names another.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

url_file=.cache/test-rabbitmq.url
url=${ANVIL_TEST_AMQP:-amqp://guest:guest@127.0.0.1:5672/}

# Whether the broker lets us in; with amqplib from node_modules.
connects() {
  node -e '
    require("amqplib").connect(process.argv[1], { timeout: 5000 }).then((c) => c.close()).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });
  ' "$1"
}

record() {
  mkdir -p "$(dirname "$url_file")"
  echo "$1" >"$url_file"
  echo "setup: tests use RabbitMQ at ${1/\/\/*@/\/\/***@}"
}

if connects "$url" 2>/dev/null; then record "$url"; exit 0; fi
[ -z "${ANVIL_TEST_AMQP:-}" ] || { echo "setup: cannot connect to ANVIL_TEST_AMQP" >&2; exit 1; }

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "setup: installing RabbitMQ from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
fi
echo "setup: starting RabbitMQ"
# Under systemd its unit starts it; without (containers, chroots) it runs detached.
if [ -d /run/systemd/system ]; then systemctl start rabbitmq-server; else rabbitmq-server -detached; fi
for _ in $(seq 1 60); do connects "$url" 2>/dev/null && break; sleep 1; done
connects "$url" || { echo "setup: RabbitMQ does not let guest in on 127.0.0.1:5672" >&2; exit 1; }
record "$url"
