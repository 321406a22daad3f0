# W5 of benches/e2e.sh, sourced by it when W5 is selected: full-text ingest. 50 feeds × 20 items
# (mixed RSS/Atom/JSON Feed, no duplicates) whose items link to 1,000 article pages served on
# 127.0.0.1 as text/html; `poll` on a fresh store with `full_text = true`, then the same feeds
# without full text on another fresh store, for the ratio. Uses e2e.sh's variables and functions
# (WORK, GEN_FEEDS, LIB, NGINX, P_*, NR_PORT, BIN, TTL, PIDS, say, free_port, run_poll, record).
# See benches/README.md.

W5_FEEDS=50
W5_ITEMS=20

w5_prepare() {  # before the servers start: the feeds (in www/w5/), the pages, their server
    P_ART=$(free_port)
    while [[ $P_ART == "$P_FEEDS" || $P_ART == "$P_PLAIN" || $P_ART == "$P_STATIC" ]]; do P_ART=$(free_port); done
    say "W5: generating $W5_FEEDS feeds × $W5_ITEMS items and one article page per item ..."
    python3 "$GEN_FEEDS" --out "$WORK/gen5" --feeds "$W5_FEEDS" --items "$W5_ITEMS" --dup-frac 0 --seed 5 \
        --base-url "http://127.0.0.1:$P_FEEDS/w5" > "$WORK/gen5.log"
    python3 "$LIB" articles --feeds "$WORK/gen5/feeds" --feeds-out "$WORK/www/w5" --pages "$WORK/articles" \
        --base-url "http://127.0.0.1:$P_ART" --manifest "$WORK/w5.manifest.json" > "$WORK/w5.articles.log"
    if [[ -n "$NGINX" ]]; then
        # Pages have no extension: text/html by default_type, with validators like the feeds.
        W5_SERVER="server { listen 127.0.0.1:$P_ART reuseport; root $WORK/articles; default_type text/html;
    charset utf-8; location / { try_files \$uri =404; } }"
    else
        mkdir -p "$WORK/py"
        timeout "$TTL" python3 "$LIB" serve --root "$WORK/articles" --port "$P_ART" > "$WORK/py/articles.log" 2>&1 &
        PIDS+=($!)
    fi
}

w5_run() {
    local urls="$WORK/gen5/urls.txt" n=0 url files=() n_read n_failed n_pages
    local common=(--urls "$urls" --port "$NR_PORT" --source-prefix a --initial-items "$W5_ITEMS")
    python3 "$LIB" config "$WORK/w5.toml" --store "$WORK/store5" --full-text "${common[@]}"
    python3 "$LIB" config "$WORK/w5plain.toml" --store "$WORK/store5plain" "${common[@]}"
    if ! wait_http "http://127.0.0.1:$P_ART/robots.txt" 10; then
        say "W5: the article server did not start"; FAILED=1; return 0
    fi
    run_poll w5 "$WORK/w5.toml"
    run_poll w5plain "$WORK/w5plain.toml"
    "$BIN" --config "$WORK/w5.toml" sources --json > "$WORK/w5.sources.json" 2> "$WORK/w5.sources.err" || true
    # Untimed: a few pages of each kind read by `extract`, to check that the JSON-LD and the
    # text-pattern rules find what the pages say (byline, dates, photo credit, body).
    for url in $(python3 -c 'import json,sys; print(" ".join(s["url"] for s in json.load(open(sys.argv[1]))["samples"]))' "$WORK/w5.manifest.json"); do
        n=$((n + 1))
        timeout 30 "$BIN" --config "$WORK/w5.toml" extract --json "$url" > "$WORK/w5.extract$n.json" 2> "$WORK/w5.extract$n.err" || true
        files+=("$WORK/w5.extract$n.json")
    done
    python3 "$LIB" articles-check "$WORK/w5.manifest.json" "$WORK/w5.check.json" "${files[@]}" > /dev/null
    local kv=("poll=$WORK/w5.json" "plain=$WORK/w5plain.json" "manifest=$WORK/w5.manifest.json")
    record "W5" "${kv[@]}" "check=$WORK/w5.check.json" "sources=$WORK/w5.sources.json"
    record "W5 plain" "${kv[@]}"
    read -r n_read n_failed n_pages < <(python3 -c 'import json,sys; p, m = (json.load(open(f)) for f in sys.argv[1:]); print(p.get("articles_read", 0), p.get("articles_failed", 0), m["pages"])' "$WORK/w5.json" "$WORK/w5.manifest.json")
    if [[ $n_failed != 0 || $n_read != "$n_pages" ]]; then
        say "W5: $n_read of $n_pages article pages read, $n_failed failed (see $WORK/w5.sources.json)"; FAILED=1
    fi
}
