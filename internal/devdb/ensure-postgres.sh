#!/usr/bin/env bash
# Finds or starts a PostgreSQL for development and tests, and prints the owner's DATABASE_URL
# (database "wvsoft") on stdout. Everything else goes to stderr. In order:
#   1. DATABASE_URL, when set;
#   2. a server already answering on the local socket or 127.0.0.1:5432;
#   3. a private cluster under .data/postgres, started from the PostgreSQL binaries on the machine
#      (initdb and postgres refuse to run as root, so as root it runs as the "postgres" user);
#   4. as root on Debian/Ubuntu: installs Debian's postgresql package, then does 3;
#   5. otherwise prints the one command to run, and fails.
# `ensure-postgres.sh stop` stops the private cluster of 3 when it runs (`make stop`); a server
# that was there already (1, 2) is not ours and is left alone.
# WVSOFT_PG_DATA and WVSOFT_PG_PORT move the private cluster (tests run one of their own).
set -euo pipefail

say() { echo "ensure-postgres: $*" >&2; }
root_dir=$(cd "$(dirname "$0")/../.." && pwd)
data_dir="${WVSOFT_PG_DATA:-$root_dir/.data/postgres}"
private_port="${WVSOFT_PG_PORT:-54329}"

if [ "${1:-}" = stop ]; then
  if [ ! -f "$data_dir/PG_VERSION" ]; then
    say "no private cluster in $data_dir: nothing of ours to stop"
    exit 0
  fi
  # pg_ctl refuses to run as root, like the server; the cluster belongs to its data directory's owner.
  stop_as=()
  [ "$(id -u)" = 0 ] && stop_as=(runuser -u "$(stat -c %U "$data_dir")" --)
  pg_ctl=$(command -v pg_ctl || ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V -r | head -n 1)
  if [ -z "$pg_ctl" ]; then
    say "pg_ctl not found"
    exit 1
  fi
  if "${stop_as[@]}" "$pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
    "${stop_as[@]}" "$pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null
    say "stopped the private cluster in $data_dir"
  else
    say "the private cluster in $data_dir is not running"
  fi
  exit 0
fi

if [ -n "${DATABASE_URL:-}" ]; then
  echo "$DATABASE_URL"
  exit 0
fi

# try_url URL: succeeds when the server answers and we may create databases there.
try_url() {
  command -v psql >/dev/null 2>&1 || return 1
  local ok
  ok=$(psql "$1" -Atqc "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user" 2>/dev/null) || return 1
  [ "$ok" = "t" ]
}

# use BASE: creates the database wvsoft when missing and prints its URL.
use() {
  local base=$1 url
  psql "$base/postgres?sslmode=disable" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'wvsoft'" | grep -q 1 ||
    psql "$base/postgres?sslmode=disable" -qc "CREATE DATABASE wvsoft" >&2
  url="$base/wvsoft?sslmode=disable"
  echo "$url"
  exit 0
}

# 2. A server that already runs (WVSOFT_PRIVATE_PG=1 skips it and always uses a private cluster).
for user in postgres root "$(id -un)"; do
  [ -n "${WVSOFT_PRIVATE_PG:-}" ] && break
  if try_url "postgres://$user@127.0.0.1:5432/postgres?sslmode=disable"; then
    use "postgres://$user@127.0.0.1:5432"
  fi
  # The local socket: lib/pq reaches it through host=.
  socket="host=/var/run/postgresql&user=$user&sslmode=disable"
  if [ -S /var/run/postgresql/.s.PGSQL.5432 ] && try_url "postgres:///postgres?$socket"; then
    psql "postgres:///postgres?$socket" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'wvsoft'" | grep -q 1 ||
      psql "postgres:///postgres?$socket" -qc "CREATE DATABASE wvsoft" >&2
    echo "postgres:///wvsoft?$socket"
    exit 0
  fi
done

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return 0
  fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "no PostgreSQL found; installing Debian's postgresql package"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir=$(find_bindir)
  else
    say "no PostgreSQL found. Install it with:  sudo apt-get install -y postgresql"
    say "or set DATABASE_URL to a PostgreSQL you have."
    exit 1
  fi
fi

# 3. A private cluster under .data/postgres.
run_as=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  run_as=(runuser -u postgres --)
  owner=postgres
fi
mkdir -p "$data_dir"
if [ -n "${run_as[*]}" ]; then
  chown -R postgres "$data_dir"
  chmod 700 "$data_dir"
  chmod o+x "$(dirname "$data_dir")" # let the postgres user reach its directory, not list the others
fi
if [ ! -f "$data_dir/PG_VERSION" ]; then
  say "creating a private cluster in $data_dir"
  # initdb's closing advice ("you can now start the database server using pg_ctl ...") is not
  # for a user of `make run`, which starts it; its output is shown only when it fails.
  initdb_log=$(mktemp)
  if ! "${run_as[@]}" "$bindir/initdb" -D "$data_dir" -U "$owner" --auth=trust -E UTF8 >"$initdb_log" 2>&1; then
    cat "$initdb_log" >&2
    rm -f "$initdb_log"
    exit 1
  fi
  rm -f "$initdb_log"
fi
if ! "${run_as[@]}" "$bindir/pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
  say "starting the private cluster on 127.0.0.1:$private_port"
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w \
    -o "-p $private_port -k $data_dir -c listen_addresses=127.0.0.1" start >&2
fi
export PATH="$bindir:$PATH"
use "postgres://$owner@127.0.0.1:$private_port"
