#!/usr/bin/env bash
# End-to-end benchmark of the release binary on 127.0.0.1: ingest (W1-W4), full-text ingest (W5),
# serving (W6), serving during ingest (W8), with --big start-up and memory on a large store (W9/W10).
# Prints one markdown table at the end and saves it to target/e2e/results.md. See benches/README.md.
#
# usage: benches/e2e.sh [--feeds N] [--quick] [--only W1,W2,...] [--big STORE_DIR] [--bin PATH]
#                       [--wrk-secs S] [--keep] [--postgres [--pg-fast] | --store-url URL]
#   --feeds N     feeds to generate (default 1000; 20 items each, 20 % cross-feed duplicates)
#   --quick       200 feeds and 3 s wrk runs (unless --feeds / --wrk-secs say otherwise)
#   --only LIST   run only these workloads (W1 W2 W4 W3 W5 W6 W8 W9 W1x); W2-W4 and W6 need W1's
#                 store, so they bring W1 along; W5 (50 feeds' 1,000 article pages) stands alone
#   --big DIR     also run W9/W10 and W6 (plain, gzip, 64 connections) on an existing store (a
#                 newsriver store dir, or a dir holding one as db/, like target/bench-stores/1000000);
#                 the store is COPIED to the work dir first (a start may rewrite it, e.g. re-route
#                 topics) unless --big-in-place
#   E2E_EVENT_WINDOW=800d: the generated items (dated from 2025-01-01) fall inside the event
#   window and are grouped into events, as live news is (default: they are only counted).
#   W6 runs each pair (newsriver, then nginx on the same bytes) E2E_W6_RUNS times (default 3, 1
#   with --quick) at E2E_W6_CONNS connections (default "64 256"), and reports the medians.
#   --w1-feeds N  also W1 at N feeds (e.g. 10000) in the same table: N feeds of their own under
#                 /large/ on the feed server, polled into a fresh store that is removed after (sled only)
#   --bin PATH    newsriver binary (default target/release/newsriver; this script never builds)
#   --keep        keep the work dir (default: removed, except its logs when a step failed)
#   --postgres    W1-W8 on PostgreSQL: a throwaway cluster (benches/pg_cluster.sh) in the work dir,
#                 default durability (fsync on) unless --pg-fast; --store-url URL uses an existing
#                 empty database instead. W1x (PostgreSQL only): W1 by 1, 2 and 3 `serve` instances
#                 sharing one fresh database each time (E2E_INSTANCES="1 2 3" to choose)
# Needs: python3, curl, /usr/bin/time (GNU), timeout; nginx (else a python server, noted in the
# table; E2E_SERVER=python forces that); wrk for W6/W8 (skipped without it). Every server binds 127.0.0.1 and is stopped on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The team's feed generator, read where it lives (never copied into the project).
GEN_FEEDS=${NEWSRIVER_GEN_FEEDS:-$HERE/../../shared/bench/gen_feeds.py}
ROOT=$(cd "$HERE/.." && pwd)
LIB="$HERE/e2e_lib.py"

FEEDS=""
QUICK=0
ONLY=""
BIG=""
BIG_IN_PLACE=0
BIN="$ROOT/target/release/newsriver"
WRK_SECS=""
KEEP=0
PG=0
PG_FAST=""
STORE_URL=""
W1_FEEDS=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --feeds) FEEDS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --only) ONLY=$2; shift 2 ;;
        --big) BIG=$2; shift 2 ;;
        --big-in-place) BIG_IN_PLACE=1; shift ;;
        --bin) BIN=$2; shift 2 ;;
        --w1-feeds) W1_FEEDS=$2; shift 2 ;;
        --wrk-secs) WRK_SECS=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --postgres) PG=1; shift ;;
        --pg-fast) PG_FAST=--fast; shift ;;
        --store-url) STORE_URL=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "e2e: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ $QUICK == 1 ]]; then FEEDS=${FEEDS:-200}; WRK_SECS=${WRK_SECS:-3}; fi
FEEDS=${FEEDS:-1000}
WRK_SECS=${WRK_SECS:-10}
ITEMS=20
NEW_PER_EPOCH=5
case "$FEEDS" in ''|*[!0-9]*) echo "e2e: --feeds needs a number" >&2; exit 2;; esac
case "$W1_FEEDS" in *[!0-9]*) echo "e2e: --w1-feeds needs a number" >&2; exit 2;; esac
[[ -x "$BIN" ]] || { echo "e2e: no executable $BIN; run: cargo build --release" >&2; exit 2; }
BIN=$(realpath "$BIN")
for tool in python3 curl timeout; do command -v "$tool" >/dev/null || { echo "e2e: needs $tool" >&2; exit 2; }; done
[[ -x /usr/bin/time ]] || { echo "e2e: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2; exit 2; }
HAVE_WRK=0; command -v wrk >/dev/null && HAVE_WRK=1
NGINX=$(command -v nginx || true); [[ -z "$NGINX" && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ "${E2E_SERVER:-}" == python ]] && NGINX=""   # force the python fallback (to test it)

want() {  # want W3 -> is W3 selected?
    [[ -z "$ONLY" ]] && return 0
    [[ ",${ONLY// /,}," == *",$1,"* ]]
}
# Dependencies: W2, W3, W4 and W6 run on W1's store; W3 and W4 come after W2.
if [[ -n "$ONLY" ]]; then
    for w in W2 W3 W4 W6 W1x; do want "$w" && ONLY="$ONLY,W1"; done
fi
RUN_W8=0; want W8 && RUN_W8=1
RUN_BIG=0; [[ -n "$BIG" ]] && RUN_BIG=1
if [[ -n "$ONLY" && -n "$BIG" ]] && ! want W9 && ! want W10; then RUN_BIG=0; fi

WORK=$(mktemp -d /tmp/newsriver-e2e.XXXXXX)
chmod 755 "$WORK"   # nginx workers run as an unprivileged user and must read www/ and static/
OUTDIR="$ROOT/target/e2e"
mkdir -p "$OUTDIR"
RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
TTL=7200   # every server we start is also bounded by `timeout` in case this script is killed
PIDS=()
FAILED=0
say() { echo "e2e: $*" >&2; }

stop_pid() {  # stop one process we started (SIGTERM, then SIGKILL after 10 s)
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    [[ $PG == 1 ]] && "$HERE/pg_cluster.sh" stop "$WORK/pg"
    if [[ $KEEP == 1 || $rc != 0 || $FAILED != 0 ]]; then
        say "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 "$LIB" free-port; }
wait_http() {  # wait_http URL SECONDS: until the URL answers (any status)
    local url=$1 limit=$2 i
    for i in $(seq 1 $((limit * 20))); do
        curl -s -o /dev/null -m 1 "$url" && return 0
        sleep 0.05
    done
    return 1
}
record() { python3 "$LIB" report "$RESULTS" "$@"; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
say "binary $BIN; $FEEDS feeds × $ITEMS items; wrk ${WRK_SECS}s; work dir $WORK"
P_FEEDS=$(free_port); P_PLAIN=$(free_port); P_STATIC=$(free_port)
while [[ $P_PLAIN == "$P_FEEDS" ]]; do P_PLAIN=$(free_port); done
while [[ $P_STATIC == "$P_FEEDS" || $P_STATIC == "$P_PLAIN" ]]; do P_STATIC=$(free_port); done

# ---------------------------------------------------------------------------------------------
# Feeds: epoch 0 (W1), epoch 1 with 5 new items per feed (W2-W4, W8). Served from $WORK/www.
gen() {  # gen EPOCH OUTDIR
    python3 "$GEN_FEEDS" --out "$2" --feeds "$FEEDS" --items "$ITEMS" --dup-frac 0.2 --seed 1 \
        --epoch "$1" --new-per-epoch "$NEW_PER_EPOCH" --base-url "http://127.0.0.1:$P_FEEDS" > "$2.log"
}
say "generating feeds ..."
gen 0 "$WORK/gen0"
gen 1 "$WORK/gen1"
mkdir -p "$WORK/www" "$WORK/static"
cp "$WORK"/gen0/feeds/* "$WORK/www/"
want W5 && { source "$HERE/e2e_w5.sh"; w5_prepare; }   # W5's feeds, pages and page server
ITEMS_TOTAL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"])' "$WORK/gen0/manifest.json")

# ---------------------------------------------------------------------------------------------
# Servers. nginx: $P_FEEDS = feeds with ETag/Last-Modified (304s); $P_PLAIN = the same files
# with no validators at all (always 200); $P_STATIC = a rendered channel as a static file with
# gzip_static. Without nginx: the same three roles by e2e_lib.py's threaded python server.
SERVER_KIND=nginx
if [[ -n "$NGINX" ]]; then
    mkdir -p "$WORK/nginx"
    cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  types { application/rss+xml xml rss; application/atom+xml atom; application/feed+json json; }
  default_type application/octet-stream;
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  open_file_cache max=20000 inactive=60s;
  open_file_cache_valid 1s;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  server {   # feeds, with validators: ETag + Last-Modified, 304 on If-None-Match/If-Modified-Since
    listen 127.0.0.1:$P_FEEDS reuseport;
    root $WORK/www;
    location / { try_files \$uri =404; }
  }
  server {   # the same feeds without validators: always 200, no ETag, no Last-Modified
    listen 127.0.0.1:$P_PLAIN reuseport;
    root $WORK/www;
    etag off;
    if_modified_since off;
    add_header Last-Modified "";
    location / { try_files \$uri =404; }
  }
  server {   # a channel rendered by newsriver, as a static file (+ .gz compressed once)
    listen 127.0.0.1:$P_STATIC reuseport;
    root $WORK/static;
    gzip_static on;
    location / { try_files \$uri =404; }
  }
  ${W5_SERVER:-}
}
EOF
    timeout "$TTL" "$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" > "$WORK/nginx/stdout.log" 2>&1 < /dev/null &
    PIDS+=($!)
else
    SERVER_KIND="python (nginx not installed)"
    say "nginx not found: serving with python (slower; W6's reference numbers are not nginx's)"
    mkdir -p "$WORK/py"
    timeout "$TTL" python3 "$LIB" serve --root "$WORK/www" --port "$P_FEEDS" > "$WORK/py/feeds.log" 2>&1 &
    PIDS+=($!)
    timeout "$TTL" python3 "$LIB" serve --root "$WORK/www" --port "$P_PLAIN" --no-validators > "$WORK/py/plain.log" 2>&1 &
    PIDS+=($!)
    timeout "$TTL" python3 "$LIB" serve --root "$WORK/static" --port "$P_STATIC" --gzip-static > "$WORK/py/static.log" 2>&1 &
    PIDS+=($!)
fi
FIRST_FEED=$(head -1 "$WORK/gen0/urls.txt")
wait_http "$FIRST_FEED" 10 || { say "feed server did not start"; cat "$WORK"/nginx/*.log "$WORK"/py/*.log 2>/dev/null >&2; exit 2; }
PLAIN_URL=${FIRST_FEED/:$P_FEEDS\//:$P_PLAIN/}
wait_http "$PLAIN_URL" 10 || { say "second feed server did not start"; exit 2; }
if curl -sI "$PLAIN_URL" | grep -qiE '^(etag|last-modified):'; then
    say "WARNING: the no-validator server still sends validators:"; curl -sI "$PLAIN_URL" >&2
fi

# ---------------------------------------------------------------------------------------------
# Configs. Source ids come from the file names (f000001 ...), the same for both servers.
NR_PORT=$(free_port)
STORE="$WORK/store"
if [[ $PG == 1 ]]; then
    say "starting a PostgreSQL cluster ${PG_FAST:+(fsync off) }..."
    STORE_URL=$("$HERE/pg_cluster.sh" start "$WORK/pg" $PG_FAST)
fi
STORE_KIND="sled"; [[ -n "$STORE_URL" ]] && STORE_KIND="PostgreSQL${PG_FAST:+ (fsync off)}"
store_bytes() {  # what the store takes: sled's folder, or the records table with its indexes
    if [[ -n "$STORE_URL" ]]; then
        psql -qtA "${STORE_URL%%\?*}" -c "select pg_total_relation_size('newsriver_records')" 2>/dev/null || echo 0
    else
        du -sb "$STORE" | cut -f1
    fi
}
python3 "$LIB" config "$WORK/poll.toml" --urls "$WORK/gen0/urls.txt" --store "$STORE" --store-url "$STORE_URL" --port "$NR_PORT"
python3 "$LIB" config "$WORK/poll-noval.toml" --urls "$WORK/gen0/urls.txt" --store "$STORE" --store-url "$STORE_URL" --port "$NR_PORT" \
    --port-map "$P_FEEDS:$P_PLAIN"
python3 "$LIB" config "$WORK/serve.toml" --urls "$WORK/gen0/urls.txt" --store "$STORE" --store-url "$STORE_URL" --port "$NR_PORT" --serve-only
"$BIN" --config "$WORK/poll.toml" check > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out" >&2; say "config rejected"; exit 2; }

run_poll() {  # run_poll NAME CONFIG: one `poll` under /usr/bin/time -v, parsed into NAME.json
    local name=$1 cfg=$2
    say "$name: poll ..."
    /usr/bin/time -v timeout -k 10 900 "$BIN" --config "$cfg" poll > "$WORK/$name.out" 2> "$WORK/$name.err" || {
        say "$name: poll failed, see $WORK/$name.err"; FAILED=1; }
    python3 "$LIB" poll "$WORK/$name.json" --stdout "$WORK/$name.out" --stderr "$WORK/$name.err" > /dev/null
}

if want W1; then
    # W1: first ingest on a fresh store.
    run_poll w1 "$WORK/poll.toml"
    if ! python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("ok", 0) > 0 else 1)' "$WORK/w1.json"; then
        say "W1: no feed was ingested; first lines of the poll output:"; head -3 "$WORK/w1.out" >&2
        tail -3 "$WORK"/nginx/error.log 2>/dev/null >&2 || true
        FAILED=1; exit 1
    fi
    record "W1" "poll=$WORK/w1.json" "feeds=$FEEDS" "items=$ITEMS_TOTAL" "store_bytes=$(store_bytes)"
fi

if want W2; then
    # W2: 5 new items per feed (new bytes, so nginx's ETag and Last-Modified change).
    cp "$WORK"/gen1/feeds/* "$WORK/www/"
    sleep 1.1   # open_file_cache_valid: let nginx see the new files
    run_poll w2 "$WORK/poll.toml"
    record "W2" "poll=$WORK/w2.json" "feeds=$FEEDS" "expect_new=$((FEEDS * NEW_PER_EPOCH))"
fi

if want W4; then
    # W4: nothing changed; the stored ETags get 304s.
    run_poll w4 "$WORK/poll.toml"
    record "W4" "poll=$WORK/w4.json" "feeds=$FEEDS"
fi

if want W3; then
    # W3: the same bytes from a server without validators (always 200). Same store, same source
    # ids, new URLs: a warm-up poll first (a new URL may be treated afresh), then the timed one.
    run_poll w3warm "$WORK/poll-noval.toml"
    run_poll w3 "$WORK/poll-noval.toml"
    record "W3" "poll=$WORK/w3.json" "warm=$WORK/w3warm.json" "feeds=$FEEDS"
fi

if [[ -n "$W1_FEEDS" ]] && want W1; then
    if [[ -n "$STORE_URL" ]]; then
        say "W1 at $W1_FEEDS feeds: sled only, skipped"
    else
        # W1 at a larger count: feeds of their own (the same generator, under /large/), a fresh
        # store, both removed after the row is recorded.
        say "generating $W1_FEEDS feeds for W1 ..."
        python3 "$GEN_FEEDS" --out "$WORK/genL" --feeds "$W1_FEEDS" --items "$ITEMS" --dup-frac 0.2 --seed 1 \
            --epoch 0 --new-per-epoch "$NEW_PER_EPOCH" --base-url "http://127.0.0.1:$P_FEEDS/large" > "$WORK/genL.log"
        mkdir -p "$WORK/www/large"
        find "$WORK/genL/feeds" -maxdepth 1 -type f -exec cp -t "$WORK/www/large/" {} +
        python3 "$LIB" config "$WORK/poll-large.toml" --urls "$WORK/genL/urls.txt" --store "$WORK/store-large" \
            --store-url "" --port "$NR_PORT"
        run_poll w1large "$WORK/poll-large.toml"
        LARGE_ITEMS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"])' "$WORK/genL/manifest.json")
        record "W1 $W1_FEEDS" "poll=$WORK/w1large.json" "feeds=$W1_FEEDS" "items=$LARGE_ITEMS" \
            "store_bytes=$(du -sb "$WORK/store-large" | cut -f1)"
        rm -rf "$WORK/store-large" "$WORK/www/large" "$WORK/genL"
    fi
fi

if want W1x && [[ $PG == 1 ]]; then
    # W1x: the first ingest shared by N serve instances on one fresh database: from their start
    # until the stored entries reach W1's count (every instance polls what it leases).
    for n in ${E2E_INSTANCES:-1 2 3}; do
        psql -qtA "${STORE_URL%%\?*}" -c "create database newsriver_x$n" > /dev/null
        URLX="${STORE_URL/\/newsriver?//newsriver_x$n?}"
        XPIDS=(); PORTS=()
        t0=$(date +%s.%N)
        for i in $(seq 1 "$n"); do
            port=$(free_port); PORTS+=("$port")
            python3 "$LIB" config "$WORK/x$n-$i.toml" --urls "$WORK/gen0/urls.txt" --store "$WORK/x$n-$i" \
                --store-url "$URLX" --port "$port" --instance "i$i" --every 1h
            RUST_LOG=${RUST_LOG:-warn} timeout "$TTL" "$BIN" --config "$WORK/x$n-$i.toml" serve > "$WORK/x$n-$i.out" 2> "$WORK/x$n-$i.err" &
            XPIDS+=($!); PIDS+=($!)
        done
        want_entries=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("new", 0))' "$WORK/w1.json" 2>/dev/null || echo "$ITEMS_TOTAL")
        got=0
        for _ in $(seq 1 6000); do   # every 0.1 s, at most 10 minutes
            got=$(curl -s -m 2 "http://127.0.0.1:${PORTS[0]}/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("entries", 0))' 2>/dev/null || echo 0)
            [[ "$got" -ge "$want_entries" ]] && break
            sleep 0.1
        done
        secs=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$t0")
        for p in "${XPIDS[@]}"; do stop_pid "$p"; done
        record "W1x$n" "what=first ingest by $n instance(s) on one database ($FEEDS feeds)" \
            "result=$secs s from start to $got of $want_entries entries stored · $(python3 -c "print(f'{$got/$secs:,.0f}')") items/s" \
            "note=serve processes started together, polling.every 1h, all due at once"
    done
fi

want W5 && w5_run   # full-text ingest, on stores of its own

start_serve() {  # start_serve NAME CONFIG: start `serve`, set SERVE_PID and SERVE_READY_S
    local name=$1 cfg=$2
    SERVE_T0=$(date +%s.%N)
    RUST_LOG=${RUST_LOG:-warn} timeout "$TTL" "$BIN" --config "$cfg" serve > "$WORK/$name.out" 2> "$WORK/$name.err" &
    SERVE_PID=$!
    PIDS+=($SERVE_PID)
    if ! wait_http "http://127.0.0.1:$NR_PORT/healthz" 120; then
        say "$name: newsriver did not answer; see $WORK/$name.err"; tail -5 "$WORK/$name.err" >&2; FAILED=1; return 1
    fi
    SERVE_READY_S=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$SERVE_T0")
}
run_wrk() {  # run_wrk NAME URL [HEADER]: wrk -t2 -c${CONNS:-32} --latency, parsed into NAME.json
    local name=$1 url=$2; shift 2
    local hdr=()
    [[ $# -gt 0 ]] && hdr=(-H "$1")
    say "wrk $name -c${CONNS:-32} ($url ${1:-})"
    timeout $((WRK_SECS + 30)) wrk -t2 -c"${CONNS:-32}" -d"${WRK_SECS}s" --latency "${hdr[@]}" "$url" > "$WORK/$name.wrk" 2>&1 || true
    python3 "$LIB" wrk "$WORK/$name.json" "$WORK/$name.wrk" > /dev/null
}

# W6's repeats: each figure is the median of this many runs (E2E_W6_RUNS; 1 with --quick), as one
# 5 s run on a 2-core machine moves by 10-20 % with whatever else runs.
W6_RUNS=${E2E_W6_RUNS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}
w6_pair() {  # w6_pair NAME CONNS URL REF_URL [HEADER [REF_HEADER]]: NAME_nr.json, NAME_ng.json
    local name=$1 conns=$2 url=$3 ref=$4 h=${5:-} rh=${6:-${5:-}} r nr=() ng=()
    # Newsriver then the reference, back to back, run after run: both see the same minutes.
    for r in $(seq 1 "$W6_RUNS"); do
        CONNS=$conns run_wrk "${name}_nr_$r" "$url" ${h:+"$h"}
        CONNS=$conns run_wrk "${name}_ng_$r" "$ref" ${rh:+"$rh"}
        nr+=("$WORK/${name}_nr_$r.json"); ng+=("$WORK/${name}_ng_$r.json")
    done
    python3 "$LIB" wrk-median "$WORK/${name}_nr.json" "${nr[@]}"
    python3 "$LIB" wrk-median "$WORK/${name}_ng.json" "${ng[@]}"
}

if want W6 && [[ $HAVE_WRK == 1 ]]; then
    # W6: a cached 100-item channel, newsriver vs nginx serving the very same bytes.
    start_serve w6serve "$WORK/serve.toml"
    CH="http://127.0.0.1:$NR_PORT/feeds/all.atom?limit=100"
    curl -s -D "$WORK/w6.headers" -o "$WORK/static/all.atom" "$CH"
    ETAG=$(grep -i '^etag:' "$WORK/w6.headers" | head -1 | cut -d' ' -f2- | tr -d '\r' || true)
    python3 "$LIB" gzip "$WORK/static/all.atom"
    BYTES=$(stat -c %s "$WORK/static/all.atom"); GZ_BYTES=$(stat -c %s "$WORK/static/all.atom.gz")
    NR_GZ=$(curl -s -H 'Accept-Encoding: gzip' -D - -o "$WORK/w6.nr.gz" "$CH" | grep -ci '^content-encoding: gzip' || true)
    NR_GZ_BYTES=$(stat -c %s "$WORK/w6.nr.gz")
    NR_304=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$CH")
    ST="http://127.0.0.1:$P_STATIC/all.atom"
    NG_ETAG=$(curl -sI "$ST" | grep -i '^etag:' | head -1 | cut -d' ' -f2- | tr -d '\r' || true)
    NG_GZ=$(curl -s -H 'Accept-Encoding: gzip' -D - -o /dev/null "$ST" | grep -ci '^content-encoding: gzip' || true)
    REF=${SERVER_KIND%% *}
    for CONNS in ${E2E_W6_CONNS:-64 256}; do
        w6_pair "w6_plain_$CONNS" "$CONNS" "$CH" "$ST"
        w6_pair "w6_gzip_$CONNS" "$CONNS" "$CH" "$ST" 'Accept-Encoding: gzip'
        record "W6 plain c$CONNS" "what=cached 100-item all.atom, $BYTES bytes, full body" \
            "newsriver=$WORK/w6_plain_${CONNS}_nr.json" "nginx=$WORK/w6_plain_${CONNS}_ng.json" "ref=$REF" \
            "note=the ingest runs' store, polling off, wrk -t2 -c$CONNS -d${WRK_SECS}s"
        record "W6 gzip c$CONNS" "what=same, Accept-Encoding: gzip (newsriver $NR_GZ_BYTES B; $REF gzip_static $GZ_BYTES B)" \
            "newsriver=$WORK/w6_gzip_${CONNS}_nr.json" "nginx=$WORK/w6_gzip_${CONNS}_ng.json" "ref=$REF" \
            "note=gzip answered: newsriver $([[ $NR_GZ -ge 1 ]] && echo yes || echo NO), $REF $([[ $NG_GZ -ge 1 ]] && echo yes || echo NO)"
    done
    w6_pair w6_304 64 "$CH" "$ST" "If-None-Match: $ETAG" "If-None-Match: $NG_ETAG"
    record "W6 304 c64" "what=same, If-None-Match of the current ETag" \
        "newsriver=$WORK/w6_304_nr.json" "nginx=$WORK/w6_304_ng.json" "ref=$REF" \
        "note=newsriver answered $NR_304 to a single check"
    stop_pid "$SERVE_PID"
elif want W6; then
    record "W6" "what=serving" "result=skipped: wrk not installed (apt-get install wrk)"
fi

if [[ $RUN_W8 == 1 && $HAVE_WRK == 1 ]]; then
    # W8: serving while the first ingest of every feed runs (fresh store, polling on).
    STORE8="$WORK/store8"
    URL8=""
    if [[ -n "$STORE_URL" ]]; then   # a fresh database beside W1's
        psql -qtA "${STORE_URL%%\?*}" -c "create database newsriver_w8" > /dev/null
        URL8="${STORE_URL/\/newsriver?//newsriver_w8?}"
    fi
    python3 "$LIB" config "$WORK/w8.toml" --urls "$WORK/gen0/urls.txt" --store "$STORE8" --store-url "$URL8" --port "$NR_PORT" --every 1h
    start_serve w8serve "$WORK/w8.toml"
    CH="http://127.0.0.1:$NR_PORT/feeds/all.atom?limit=100"
    polls_done() {
        curl -s -m 2 "http://127.0.0.1:$NR_PORT/metrics" \
            | awk '/^newsriver_polls_total/ {s += $2} END {print s + 0}'
    }
    CONNS=64 run_wrk w8 "$CH"
    DONE_AFTER=$(polls_done)
    curl -s -m 2 "http://127.0.0.1:$NR_PORT/metrics" > "$WORK/w8.metrics" || true
    W8_REQS=$(awk '/^newsriver_channel_requests_total/ {print $2}' "$WORK/w8.metrics")
    W8_HITS=$(awk '/^newsriver_channel_cache_hits_total/ {print $2}' "$WORK/w8.metrics")
    # Then wait (bounded) for the ingest to finish, to say how long it took while serving.
    T_END=""
    for _ in $(seq 1 600); do
        [[ $(polls_done) -ge $FEEDS ]] && { T_END=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$SERVE_T0"); break; }
        sleep 0.5
    done
    IDLE="$WORK/w6_plain_64_nr.json"   # W6 plain at the same 64 connections
    record "W8" "what=all.atom?limit=100 during the first ${WRK_SECS}s of serve's first ingest ($FEEDS feeds)" \
        "wrk=$WORK/w8.json" "idle=$IDLE" \
        "note=listening after ${SERVE_READY_S}s; $DONE_AFTER/$FEEDS polls done when wrk ended; render cache hits ${W8_HITS:-?} of ${W8_REQS:-?} channel requests; all polled ${T_END:-(not within 300 s)}s after start"
    stop_pid "$SERVE_PID"
elif [[ $RUN_W8 == 1 ]]; then
    record "W8" "what=serving during ingest" "result=skipped: wrk not installed"
fi

if [[ $RUN_BIG == 1 ]]; then
    # W9/W10: a large existing store: memory after start + 10 channel requests, disk size, and
    # time from process start to the first 200 on /feeds/all.atom (first start, then a restart).
    SRC="$BIG"
    [[ -d "$SRC/db" && ! -f "$SRC/conf" ]] && SRC="$SRC/db"   # target/bench-stores/N layout
    [[ -f "$SRC/conf" ]] || { say "--big $BIG: no sled store there"; exit 2; }
    if [[ $BIG_IN_PLACE == 1 ]]; then
        BIGSTORE=$(realpath "$SRC")
    else
        say "copying $SRC to the work dir ($(du -sh "$SRC" | cut -f1)) ..."
        cp -a "$SRC" "$WORK/big"
        # On disk before the clock starts, as a bulk load that closed its store leaves it: else
        # the first start's own flush waits for the copy's 2 GB of dirty pages to be written.
        sync
        BIGSTORE="$WORK/big"
    fi
    DISK=$(du -sb "$BIGSTORE" | cut -f1)
    # The store's own sources need not be configured: the merged channel shows every entry.
    python3 "$LIB" config "$WORK/big.toml" --urls "$WORK/gen0/urls.txt" --store "$BIGSTORE" --port "$NR_PORT" --serve-only
    big_start() {  # big_start NAME: BIG_T = seconds from exec to the first 200 on all.atom
        local name=$1 t0 code i
        t0=$(date +%s.%N)
        RUST_LOG=${RUST_LOG:-warn,newsriver::app=info} timeout "$TTL" "$BIN" --config "$WORK/big.toml" serve > "$WORK/$name.out" 2> "$WORK/$name.err" &
        SERVE_PID=$!
        PIDS+=($SERVE_PID)
        for i in $(seq 1 60000); do   # every 10 ms, at most 10 minutes
            code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$NR_PORT/feeds/all.atom" || true)
            [[ $code == 200 ]] && break
            kill -0 "$SERVE_PID" 2>/dev/null || { say "$name: newsriver exited; see $WORK/$name.err"; FAILED=1; BIG_T="?"; return; }
            sleep 0.01
        done
        BIG_T=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$t0")
    }
    big_start big1; T1=$BIG_T
    for i in $(seq 1 10); do curl -s -o /dev/null "http://127.0.0.1:$NR_PORT/feeds/all.atom?limit=100&x=$i" || true; done
    for f in rss json; do curl -s -o /dev/null "http://127.0.0.1:$NR_PORT/feeds/all.$f?limit=100" || true; done
    RSS1=$(ps -o rss= -p "$(pgrep -P "$SERVE_PID" | head -1)" 2>/dev/null || echo 0)
    SHOWN=$(curl -s "http://127.0.0.1:$NR_PORT/feeds/all.atom?limit=100" | grep -o '<entry>' | wc -l || true)
    ENTRIES=$(curl -s "http://127.0.0.1:$NR_PORT/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("entries","?"))' 2>/dev/null || echo "?")
    # A store built by another config (the bench builder's) is re-routed once, in the background;
    # let it finish, so that the restart below (and W6 on it) is a plain restart.
    if grep -q 're-routing stored entries' "$WORK/big1.err"; then
        for i in $(seq 1 600); do grep -q 're-routed stored entries' "$WORK/big1.err" && break; sleep 0.2; done
    fi
    stop_pid "$SERVE_PID"
    big_start big2; T2=$BIG_T
    for i in $(seq 1 10); do curl -s -o /dev/null "http://127.0.0.1:$NR_PORT/feeds/all.atom?limit=100&x=$i" || true; done
    RSS2=$(ps -o rss= -p "$(pgrep -P "$SERVE_PID" | head -1)" 2>/dev/null || echo 0)
    if [[ $HAVE_WRK == 1 ]]; then
        # W6 on the large store, on the restart (the first start's re-routing, if any, is done): a
        # cached body must cost no store read, whatever the store's size.
        BIG_CH="http://127.0.0.1:$NR_PORT/feeds/all.atom?limit=100"
        curl -s -o "$WORK/static/big.atom" "$BIG_CH"
        python3 "$LIB" gzip "$WORK/static/big.atom"
        BIG_ST="http://127.0.0.1:$P_STATIC/big.atom"
        w6_pair big_plain 64 "$BIG_CH" "$BIG_ST"
        w6_pair big_gzip 64 "$BIG_CH" "$BIG_ST" 'Accept-Encoding: gzip'
        REF=${SERVER_KIND%% *}
        record "W6 1M plain c64" "what=W6 on the large store ($ENTRIES entries), all.atom?limit=100, $(stat -c %s "$WORK/static/big.atom") bytes" \
            "newsriver=$WORK/big_plain_nr.json" "nginx=$WORK/big_plain_ng.json" "ref=$REF" "note=wrk -t2 -c64 -d${WRK_SECS}s"
        record "W6 1M gzip c64" "what=same, Accept-Encoding: gzip" \
            "newsriver=$WORK/big_gzip_nr.json" "nginx=$WORK/big_gzip_ng.json" "ref=$REF"
    fi
    stop_pid "$SERVE_PID"
    record "W9" "what=large store ($ENTRIES entries): memory and disk" \
        "result=RSS $((RSS1 / 1024)) MiB after start + 10 channel requests (restart: $((RSS2 / 1024)) MiB) · store $(python3 -c "print(f'{$DISK/1e9:.2f}')") GB on disk" \
        "note=$([[ $BIG_IN_PLACE == 1 ]] && echo "in place: $BIGSTORE" || echo "copy of $SRC"); all.atom?limit=100 had $SHOWN entries"
    record "W10" "what=large store: process start to first 200 on /feeds/all.atom" \
        "result=first start ${T1} s · restart ${T2} s" \
        "note=a first start re-routes every entry in the background when the store's topic rules differ from the config's ($(grep -q 're-routing stored entries' "$WORK/big1.err" && echo "it did here" || echo "not here")); the restart does not"
fi

python3 "$LIB" table "$RESULTS" "$WORK/table.md" > /dev/null
{
    echo "newsriver e2e, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average before the run $LOAD0, feeds served by $SERVER_KIND, store $STORE_KIND, $FEEDS feeds × $ITEMS items (20 % duplicates), binary $(realpath --relative-to="$ROOT" "$BIN" 2>/dev/null || echo "$BIN")"
    echo
    cat "$WORK/table.md"
} > "$OUTDIR/results.md"
echo
cat "$OUTDIR/results.md"
say "saved to $OUTDIR/results.md"
if [[ $KEEP == 1 || $FAILED != 0 ]]; then cp "$RESULTS" "$OUTDIR/results.jsonl"; fi
exit "$FAILED"
