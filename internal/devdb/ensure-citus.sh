#!/usr/bin/env bash
# Starts a Citus cluster on loopback for the tests: a coordinator and two workers, each its own
# PostgreSQL instance under .data/citus (WVSOFT_CITUS_DATA moves it), on 127.0.0.1 ports 9700,
# 9701 and 9702 (WVSOFT_CITUS_PORT moves the first; the workers take the next two), trust
# authentication on loopback only. Prints the coordinator's owner URL (database postgres, with
# the extension and the workers registered) on stdout; everything else goes to stderr.
#
# It needs Citus installed into the machine's PostgreSQL (citus.so in `pg_config --pkglibdir`);
# without it, it prints how to install it and fails. Citus keeps its metadata per database: each
# test database gets the extension on every node and the workers registered (internal/pgtest).
#
#   ensure-citus.sh          start (or find running) and print the URL
#   ensure-citus.sh stop     stop the three instances
set -euo pipefail

say() { echo "ensure-citus: $*" >&2; }
root_dir=$(cd "$(dirname "$0")/../.." && pwd)
data_dir="${WVSOFT_CITUS_DATA:-$root_dir/.data/citus}"
coord_port="${WVSOFT_CITUS_PORT:-9700}"
ports=("$coord_port" "$((coord_port + 1))" "$((coord_port + 2))")
nodes=(coordinator worker1 worker2)

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
  say "no PostgreSQL found. Install it with:  sudo apt-get install -y postgresql"
  exit 1
fi

run_as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  run_as=(runuser -u postgres --)
fi

if [ "${1:-}" = stop ]; then
  for n in "${nodes[@]}"; do
    if [ -f "$data_dir/$n/postmaster.pid" ]; then
      "${run_as[@]}" "$bindir/pg_ctl" -D "$data_dir/$n" -m fast -w stop >/dev/null && say "stopped $n"
    fi
  done
  exit 0
fi

pkglibdir=$("$bindir/pg_config" --pkglibdir 2>/dev/null || echo "$(dirname "$bindir")/lib")
if [ ! -f "$pkglibdir/citus.so" ]; then
  major=$("$bindir/pg_config" --version 2>/dev/null | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
  say "Citus is not installed into this PostgreSQL ($pkglibdir has no citus.so)."
  say "Install it from Citus's own packages (https://docs.citusdata.com/en/stable/installation/single_node_debian.html):"
  say "  curl https://install.citusdata.com/community/deb.sh | sudo bash"
  say "  sudo apt-get install -y postgresql-${major:-15}-citus-13.2"
  say "then run make test-citus again."
  exit 1
fi

psql_at() { # PORT DB SQL
  PGOPTIONS='-c client_min_messages=warning' "$bindir/psql" -X -q -v ON_ERROR_STOP=1 \
    "postgres://postgres@127.0.0.1:$1/$2?sslmode=disable" -Atc "$3"
}

mkdir -p "$data_dir"
if [ -n "${run_as[*]}" ]; then
  chown postgres "$data_dir"
  chmod 700 "$data_dir"
  chmod o+x "$(dirname "$data_dir")" # let the postgres user reach its directory, not list the others
fi
for i in 0 1 2; do
  n=${nodes[$i]} d="$data_dir/${nodes[$i]}"
  if [ ! -f "$d/PG_VERSION" ]; then
    say "creating $n in $d"
    log=$(mktemp)
    if ! "${run_as[@]}" "$bindir/initdb" -D "$d" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"; exit 1
    fi
    rm -f "$log"
    # max_prepared_transactions: Citus commits a transaction over several nodes in two phases.
    "${run_as[@]}" tee -a "$d/postgresql.conf" >/dev/null <<CONF
# ensure-citus.sh
port = ${ports[$i]}
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d'
shared_preload_libraries = 'citus'
max_connections = 400
max_prepared_transactions = 400
# Citus runs a maintenance worker per database (the tests make many).
max_worker_processes = 128
wal_level = logical
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' | "${run_as[@]}" tee "$d/pg_hba.conf" >/dev/null
  fi
  if ! "${run_as[@]}" "$bindir/pg_ctl" -D "$d" status >/dev/null 2>&1; then
    say "starting $n on 127.0.0.1:${ports[$i]}"
    "${run_as[@]}" "$bindir/pg_ctl" -D "$d" -l "$d/server.log" -w start >&2
  fi
done

# The extension on every node's postgres database, the workers registered in the coordinator's.
for p in "${ports[@]}"; do
  psql_at "$p" postgres "CREATE EXTENSION IF NOT EXISTS citus" >&2
done
psql_at "$coord_port" postgres "SELECT citus_set_coordinator_host('127.0.0.1', $coord_port)" >/dev/null
for p in "${ports[@]:1}"; do
  psql_at "$coord_port" postgres "SELECT citus_add_node('127.0.0.1', $p) WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodeport = $p)" >/dev/null
done
echo "postgres://postgres@127.0.0.1:$coord_port/postgres?sslmode=disable"
