#!/usr/bin/env python3
# Copied from the team's ../shared/bench/gen_feeds.py (only these two comment lines added) so that `cargo test`
# needs nothing outside this repository; keep it in step with that file.
"""Generate N synthetic newsroom feeds (RSS 2.0 / Atom 1.0 / JSON Feed 1.1) with
M items each, deterministic by --seed, with a controlled fraction of cross-feed
duplicate stories. Standard library only.

Each feed f has an endless item sequence i = 0, 1, 2, ...; the file written for
--epoch E holds items [E*K, E*K + M) (K = --new-per-epoch, newest first), so
regenerating with E+1 simulates a re-poll where K items are new and M-K were
already seen.

An item (f, i) is a duplicate with probability --dup-frac (decided by a hash of
seed, f, i). A duplicate reuses the story of an original item (g, j) of another
feed g != f, j close to i, in one of two ways (--dup-mix):
  link    : same canonical URL plus tracking parameters (utm_*, fbclid, ...),
            possibly http/https, host-case or #fragment variation, own guid,
            title with an outlet suffix, own shorter teaser instead of the
            body  -> only URL canonicalisation catches it
  content : same title and body, own URL on the republishing outlet's domain,
            own guid        -> only title/body (content) hashing catches it
manifest.json records the exact counts (items, originals, duplicates of each
kind, distinct stories) for the generated window, so dedup accuracy can be
checked: `distinct_stories` is the true number of stories; `key_linked_groups`
is the best any deduplicator that links items only through a shared canonical
URL or identical body can reach (a link-duplicate and a content-duplicate of a
story whose original lies outside the window share neither key). A streaming
first-seen deduplicator lands at or slightly above `key_linked_groups`.

Outputs (under --out):
  feeds/feed-000001.{xml,atom,json}   one file per feed
  urls.txt                            one URL per feed (newsboat format)
  feeds.opml                          OPML 2.0 subscription list (Miniflux import)
  manifest.json                       parameters + ground-truth counts

Example:
  python3 gen_feeds.py --out /tmp/feeds500 --feeds 500 --items 20 \
      --dup-frac 0.2 --seed 1 --base-url http://127.0.0.1:18080
"""
import argparse
import hashlib
import json
import os
import struct
import sys
from datetime import datetime, timezone
from xml.sax.saxutils import escape

MAX_FEEDS = 200_000
MAX_ITEMS = 10_000

WORDS = (
    "government minister council budget election court police storm market shares "
    "energy climate health hospital school university city region county river "
    "bridge railway airport port team match final league coach player season "
    "company startup investors profits workers strike union protest report study "
    "scientists researchers space mission launch satellite museum festival film "
    "music album artist award ceremony summit talks treaty border security army "
    "ceasefire refugees aid drought flood wildfire earthquake vaccine virus data "
    "privacy software chip phone network outage price inflation rates bank loan "
    "housing rent farmers harvest exports imports tariff deal merger lawsuit judge "
    "verdict appeal senate parliament mayor governor president opposition poll"
).split()
TOPICS = ["politics", "business", "technology", "sports", "world", "science",
          "health", "culture", "climate", "local"]
TRACKING = ["utm_source={src}&utm_medium=rss&utm_campaign=feed",
            "utm_source={src}&utm_medium=social",
            "fbclid=IwAR{tok}",
            "utm_campaign=daily&utm_content={tok}&ref={src}",
            "gclid={tok}&utm_source={src}"]
SITE_URL = ""  # set from --site-url
BASE_TS = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())


def h64(*parts):
    """Deterministic 64-bit hash of the parts."""
    d = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return struct.unpack(">Q", d)[0]


def u01(*parts):
    return h64(*parts) / 2.0 ** 64


class Gen:
    def __init__(self, a):
        self.a = a
        mix = {}
        for part in a.dup_mix.split(","):
            k, _, v = part.partition(":")
            if k not in ("link", "content"):
                sys.exit(f"--dup-mix: unknown kind {k!r}")
            mix[k] = float(v or 1)
        tot = sum(mix.values()) or 1.0
        self.link_share = mix.get("link", 0.0) / tot

    def is_dup(self, f, i):
        return self.a.feeds > 1 and u01(self.a.seed, "dup", f, i) < self.a.dup_frac

    def source_of(self, f, i):
        """(g, j) original item whose story (f, i) duplicates; (f, i) itself if original."""
        if not self.is_dup(f, i):
            return f, i
        n = self.a.feeds
        g = (f + 1 + h64(self.a.seed, "g", f, i) % (n - 1)) % n
        j = max(0, i - int(h64(self.a.seed, "j", f, i) % 3))
        for _ in range(1000):  # bounded walk to the nearest original of feed g
            if not self.is_dup(g, j):
                return g, j
            j += 1
        return f, i  # pathological dup-frac ~1.0: treat as original

    def dup_kind(self, f, i):
        return "link" if u01(self.a.seed, "kind", f, i) < self.link_share else "content"

    def story(self, g, j):
        """Canonical story content of original item (g, j)."""
        s = self.a.seed
        nt = 6 + h64(s, "tl", g, j) % 7
        title = " ".join(WORDS[h64(s, "t", g, j, k) % len(WORDS)] for k in range(nt)).capitalize()
        nb = max(5, self.a.body_words)
        body = " ".join(WORDS[h64(s, "b", g, j, k) % len(WORDS)] for k in range(nb)).capitalize() + "."
        slug = "-".join(title.lower().split()[:5])
        url = f"https://www.outlet{g + 1}.example/news/{j // 50}/{slug}-{h64(s, 'id', g, j) % 10**8}"
        topics = [TOPICS[h64(s, "tp", g, j) % len(TOPICS)]]
        if h64(s, "tp2", g, j) % 3 == 0:
            topics.append(TOPICS[h64(s, "tp3", g, j) % len(TOPICS)])
        ts = BASE_TS + j * self.a.interval_s + h64(s, "ts", g) % self.a.interval_s
        return {"title": title, "body": body, "url": url, "topics": sorted(set(topics)), "ts": ts}

    def item(self, f, i):
        """Item as it appears in feed f, plus ground truth (story key, kind)."""
        g, j = self.source_of(f, i)
        st = self.story(g, j)
        guid = f"urn:feed{f + 1}:item{i}:{h64(self.a.seed, 'guid', f, i) % 10**10}"
        body = st["body"]
        if (g, j) == (f, i):
            kind, link, title = "original", st["url"], st["title"]
        else:
            kind = self.dup_kind(f, i)
            tok = h64(self.a.seed, "tok", f, i) % 10**12
            if kind == "link":
                q = TRACKING[h64(self.a.seed, "tr", f, i) % len(TRACKING)].format(src=f"outlet{f + 1}", tok=tok)
                link = st["url"] + ("?" + q)
                v = h64(self.a.seed, "var", f, i) % 4
                if v == 1:
                    link = link.replace("https://", "http://", 1)
                elif v == 2:
                    link = link.replace("www.outlet", "WWW.Outlet", 1)
                elif v == 3:
                    link += "#comments"
                title = f"{st['title']} | Outlet {f + 1}"
                # own teaser instead of the wire body: only URL canonicalisation links it to the original
                words = st["body"].split()
                body = f"Outlet {f + 1} summary: " + " ".join(words[: max(3, len(words) // 3)]) + " ..."
            else:
                link = f"https://www.outlet{f + 1}.example/wire/{h64(self.a.seed, 'wl', f, i) % 10**9}"
                title = st["title"]
        ts = st["ts"] + (0 if kind == "original" else 60 * (1 + h64(self.a.seed, "lag", f, i) % 90))
        # observable dedup keys: the canonical URL this link reduces to, and the body
        url_key = link if kind == "content" else st["url"]
        return {"guid": guid, "link": link, "title": title, "body": body, "url_key": url_key,
                "topics": st["topics"], "ts": ts, "story": f"{g + 1}:{j}", "kind": kind,
                "author": f"Desk {h64(self.a.seed, 'au', g) % 40}"}

    def fmt_of(self, f):
        if self.a.format != "mixed":
            return self.a.format
        r = f % 10
        return "rss" if r < 6 else ("atom" if r < 9 else "json")


def rfc822(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


def rfc3339(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def site_of(f):
    return SITE_URL.rstrip("/") + f"/outlet{f}/" if SITE_URL else f"https://www.outlet{f}.example/"


def render_rss(f, url, items):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n',
           f"<title>Outlet {f} News</title>\n<link>{escape(site_of(f))}</link>\n",
           f'<atom:link href="{escape(url)}" rel="self" type="application/rss+xml"/>\n',
           f"<description>Synthetic newsroom feed {f}</description>\n<language>en</language>\n",
           f"<lastBuildDate>{rfc822(items[0]['ts'] if items else BASE_TS)}</lastBuildDate>\n"]
    for it in items:
        cats = "".join(f"<category>{t}</category>" for t in it["topics"])
        out.append(f"<item>\n<title>{escape(it['title'])}</title>\n<link>{escape(it['link'])}</link>\n"
                   f'<guid isPermaLink="false">{it["guid"]}</guid>\n<pubDate>{rfc822(it["ts"])}</pubDate>\n'
                   f"<dc:creator>{it['author']}</dc:creator>\n{cats}\n"
                   f"<description>{escape('<p>' + it['body'] + '</p>')}</description>\n</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def render_atom(f, url, items):
    upd = rfc3339(items[0]["ts"] if items else BASE_TS)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n',
           f"<title>Outlet {f} News</title>\n<id>urn:outlet{f}:feed</id>\n<updated>{upd}</updated>\n",
           f'<link rel="alternate" href="{escape(site_of(f))}"/>\n<link rel="self" href="{escape(url)}"/>\n']
    for it in items:
        cats = "".join(f'<category term="{t}"/>' for t in it["topics"])
        out.append(f"<entry>\n<title>{escape(it['title'])}</title>\n"
                   f'<link rel="alternate" href="{escape(it["link"], {chr(34): "&quot;"})}"/>\n'
                   f"<id>{it['guid']}</id>\n<published>{rfc3339(it['ts'])}</published>\n"
                   f"<updated>{rfc3339(it['ts'])}</updated>\n<author><name>{it['author']}</name></author>\n"
                   f"{cats}\n<summary type=\"html\">{escape('<p>' + it['body'] + '</p>')}</summary>\n</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def render_json(f, url, items):
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": f"Outlet {f} News",
           "home_page_url": site_of(f), "feed_url": url,
           "items": [{"id": it["guid"], "url": it["link"], "title": it["title"],
                      "content_html": "<p>" + it["body"] + "</p>", "date_published": rfc3339(it["ts"]),
                      "authors": [{"name": it["author"]}], "tags": it["topics"]} for it in items]}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


EXT = {"rss": "xml", "atom": "atom", "json": "json"}
RENDER = {"rss": render_rss, "atom": render_atom, "json": render_json}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--feeds", type=int, default=100)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--dup-frac", type=float, default=0.2, help="fraction of items that duplicate another feed's story")
    p.add_argument("--dup-mix", default="link:0.5,content:0.5", help="share of duplicate kinds, e.g. link:0.7,content:0.3")
    p.add_argument("--format", choices=["rss", "atom", "json", "mixed"], default="mixed")
    p.add_argument("--body-words", type=int, default=80, help="words per item body (80 ~ 600 bytes)")
    p.add_argument("--epoch", type=int, default=0)
    p.add_argument("--new-per-epoch", type=int, default=5)
    p.add_argument("--interval-s", type=int, default=1800, help="seconds between consecutive items of one feed")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--base-url", default="http://127.0.0.1:18080", help="URL prefix under which --out/feeds is served")
    p.add_argument("--site-url", default="", help="site (home page) URL prefix; default https://www.outletN.example/ (set a 127.0.0.1 URL for readers that fetch site icons)")
    a = p.parse_args()
    global SITE_URL
    SITE_URL = a.site_url
    if not (1 <= a.feeds <= MAX_FEEDS and 1 <= a.items <= MAX_ITEMS):
        sys.exit(f"--feeds must be 1..{MAX_FEEDS}, --items 1..{MAX_ITEMS}")
    if not 0.0 <= a.dup_frac < 1.0:
        sys.exit("--dup-frac must be in [0, 1)")
    g = Gen(a)
    fdir = os.path.join(a.out, "feeds")
    os.makedirs(fdir, exist_ok=True)
    lo = a.epoch * a.new_per_epoch
    counts = {"original": 0, "link": 0, "content": 0}
    stories, nbytes, fmts, urls = set(), 0, {"rss": 0, "atom": 0, "json": 0}, []
    parent, first = [], {}  # union-find over items linked by a shared URL key or body

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link_key(idx, key):
        if key in first:
            ra, rb = find(idx), find(first[key])
            if ra != rb:
                parent[ra] = rb
        else:
            first[key] = idx
    for f in range(a.feeds):
        fmt = g.fmt_of(f)
        name = f"feed-{f + 1:06d}.{EXT[fmt]}"
        url = f"{a.base_url.rstrip('/')}/{name}"
        items = [g.item(f, i) for i in range(lo + a.items - 1, lo - 1, -1)]  # newest first
        for it in items:
            counts[it["kind"]] += 1
            stories.add(it["story"])
            idx = len(parent)
            parent.append(idx)
            link_key(idx, "u:" + it["url_key"])
            link_key(idx, "b:" + it["body"])
        data = RENDER[fmt](f + 1, url, items).encode()
        nbytes += len(data)
        fmts[fmt] += 1
        with open(os.path.join(fdir, name), "wb") as fh:
            fh.write(data)
        urls.append((f + 1, url))
    with open(os.path.join(a.out, "urls.txt"), "w") as fh:
        fh.writelines(u + "\n" for _, u in urls)
    with open(os.path.join(a.out, "feeds.opml"), "w") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n<head><title>bench feeds</title></head>\n<body>\n<outline text="bench">\n')
        for n, u in urls:
            fh.write(f'<outline type="rss" text="Outlet {n}" title="Outlet {n}" xmlUrl="{escape(u)}"/>\n')
        fh.write("</outline>\n</body>\n</opml>\n")
    total = sum(counts.values())
    man = {"params": vars(a), "feeds": a.feeds, "formats": fmts, "items": total,
           "originals": counts["original"], "dup_link": counts["link"], "dup_content": counts["content"],
           "dup_fraction_actual": round((counts["link"] + counts["content"]) / total, 4),
           "distinct_stories": len(stories),
           "effective_dup_fraction": round(1 - len(stories) / total, 4),
           "key_linked_groups": sum(1 for i in range(len(parent)) if find(i) == i),
           "distinct_url_keys": sum(1 for k in first if k[0] == "u"),
           "distinct_body_keys": sum(1 for k in first if k[0] == "b"), "bytes": nbytes, "avg_feed_bytes": nbytes // a.feeds}
    with open(os.path.join(a.out, "manifest.json"), "w") as fh:
        json.dump(man, fh, indent=1)
    print(json.dumps({k: v for k, v in man.items() if k != "params"}))


if __name__ == "__main__":
    main()
