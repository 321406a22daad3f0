#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for benchmarks, on 127.0.0.1 only.
#
# usage: benches/pg_cluster.sh start DIR [--fast]   prints the database URL (database newsriver)
#        benches/pg_cluster.sh stop DIR
#   --fast   fsync=off and synchronous_commit=off (the test suite's settings). Without it the
#            server keeps PostgreSQL's default durability, as a production server (and Miniflux's
#            benchmarks) would.
# Finds initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin; runs them as the postgres user
# when started as root. Debian: apt-get install postgresql.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
bin=$(dirname "$(realpath "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")")
[[ -x "$bin/initdb" ]] || { echo "pg_cluster: no initdb (apt-get install postgresql)" >&2; exit 2; }
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
start)
    fast=${3:-}
    mkdir -p "$dir"; dir=$(realpath "$dir")
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 > "$dir/initdb.log"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c shared_buffers=256MB"
    opts="$opts ${PG_OPTS:-}"   # e.g. PG_OPTS="-c shared_preload_libraries=pg_stat_statements"
    [[ "$fast" == --fast ]] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -o "$opts" start > /dev/null
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres newsriver
    echo "postgres://postgres@127.0.0.1:$port/newsriver?sslmode=disable"
    ;;
stop)
    [[ -d "$dir/data" ]] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop > /dev/null || true
    ;;
*) echo "pg_cluster: start or stop" >&2; exit 2 ;;
esac
