#!/usr/bin/env bash
# Runs hotline's whole test suite. Makes sure what the tests need is there first (idempotent):
# PostgreSQL on 127.0.0.1:5432 reachable as postgres without a password (tests create and drop
# databases of their own, named hotline_test_*; override with HOTLINE_TEST_PG), and the real SIP
# peers the live SIP tests run against: SIPp (Debian sip-tester) as callers and baresip
# (baresip-core, with its g711, aufile, aubridge and sndfile modules) as the seat agents'
# softphones, dumpcap (tshark) that captures what SIPp's media port receives, and Chromium with
# chromedriver for the browser tests of the web pages.
set -euo pipefail
cd "$(dirname "$0")/.."

PG="${HOTLINE_TEST_PG:-postgres://postgres@127.0.0.1:5432}"
export HOTLINE_TEST_PG="$PG"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if [ -z "${HOTLINE_TEST_PG_EXTERNAL:-}" ]; then
  if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "== installing PostgreSQL (Debian package)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql postgresql-client >/dev/null
  fi
  if ! pg_up; then
    echo "== starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  # A fresh Debian install asks for a password on TCP: let local connections in (test machine).
  if ! psql "$PG/postgres" -qAtc 'SELECT 1' >/dev/null 2>&1; then
    echo "== allowing local trust connections for the tests"
    hba=$(as_root su postgres -c "psql -qAtc 'SHOW hba_file'")
    as_root sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
    as_root su postgres -c "psql -qAtc 'SELECT pg_reload_conf()'" >/dev/null
  fi
  psql "$PG/postgres" -qAtc 'SELECT 1' >/dev/null
fi

baresip_modules=/usr/lib/baresip/modules
if ! command -v sipp >/dev/null || ! command -v baresip >/dev/null || ! command -v dumpcap >/dev/null \
   || ! ls "$baresip_modules"/{g711,aufile,aubridge,sndfile,account}.so >/dev/null 2>&1; then
  echo "== installing SIPp, baresip and dumpcap (Debian packages sip-tester, baresip-core, tshark)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq sip-tester baresip-core tshark >/dev/null
fi

# The browser tests (tests/browser) drive headless Chromium through chromedriver; a CJK font
# makes their screenshots readable.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
   || ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
  echo "== installing Chromium, chromedriver and a CJK font (Debian chromium, chromium-driver, fonts-wqy-microhei)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
fi

# Databases left behind by an interrupted earlier run.
for db in $(psql "$PG/postgres" -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'hotline_test_%'"); do
  psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
done

cargo test --locked "$@"
