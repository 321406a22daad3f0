#!/usr/bin/env python3
"""Reads newsriver channels the way real clients do, and prints one JSON object per URL.

For feeds, each entry's byline, photo credit, lead image and texts are reported too.

usage: read_feeds.py URL...

RSS/Atom URLs are read with feedparser (bozo flag, version, entry ids and titles); `.json`
URLs with the json module (JSON Feed checks); `.opml` with xml.etree. Standard library plus
feedparser only.
"""
import json
import sys
from html.parser import HTMLParser
import urllib.request
import xml.etree.ElementTree as ET

import feedparser


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read(), resp.headers.get("Content-Type", "")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href")


def read(url):
    body, ctype = fetch(url)
    path = url.split("?")[0]
    if path.endswith("/"):
        links = Links()
        links.feed(body.decode("utf-8"))
        return {"url": url, "kind": "html", "content_type": ctype, "hrefs": links.hrefs}
    if path.endswith(".json"):
        doc = json.loads(body)
        items = doc.get("items", [])
        return {
            "url": url,
            "kind": "json",
            "content_type": ctype,
            "version": doc.get("version"),
            "title": doc.get("title"),
            "ids": [i.get("id") for i in items],
            "titles": [i.get("title") for i in items],
            "all_have_date_published": all("date_published" in i for i in items),
        }
    if path.endswith(".opml"):
        root = ET.fromstring(body)
        return {
            "url": url,
            "kind": "opml",
            "xml_urls": [o.get("xmlUrl") for o in root.iter("outline")],
        }
    parsed = feedparser.parse(body, response_headers={"content-type": ctype, "content-location": url})
    return {
        "url": url,
        "kind": "feed",
        "content_type": ctype,
        "bozo": int(parsed.bozo),
        "bozo_exception": str(parsed.get("bozo_exception", "")),
        "version": parsed.version,
        "ids": [e.get("id") for e in parsed.entries],
        "titles": [e.get("title") for e in parsed.entries],
        "entries": [entry(e) for e in parsed.entries],
    }


def entry(e):
    """What a reader shows of one entry: byline, photo credit, lead image, texts."""
    credits = e.get("media_credit") or [{}]
    media = e.get("media_content") or [{}]
    content = e.get("content") or [{}]
    return {
        "link": e.get("link"),
        "author": e.get("author"),
        "media_credit": credits[0].get("content"),
        "media_content": media[0].get("url"),
        "content": content[0].get("value"),
        "summary": e.get("summary"),
        "updated": e.get("updated"),
    }


def main():
    for url in sys.argv[1:]:
        print(json.dumps(read(url)))


if __name__ == "__main__":
    main()
