#!/usr/bin/env python3
"""Serve the feeds written by ../shared/bench/gen_feeds.py on 127.0.0.1, with a deterministic fraction
of them misbehaving, for the "1,000 feeds, 10% misbehave" fleet run (see README.md here).

Usage:
  fleet_server.py --dir FEEDS_DIR --port P [--bad-frac 0.1] [--seed 1] [--ttl 1800]

FEEDS_DIR is gen_feeds.py's --out directory (feed files in FEEDS_DIR/feeds/, served at
http://127.0.0.1:P/<file name>, the layout gen_feeds' --base-url assumes); a directory holding
the feed files directly works too.

Exactly round(bad_frac * N) feeds misbehave: the feeds are ranked by sha256(seed + ":" + file
name) and the first ones are bad, getting the kinds of KINDS round-robin in that rank order.
The plan (every feed's source id, url path and behaviour, with the expected outcome) is written
to FEEDS_DIR/fleet_plan.json before the server accepts connections, and served at GET /__plan.
GET /__stats returns request counts per behaviour kind and connection figures.

Standard library only. One asyncio event loop: slow and dripping connections cost a sleeping
coroutine each and never block others. Exits after --ttl seconds, or on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import email.utils
import hashlib
import json
import os
import signal
import sys
import time
import zlib

from fleet_behaviours import Behaviours
from fleet_common import CHAIN_HOPS, CHAIN_PREFIX, LOOP_PREFIX, log

# Order matters: with few bad feeds (N=100 -> 10) only the first kinds are used.
KINDS = [
    "slow_drip",  # 200 + headers, then 1 byte per second forever
    "slow_headers",  # accept and read the request, then send nothing for 120 s
    "http_500",
    "http_503_retry_after",  # Retry-After: 120
    "http_429_retry_after",  # Retry-After: <HTTP date ~5 minutes ahead>
    "redirect_loop",  # /f -> 302 /__loop/b/f -> 302 /f -> ...
    "redirect_chain_long",  # 20 hops of 301, then the real feed
    "garbage",  # random binary bytes as application/rss+xml
    "html_page",  # an HTML home page as text/html
    "truncated_xml",  # the first half of the real feed
    "http_404",
    "http_410",
    "gzip_bomb",  # Content-Encoding: gzip, ~1 MB that inflates to 1 GiB of zeros
    "huge_body",  # endless valid-looking RSS, no Content-Length, connection close
    "reset",  # read the request, then close with RST
    "wrong_content_type_ok",  # a GOOD feed served as text/plain: must be ingested
]
GOOD_KINDS = {"good", "wrong_content_type_ok"}

# What a failure reason should say for each bad kind (regex, case-insensitive); the checker
# uses these only to report whether a reason fits, not to pass or fail the run.
EXPECT_REASON = {
    "slow_drip": r"time|timed out|deadline",
    "slow_headers": r"time|timed out|deadline",
    "http_500": r"\b500\b",
    "http_503_retry_after": r"\b503\b",
    "http_429_retry_after": r"\b429\b",
    "redirect_loop": r"redirect",
    "redirect_chain_long": r"redirect",
    "garbage": r"not a feed|pars|invalid|syntax|xml|encoding|utf",
    "html_page": r"html",
    "truncated_xml": r"not a feed|pars|eof|end|unexpected|unclosed|xml|truncat",
    "http_404": r"\b404\b",
    "http_410": r"\b410\b",
    "gzip_bomb": r"larger|limit|too large|size",
    "huge_body": r"larger|limit|too large|size",
    "reset": r"reset|closed|connection|eof|incomplete",
}

CONTENT_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
}

REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found",
    410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error",
    503: "Service Unavailable",
}

BOMB_BYTES = 1 << 30


def count_items(name, data):
    if name.endswith(".json"):
        try:
            return len(json.loads(data).get("items", []))
        except ValueError:
            return None
    if name.endswith(".atom"):
        return data.count(b"<entry>") + data.count(b"<entry ")
    return data.count(b"<item>") + data.count(b"<item ")


class Feed:
    __slots__ = ("index", "id", "name", "path", "data", "ctype", "etag", "mtime", "last_modified",
                 "kind", "items", "rank")


def build_plan(feed_dir, bad_frac, seed):
    names = sorted(
        n for n in os.listdir(feed_dir)
        if os.path.splitext(n)[1] in CONTENT_TYPES and os.path.isfile(os.path.join(feed_dir, n))
    )
    if not names:
        sys.exit(f"fleet_server: no feed files (.xml/.atom/.json) in {feed_dir}")
    n = len(names)
    width = max(4, len(str(n)))
    feeds = []
    for i, name in enumerate(names, 1):
        f = Feed()
        f.index = i
        f.id = f"f{i:0{width}d}"
        f.name = name
        f.path = "/" + name
        with open(os.path.join(feed_dir, name), "rb") as fh:
            f.data = fh.read()
        f.ctype = CONTENT_TYPES[os.path.splitext(name)[1]]
        f.etag = '"' + hashlib.sha256(f.data).hexdigest()[:20] + '"'
        f.mtime = int(os.stat(os.path.join(feed_dir, name)).st_mtime)
        f.last_modified = email.utils.formatdate(f.mtime, usegmt=True)
        f.items = count_items(name, f.data)
        f.rank = hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()
        f.kind = "good"
        feeds.append(f)
    n_bad = int(round(bad_frac * n))  # Python rounds half to even; fine for 0.1*N
    ranked = sorted(feeds, key=lambda f: f.rank)
    for j, f in enumerate(ranked[:n_bad]):
        f.kind = KINDS[j % len(KINDS)]
    return feeds


def plan_json(feeds, args, port):
    by_kind = {}
    for f in feeds:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
    return {
        "seed": args.seed,
        "bad_frac": args.bad_frac,
        "feeds": len(feeds),
        "bad": sum(1 for f in feeds if f.kind != "good"),
        "base_url": f"http://127.0.0.1:{port}",
        "kinds": KINDS,
        "good_kinds": sorted(GOOD_KINDS),
        "by_kind": by_kind,
        "expect_reason": EXPECT_REASON,
        "sources": [
            {
                "id": f.id,
                "file": f.name,
                "path": f.path,
                "url": f"http://127.0.0.1:{port}{f.path}",
                "behaviour": f.kind,
                "expect": "ok" if f.kind in GOOD_KINDS else "fail",
                "items": f.items,
            }
            for f in feeds
        ],
    }


def build_gzip_bomb():
    t = time.monotonic()
    c = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = bytes(1 << 20)
    parts = [c.compress(zeros) for _ in range(BOMB_BYTES >> 20)]
    parts.append(c.flush())
    bomb = b"".join(parts)
    log(f"gzip bomb: {len(bomb)} bytes -> {BOMB_BYTES} bytes inflated ({time.monotonic() - t:.1f}s)")
    return bomb


class Server(Behaviours):
    def __init__(self, feeds, plan, bomb, seed):
        self.by_path = {f.path: f for f in feeds}
        self.by_name = {f.name: f for f in feeds}
        self.plan_bytes = json.dumps(plan, indent=1).encode()
        self.bomb = bomb
        self.seed = seed
        self.requests = {}  # kind -> requests
        self.open_conns = 0
        self.peak_conns = 0
        self.total_conns = 0
        self.client_gone = {}  # kind -> times the client hung up on an endless/slow response
        self.started = time.time()

    def stats(self, asking=0):
        return {
            "uptime_s": round(time.time() - self.started, 1),
            "requests": self.requests,
            "client_gone": self.client_gone,
            "open_connections": self.open_conns - asking,  # not counting the asker
            "peak_connections": self.peak_conns,
            "total_connections": self.total_conns,
        }

    def bump(self, d, k):
        d[k] = d.get(k, 0) + 1

    # ---- HTTP plumbing -------------------------------------------------------------------
    @staticmethod
    def head(status, headers):
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        lines.append("Server: fleet_server.py")
        lines.append("Date: " + email.utils.formatdate(usegmt=True))
        lines.extend(f"{k}: {v}" for k, v in headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(self, w, status, headers, body=b"", keep=True, head_only=False):
        headers = list(headers) + [("Content-Length", str(len(body)))]
        if not keep:
            headers.append(("Connection", "close"))
        w.write(self.head(status, headers))
        if body and not head_only:
            w.write(body)
        await w.drain()
        return keep

    @staticmethod
    async def read_request(r):
        try:
            raw = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 60)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError):
            return None
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return None
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return method, target, version, headers

    async def handle(self, r, w):
        self.open_conns += 1
        self.total_conns += 1
        self.peak_conns = max(self.peak_conns, self.open_conns)
        try:
            while True:
                req = await self.read_request(r)
                if req is None:
                    break
                method, target, version, headers = req
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                keep = await self.dispatch(r, w, method, target, headers, keep)
                if not keep:
                    break
        except (ConnectionError, BrokenPipeError, OSError):
            pass
        finally:
            self.open_conns -= 1
            try:
                w.close()
            except Exception:
                pass

    # ---- routing -------------------------------------------------------------------------
    async def dispatch(self, r, w, method, target, headers, keep):
        path = target.split("?", 1)[0]
        host = headers.get("host", "127.0.0.1")
        head_only = method == "HEAD"
        if path == "/__plan":
            return await self.send(w, 200, [("Content-Type", "application/json")], self.plan_bytes, keep)
        if path == "/__stats":
            body = json.dumps(self.stats(asking=1), indent=1).encode()
            return await self.send(w, 200, [("Content-Type", "application/json")], body, keep)
        if path.startswith(LOOP_PREFIX):
            f = self.by_name.get(path[len(LOOP_PREFIX):])
            if f is None or f.kind != "redirect_loop":
                return await self.not_found(w, keep)
            self.bump(self.requests, f.kind)
            return await self.send(w, 302, [("Location", f"http://{host}{f.path}")], b"", keep)
        if path.startswith(CHAIN_PREFIX):
            hop, _, name = path[len(CHAIN_PREFIX):].partition("/")
            f = self.by_name.get(name)
            if f is None or f.kind != "redirect_chain_long" or not hop.isdigit():
                return await self.not_found(w, keep)
            self.bump(self.requests, f.kind)
            hop = int(hop)
            if hop < CHAIN_HOPS:
                loc = f"http://{host}{CHAIN_PREFIX}{hop + 1}/{f.name}"
                return await self.send(w, 301, [("Location", loc)], b"", keep)
            return await self.good(w, f, headers, keep, head_only)
        f = self.by_path.get(path)
        if f is None:
            return await self.not_found(w, keep)
        self.bump(self.requests, f.kind)
        return await getattr(self, "b_" + f.kind)(r, w, f, headers, keep, head_only, host)

    async def not_found(self, w, keep):
        self.bump(self.requests, "unknown_path")
        return await self.send(w, 404, [("Content-Type", "text/plain")], b"no such path\n", keep)

    async def good(self, w, f, headers, keep, head_only, ctype=None):
        validators = [("ETag", f.etag), ("Last-Modified", f.last_modified)]
        inm = headers.get("if-none-match")
        ims = headers.get("if-modified-since")
        not_modified = False
        if inm is not None:
            not_modified = f.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims is not None:
            try:
                not_modified = email.utils.parsedate_to_datetime(ims).timestamp() >= f.mtime
            except (TypeError, ValueError):
                pass
        if not_modified:
            w.write(self.head(304, validators + ([] if keep else [("Connection", "close")])))
            await w.drain()
            return keep
        hdrs = [("Content-Type", ctype or f.ctype)] + validators
        return await self.send(w, 200, hdrs, f.data, keep, head_only)

    @staticmethod
    def watch_peer(r):
        """A task that finishes when the client closes its side (or sends anything)."""
        return asyncio.ensure_future(r.read(1))

    def gone(self, kind):
        self.bump(self.client_gone, kind)

async def main_async(args):
    d = args.dir
    feed_dir = os.path.join(d, "feeds") if os.path.isdir(os.path.join(d, "feeds")) else d
    feeds = build_plan(feed_dir, args.bad_frac, args.seed)
    plan = plan_json(feeds, args, args.port)
    bomb = build_gzip_bomb() if any(f.kind == "gzip_bomb" for f in feeds) else b""
    srv = Server(feeds, plan, bomb, args.seed)
    server = await asyncio.start_server(srv.handle, "127.0.0.1", args.port, backlog=2048,
                                        reuse_address=True, limit=64 * 1024)
    plan_path = os.path.join(d, "fleet_plan.json")
    tmp = plan_path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(srv.plan_bytes)
    os.replace(tmp, plan_path)
    log(f"serving {len(feeds)} feeds from {feed_dir} on http://127.0.0.1:{args.port}/ "
        f"({plan['bad']} misbehave: {plan['by_kind']}); plan in {plan_path}; ttl {args.ttl}s")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.ttl)
        log("signal: stopping")
    except asyncio.TimeoutError:
        log("ttl reached: stopping")
    server.close()
    log("stats: " + json.dumps(srv.stats()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="gen_feeds.py --out directory (or a dir of feed files)")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bad-frac", type=float, default=0.1)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--ttl", type=float, default=1800, help="exit after this many seconds")
    args = ap.parse_args()
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass
    # Hung connections (slow_headers) may still hold tasks; exit regardless.
    os._exit(0)


if __name__ == "__main__":
    main()
