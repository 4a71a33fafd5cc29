#!/usr/bin/env bash
# A throw-away MariaDB for the Dolt service's adapter tests (generic MySQL statements, SQL-safety property test).
#   scripts/mariadb.sh start    install (Debian, as root) if missing, init, start, wait, create the admin user
#   scripts/mariadb.sh stop     stop it (the data dir stays; `rm -rf` it to start from scratch)
#   scripts/mariadb.sh status   exit 0 and print the URL if it answers
#   scripts/mariadb.sh url      print the URL tests read from DOLTDB_TEST_MYSQL_URL
# Data lives outside the repo (DOLTDB_MARIADB_DIR, default $TMPDIR/doltdb-mariadb); TCP on 127.0.0.1:3307
# (DOLTDB_MARIADB_PORT) plus a socket in the data dir. Idempotent: `start` on a running server only prints the URL.
set -euo pipefail

DIR="${DOLTDB_MARIADB_DIR:-${TMPDIR:-/tmp}/doltdb-mariadb}"
PORT="${DOLTDB_MARIADB_PORT:-3307}"
ADMIN_USER="doltop"
ADMIN_PASSWORD="doltop-test-only"
SOCKET="$DIR/mariadb.sock"
PIDFILE="$DIR/mariadb.pid"
URL="mysql://${ADMIN_USER}:${ADMIN_PASSWORD}@127.0.0.1:${PORT}"

log() { echo "mariadb.sh: $*" >&2; }

ensure_installed() {
  if command -v mariadbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" != "0" ]; then
    log "MariaDB is not installed and we are not root: run 'apt-get install -y mariadb-server mariadb-client' as root"
    exit 1
  fi
  log "installing mariadb-server and mariadb-client from Debian"
  # One `apt-get update` unless the package lists are from today already.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -newermt "$(date +%Y-%m-%d)" 2>/dev/null | head -1)" ]; then
    apt-get update
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 mariadb-server mariadb-client
}

answers() { mariadb-admin --no-defaults --socket="$SOCKET" -uroot ping >/dev/null 2>&1; }

start() {
  ensure_installed
  mkdir -p "$DIR"
  if answers; then
    echo "$URL"
    return
  fi
  if [ ! -d "$DIR/data/mysql" ]; then
    log "initialising $DIR/data"
    mariadb-install-db --no-defaults --datadir="$DIR/data" --user="$(id -un)" --skip-test-db \
      --auth-root-authentication-method=socket >"$DIR/install.log" 2>&1 || {
      cat "$DIR/install.log" >&2
      exit 1
    }
  fi
  log "starting on 127.0.0.1:$PORT (socket $SOCKET)"
  setsid nohup mariadbd --no-defaults --datadir="$DIR/data" --socket="$SOCKET" --port="$PORT" \
    --bind-address=127.0.0.1 --pid-file="$PIDFILE" --log-error="$DIR/error.log" --user="$(id -un)" \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_bin >/dev/null 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if answers; then break; fi
    sleep 0.5
  done
  if ! answers; then
    log "MariaDB did not answer within 60 s; last lines of $DIR/error.log:"
    tail -20 "$DIR/error.log" >&2 || true
    exit 1
  fi
  mariadb --no-defaults --socket="$SOCKET" -uroot <<SQL
CREATE USER IF NOT EXISTS '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD}';
ALTER USER '${ADMIN_USER}'@'%' IDENTIFIED BY '${ADMIN_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'%' WITH GRANT OPTION;
SQL
  echo "$URL"
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
      done
    fi
    rm -f "$PIDFILE"
  fi
  log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status)
  if answers; then
    echo "$URL"
  else
    log "not running"
    exit 1
  fi
  ;;
url) echo "$URL" ;;
*)
  echo "usage: $0 start|stop|status|url" >&2
  exit 2
  ;;
esac
