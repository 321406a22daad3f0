"""W5 of benches/e2e.sh: article pages for generated feeds, and W5's rows of the table.

`e2e_lib.py articles` (main below): reads gen_feeds.py's feeds (RSS, Atom or JSON Feed), points
every item link of the form https://www.outletN.example/PATH at BASE/outletN/PATH (the local
server of the pages), writes the rewritten feeds to --feeds-out and one article page per
distinct link path under --pages, in the shape newsrooms publish: a "Last update" top bar,
masthead and nav, the headline, a "By NAME DATE" byline, a lead photo with a "NAME / Courtesy"
credit, 10-15 paragraphs of sentences made deterministically of the item's own words, related
links, share bar, newsletter box and footer. Every other page also carries a JSON-LD
NewsArticle (author, dates, image with creditText), the rest only the visible text, so both the
JSON-LD and the text-pattern rules of the extractor are exercised. Standard library only.
"""
import argparse
import html
import json
import os
import random
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

LINK = re.compile(r"(?i)\bhttps?://www\.outlet(\d+)\.example/(?=[^\s\"'<>])")
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
FIRST = ("Ana Daniel Maria James Li Sofia Omar Grace Lukas Amira Jonas Elena Samuel Priya Tomas "
         "Hannah Mateo Chloe Yusuf Ingrid Diego Naomi Felix Leila Marcus").split()
LAST = ("Ortiz Reyes Chen Walker Novak Haddad Lindqvist Okafor Brennan Moreau Silva Kowalski "
        "Tanaka Hughes Rossi Fischer Nguyen Adeyemi Larsen Duarte Meyer Kaplan Osei Varga").split()
CREDITS = ("Courtesy", "Courtesy", "Handout", "File")
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
PLACES = "the capital|the northern districts|the harbour town|the valley|the old city|the suburbs".split("|")
SENTENCES = (
    "The {a} {b} said on {day} that the {c} would review its {d} plans before the end of the {period}.",
    "{A} officials told reporters that the {b} and the {c} had been discussed for more than {n} hours.",
    "According to a {a} report published on {day}, the {b} {c} rose by {n} percent over the past {period}.",
    "Critics of the {a} argued that the {b} could not replace a {c} without a clear {d} policy.",
    "\u201cWe are watching the {a} and the {b} closely,\u201d a spokesperson for the {c} said in a statement.",
    "The {a} is expected to return to the {b} question when the {c} meets again on {day}.",
    "Local {a} groups have asked the {b} to publish the full {c} figures within {n} days.",
    "In {place}, residents said the {a} had changed how they think about the {b} and the {c}.",
    "Analysts noted that the {a} {b} remains {n} percent below the level it reached last {period}.",
    "Neither the {a} nor the {b} answered questions about the {c} on {day}, citing the {d} talks.",
    "The decision follows months of debate over the {a} {b}, which {n} members of the {c} opposed.",
    "Supporters of the {a} say the {b} will help the {c}, while others fear it will slow the {d}.",
)


def fmt_day(d):
    return f"{d:%B} {d.day}, {d.year}"


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(text):
    text = (text or "").strip()
    if not text:
        return datetime(2025, 1, 1, tzinfo=timezone.utc)
    if text[:4].isdigit():
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    return parsedate_to_datetime(text).astimezone(timezone.utc)


def plain(markup):
    return html.unescape(re.sub(r"<[^>]+>", " ", markup or ""))


def items_of(name, text):
    """(title, link, description text, author, date) of every item of one feed document."""
    out = []
    if name.endswith(".json"):
        for it in json.loads(text).get("items", []):
            authors = it.get("authors") or [{}]
            out.append((it.get("title", ""), it.get("url", ""), plain(it.get("content_html")),
                        authors[0].get("name", ""), it.get("date_published")))
    elif name.endswith(".atom"):
        for e in ET.fromstring(text).iter(ATOM + "entry"):
            link = next((lk.get("href") for lk in e.iter(ATOM + "link") if lk.get("rel", "alternate") == "alternate"), "")
            out.append((e.findtext(ATOM + "title", ""), link, plain(e.findtext(ATOM + "summary")),
                        e.findtext(f"{ATOM}author/{ATOM}name", ""), e.findtext(ATOM + "published")))
    else:
        for it in ET.fromstring(text).iter("item"):
            out.append((it.findtext("title", ""), it.findtext("link", ""), plain(it.findtext("description")),
                        it.findtext(DC + "creator", ""), it.findtext("pubDate")))
    return out


def person(rng):
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def paragraphs(rng, words):
    """10-15 paragraphs of 2-4 sentences, filled in order with the item's own words."""
    pos = [0]

    def word():
        pos[0] += 1
        return words[(pos[0] - 1) % len(words)]

    out = []
    for _ in range(rng.randint(10, 15)):
        sentences = []
        for _ in range(rng.randint(2, 4)):
            a = word()
            sentences.append(rng.choice(SENTENCES).format(
                a=a, A=a.capitalize(), b=word(), c=word(), d=word(), n=rng.randint(3, 90),
                day=rng.choice(DAYS), period=rng.choice(("year", "quarter", "month", "decade")),
                place=rng.choice(PLACES)))
        out.append(re.sub(r"\b([Aa]) (?=[aeiou])", r"\1n ", " ".join(sentences)))
    return out


def page(url, outlet, title, desc, date, rng, with_jsonld):
    """One article page, and what an extractor should read from it."""
    words = re.findall(r"[a-z]+", (desc + " " + title).lower()) or ["council"]
    authors = [person(rng)] + ([person(rng)] if rng.random() < 0.2 else [])
    modified = date + timedelta(minutes=rng.randint(20, 600))
    photographer = f"{person(rng)} / {rng.choice(CREDITS)}"
    slug = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "lead"
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    img = f"/outlet{outlet}/photos/{slug}.jpg"
    site = f"Outlet {outlet} News"
    e = html.escape
    head = ['<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f"<title>{e(title)} | {site}</title>\n",
            f'<link rel="stylesheet" href="/outlet{outlet}/assets/site.css">\n<link rel="canonical" href="{e(url)}">\n']
    if with_jsonld:
        ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
              "author": [{"@type": "Person", "name": a} for a in authors],
              "datePublished": iso(date), "dateModified": iso(modified),
              "image": {"@type": "ImageObject", "url": origin + img, "caption": f"{title.split()[0]} scene",
                        "creditText": photographer},
              "publisher": {"@type": "NewsMediaOrganization", "name": site}, "mainEntityOfPage": url}
        head.append('<script type="application/ld+json">\n' + json.dumps(ld).replace("</", "<\\/") + "\n</script>\n")
    head.append("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
                "gtag('js',new Date());gtag('config','G-BENCH0');</script>\n</head>\n")
    sections = ("Home", "News", "Politics", "Business", "World", "Sports", "Culture", "Opinion")
    nav = " ".join(f'<a href="/outlet{outlet}/{s.lower()}">{s}</a>' for s in sections)
    byline = " and ".join(authors)
    body = [f'<body>\n<div class="topbar">Last update: {fmt_day(modified)} {modified:%H:%M}</div>\n',
            f'<header class="masthead">\n<a href="/outlet{outlet}/"><img src="/outlet{outlet}/assets/logo.png" alt="{site}"></a>\n',
            f"<nav>{nav}</nav>\n</header>\n<main>\n<article>\n<h1>{e(title)}</h1>\n",
            f'<p class="byline">By {byline} {fmt_day(date)} {date:%H:%M}</p>\n',
            f'<figure class="lead-photo">\n<img src="{img}" alt="{e(title.split()[0])} scene">\n',
            f"<figcaption>{e(photographer)}</figcaption>\n</figure>\n"]
    body += [f"<p>{e(p)}</p>\n" for p in paragraphs(rng, words)]
    related = "".join(f'<li><a href="/outlet{outlet}/news/{rng.randint(1, 99999)}">{e(person(rng))} on the '
                      f"{e(rng.choice(words))} {e(rng.choice(words))}</a></li>\n" for _ in range(4))
    body += ['</article>\n<aside class="related">\n<h3>Related stories</h3>\n<ul>\n', related, "</ul>\n</aside>\n",
             '<div class="share">Share this story: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>\n',
             '<div class="newsletter">\n<h3>Get the morning briefing</h3>\n',
             "<p>Sign up for our newsletter and get the day's top stories in your inbox.</p>\n",
             '<form><input type="email" placeholder="Your email"><button>Subscribe</button></form>\n</div>\n</main>\n',
             f"<footer>\n<p>&copy; {date.year} {site}. All rights reserved.</p>\n",
             f'<p><a href="/outlet{outlet}/about">About us</a> <a href="/outlet{outlet}/privacy">Privacy policy</a></p>\n',
             "</footer>\n</body>\n</html>\n"]
    shown = (lambda d: d) if with_jsonld else (lambda d: d.replace(second=0))  # visible dates have no seconds
    expect = {"url": url, "jsonld": with_jsonld, "title": title, "byline": authors, "credit": photographer,
              "published": iso(shown(date)), "modified": iso(shown(modified))}
    return "".join(head + body), expect


def main(args):
    p = argparse.ArgumentParser(prog="e2e_lib.py articles")
    p.add_argument("--feeds", required=True, help="gen_feeds.py's feeds/ directory")
    p.add_argument("--feeds-out", required=True, help="where the rewritten feeds go")
    p.add_argument("--pages", required=True, help="the article pages' root directory")
    p.add_argument("--base-url", required=True, help="where --pages is served, e.g. http://127.0.0.1:8081")
    p.add_argument("--manifest", required=True, help="JSON summary written here")
    a = p.parse_args(args)
    base = a.base_url.rstrip("/")
    os.makedirs(a.feeds_out, exist_ok=True)
    written, items, nbytes, jsonld, samples = set(), 0, 0, 0, []
    for name in sorted(os.listdir(a.feeds)):
        with open(os.path.join(a.feeds, name), encoding="utf-8") as f:
            text = LINK.sub(lambda m: f"{base}/outlet{m.group(1)}/", f.read())
        with open(os.path.join(a.feeds_out, name), "w", encoding="utf-8") as f:
            f.write(text)
        for title, link, desc, _author, date in items_of(name, text):
            items += 1
            if not link.startswith(base + "/"):
                continue
            rel = unquote(urlsplit(link).path).lstrip("/")
            if rel in written or not rel or ".." in rel.split("/"):
                continue
            written.add(rel)
            outlet = rel.split("/", 1)[0].removeprefix("outlet")
            with_jsonld = len(written) % 2 == 1
            doc, expect = page(link.split("#")[0], outlet, title, desc, parse_date(date), random.Random(rel), with_jsonld)
            if sum(1 for x in samples if x["jsonld"] == with_jsonld) < 3:
                samples.append(expect)
            jsonld += with_jsonld
            path = os.path.join(a.pages, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(doc)
            nbytes += len(doc.encode())
    with open(os.path.join(a.pages, "robots.txt"), "w") as f:
        f.write("User-agent: *\nDisallow: /search\nDisallow: /*/preview/\n")
    man = {"feeds": len(os.listdir(a.feeds)), "items": items, "pages": len(written), "jsonld_pages": jsonld, "bytes": nbytes,
           "avg_page_bytes": nbytes // max(len(written), 1), "samples": samples}
    with open(a.manifest, "w") as f:
        json.dump(man, f, indent=1)
    print(json.dumps({k: v for k, v in man.items() if k != "samples"}))


FURNITURE = ("Last update", "Related stories", "Share this", "Sign up", "All rights reserved", "Courtesy")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def check(args):
    """check MANIFEST OUT.json EXTRACT.json...: compares `newsriver extract --json` of the sample
    pages (in the manifest's order) with what was written into them; one line per page."""
    man, out_path, files = json.load(open(args[0])), args[1], args[2:]
    res = {"pages": 0, "right": 0, "problems": []}
    for want, path in zip(man["samples"], files):
        res["pages"] += 1
        got = read_json(path)
        if not isinstance(got, dict):
            res["problems"].append(f"{want['url'].rsplit('/', 1)[-1]}: extract gave no JSON")
            continue
        bad = [k for k in ("title", "byline", "published", "modified") if got.get(k) != want[k]]
        if (got.get("image") or {}).get("credit") != want["credit"]:
            bad.append("image.credit")
        if got.get("word_count", 0) < 200 or any(f in got.get("body_text", "") for f in FURNITURE):
            bad.append("body")
        rule = "json-ld" if want["jsonld"] else "text-pattern"
        srcs = got.get("sources", {})
        bad += [f"{k} by {srcs.get(k)}" for k in ("byline", "published", "modified", "image.credit") if srcs.get(k) != rule]
        if bad:
            res["problems"].append(f"{want['url'].rsplit('/', 1)[-1]}: {', '.join(bad)}")
        else:
            res["right"] += 1
    json.dump(res, open(out_path, "w"), indent=1)
    print(json.dumps(res))


def report(kind, kv, load, fmt_n):
    """W5's rows: (what, result, notes) of `W5` (full text) and `W5 plain` (the same feeds without)."""
    full, plain, man = load("poll"), load("plain"), load("manifest")
    p = full if kind == "W5" else plain
    items, wall = man.get("items", 0), p.get("wall_s") or 0
    cpu = p.get("user_s", 0) + p.get("sys_s", 0)
    rss = p.get("max_rss_kb", 0) / 1024
    notes = [f"new items {p.get('new', '?')}/{items}, feeds failed {p.get('failed', '?')}"]
    if kind != "W5":
        what = f"the same {items} items without full text (fresh store, `full_text` off)"
        result = (f"{wall:.2f} s wall · {fmt_n(items / wall if wall else None)} items/s · "
                  f"{cpu / max(items, 1) * 1000:.2f} ms CPU/item · peak RSS {rss:.0f} MiB")
        fw, fc = full.get("wall_s") or 0, full.get("user_s", 0) + full.get("sys_s", 0)
        if wall and cpu:
            result += (f" · W5 with full text: ×{fw / wall:.1f} the wall time, ×{fc / cpu:.1f} the CPU, "
                       f"{full.get('max_rss_kb', 0) / 1024 - rss:+.0f} MiB peak RSS")
        return what, result, notes
    read, failed = p.get("articles_read", 0), p.get("articles_failed", 0)
    what = (f"full-text ingest: {man.get('feeds', '?')} feeds × {items // max(int(man.get('feeds') or 1), 1)} items, "
            f"every item's article page read (`poll`, fresh store, `full_text = true`)")
    result = (f"{wall:.1f} s wall · {fmt_n(read / wall if wall else None)} articles/s · pages read {read}/{man.get('pages', '?')}, "
              f"failed {failed}{'' if failed == 0 else ' (EXPECTED 0)'} · {cpu / max(read, 1) * 1000:.2f} ms CPU/article "
              f"({p.get('user_s', 0):.1f} s user + {p.get('sys_s', 0):.1f} s sys) · peak RSS {rss:.0f} MiB")
    pc = plain.get("user_s", 0) + plain.get("sys_s", 0)
    if plain and read:
        notes.append(f"{(cpu - pc) / read * 1000:.2f} ms CPU per article over the no-full-text poll")
    notes.append(f"pages {man.get('avg_page_bytes', 0) / 1000:.1f} kB on average, {man.get('jsonld_pages', '?')} with JSON-LD")
    chk = load("check")
    if chk:
        notes.append(f"`extract` of {chk['pages']} sample pages: {chk['right']} right"
                     + "".join(f"; {x}" for x in chk["problems"][:3]))
    health = [s.get("articles") or {} for s in (read_json(kv.get("sources", "")) or [])]
    why = sorted({h["last_failure"].split(": ", 1)[-1][:80] for h in health if h.get("last_failure")})
    if health:
        notes.append(f"`sources`: {sum(h.get('read', 0) for h in health)} pages read, "
                     f"{sum(h.get('failed', 0) for h in health)} failed" + "".join(f"; {w}" for w in why[:3]))
    notes.append(f"poll's own timer {p.get('poll_s', '?')} s")
    return what, result, notes
