#!/usr/bin/env python3
"""Check a fleet run: compare `newsriver poll` output with the plan fleet_server.py wrote.

Usage:
  check_fleet.py --plan FEEDS/fleet_plan.json --poll-out poll.out [--poll-err poll.err]
                 [--manifest FEEDS/manifest.json] [--stats server_stats.json]
                 [--poll-rc RC] [--max-wall 120]

poll.out is newsriver's stdout (the per-source summary table); poll.err its stderr (one progress
line per source, used when a source is missing from the table, plus /usr/bin/time -v's report,
which gives the wall time and peak RSS). Standard library only.

Prints a table per behaviour kind (count, reported failed / ok / missing, how many failure reasons
fit the kind, slowest poll, server requests, an example reason), the good feeds' totals, and a
final line:
  fleet: N feeds, good ok X/Y, bad explained Z/W, items NEW, wall S s, peak RSS M MiB
Exit status 1 if a good feed (incl. wrong_content_type_ok) was not ingested, a bad feed was
reported ok, or the wall time exceeded --max-wall; else 0.
"""

import argparse
import json
import re
import sys

ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)ms\s+(.*)$")
TOTAL = re.compile(r"^(\d+) sources polled in ([\d.]+)s: (\d+) new items, (\d+) failed")
PROGRESS = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (.*)$")


def parse_poll_out(path):
    rows, total, header_seen, last = {}, None, False, None
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return rows, total
    for line in text.splitlines():
        if not header_seen:
            header_seen = line.startswith("source ")
            continue
        m = TOTAL.match(line)
        if m:
            total = {"sources": int(m[1]), "secs": float(m[2]), "new": int(m[3]), "failed": int(m[4])}
            continue
        m = ROW.match(line)
        if m:
            sid, new, upd, unch, nm, ms, result = m.groups()
            rows[sid] = {"new": int(new), "updated": int(upd), "unchanged": int(unch),
                         "not_modified": int(nm), "ms": int(ms), "result": result.strip()}
            last = sid
        elif last is not None and line.strip():
            rows[last]["result"] += " " + line.strip()  # a reason spanning lines
    return rows, total


def parse_poll_err(path):
    progress, timev, panics = {}, {}, []
    if not path:
        return progress, timev, panics
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return progress, timev, panics
    for line in text.splitlines():
        m = PROGRESS.match(line)
        if m:
            progress[m[3]] = m[4]
            continue
        s = line.strip()
        if "panicked at" in s:
            panics.append(s)
        if s.startswith("Elapsed (wall clock) time"):
            v = s.rsplit(": ", 1)[1]
            secs = 0.0
            for part in v.split(":"):
                secs = secs * 60 + float(part)
            timev["wall"] = secs
        elif s.startswith("Maximum resident set size (kbytes):"):
            timev["rss_kb"] = int(s.rsplit(":", 1)[1])
        elif s.startswith("Exit status:"):
            timev["exit"] = int(s.rsplit(":", 1)[1])
        elif s.startswith("Command terminated by signal"):
            timev["signal"] = s
        elif s.startswith("User time (seconds):"):
            timev["user"] = float(s.rsplit(":", 1)[1])
        elif s.startswith("System time (seconds):"):
            timev["sys"] = float(s.rsplit(":", 1)[1])
        elif s.startswith("Percent of CPU this job got:"):
            timev["cpu"] = s.rsplit(":", 1)[1].strip()
    return progress, timev, panics


def short(s, n):
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--poll-out", required=True)
    ap.add_argument("--poll-err")
    ap.add_argument("--manifest")
    ap.add_argument("--stats")
    ap.add_argument("--poll-rc", type=int)
    ap.add_argument("--max-wall", type=float, default=120.0)
    ap.add_argument("--reason-width", type=int, default=72)
    args = ap.parse_args()

    plan = json.load(open(args.plan))
    good_kinds = set(plan["good_kinds"])
    expect_reason = {k: re.compile(v, re.I) for k, v in plan.get("expect_reason", {}).items()}
    rows, total = parse_poll_out(args.poll_out)
    progress, timev, panics = parse_poll_err(args.poll_err)
    manifest = json.load(open(args.manifest)) if args.manifest else None
    stats = {}
    if args.stats:
        try:
            stats = json.load(open(args.stats))
        except (OSError, ValueError):
            stats = {}
    requests = stats.get("requests", {})

    # Classify every planned source.
    kinds = ["good"] + [k for k in plan["kinds"]]
    per = {k: {"count": 0, "failed": 0, "ok": 0, "missing": 0, "fits": 0, "max_ms": 0,
               "new": 0, "expected_items": 0, "example": None, "reasons": {}} for k in kinds}
    bad_ok, good_failed, good_short, misfits, missing = [], [], [], [], []
    for s in plan["sources"]:
        k = s["behaviour"]
        p = per.setdefault(k, {"count": 0, "failed": 0, "ok": 0, "missing": 0, "fits": 0, "max_ms": 0,
                               "new": 0, "expected_items": 0, "example": None, "reasons": {}})
        p["count"] += 1
        r = rows.get(s["id"])
        if r is None:
            p["missing"] += 1
            missing.append((s["id"], k, progress.get(s["id"], "(no progress line either)")))
            if k in good_kinds:
                good_failed.append((s["id"], k, "missing from poll output: " + progress.get(s["id"], "-")))
            continue
        p["max_ms"] = max(p["max_ms"], r["ms"])
        p["new"] += r["new"]
        if r["result"].startswith("FAILED"):
            reason = r["result"].split(":", 1)[1].strip() if ":" in r["result"] else ""
            p["failed"] += 1
            # group reasons with numbers masked, to show the distinct kinds of explanation
            key = re.sub(r"\d+", "N", re.sub(r"feed-\d+\.\w+", "FILE", reason))
            p["reasons"][key] = p["reasons"].get(key, 0) + 1
            if p["example"] is None:
                p["example"] = reason
            rx = expect_reason.get(k)
            if rx is not None and reason and rx.search(reason):
                p["fits"] += 1
            elif k not in good_kinds:
                misfits.append((s["id"], k, reason))
            if k in good_kinds:
                good_failed.append((s["id"], k, reason))
        else:
            p["ok"] += 1
            if k in good_kinds:
                p["expected_items"] += s.get("items") or 0
                if s.get("items") is not None and r["new"] != s["items"]:
                    good_short.append((s["id"], k, r["new"], s["items"], r["result"]))
            else:
                bad_ok.append((s["id"], k, r))

    # Table per kind.
    rw = args.reason_width
    print(f"{'behaviour':<22} {'count':>5} {'failed':>6} {'ok':>5} {'miss':>4} {'fits':>4} "
          f"{'max ms':>7} {'reqs':>5}  example reason / items")
    for k in kinds + [k for k in per if k not in kinds]:
        p = per[k]
        if p["count"] == 0:
            continue
        if k in good_kinds:
            note = f"new items {p['new']} / expected {p['expected_items']}"
            if p["example"]:
                note += f"; FAILED e.g. {short(p['example'], rw - 30)}"
            fits = "-"
        else:
            note = short(p["example"] or "-", rw)
            if len(p["reasons"]) > 1:
                note += f"  (+{len(p['reasons']) - 1} other reason forms)"
            fits = str(p["fits"])
        print(f"{k:<22} {p['count']:>5} {p['failed']:>6} {p['ok']:>5} {p['missing']:>4} {fits:>4} "
              f"{p['max_ms']:>7} {requests.get(k, '-'):>5}  {note}")

    good_total = sum(per[k]["count"] for k in per if k in good_kinds)
    good_ok = sum(per[k]["ok"] for k in per if k in good_kinds)
    bad_total = sum(per[k]["count"] for k in per if k not in good_kinds)
    bad_explained = sum(per[k]["failed"] for k in per if k not in good_kinds)
    bad_fits = sum(per[k]["fits"] for k in per if k not in good_kinds)
    new_items = total["new"] if total else sum(r["new"] for r in rows.values())
    good_new = sum(per[k]["new"] for k in per if k in good_kinds)
    expected_items = sum(s.get("items") or 0 for s in plan["sources"] if s["behaviour"] in good_kinds)
    print()
    print(f"good feeds: {good_ok}/{good_total} ok, {good_new} new items from them "
          f"(expected {expected_items} = their item counts); {len(good_failed)} failed")
    print(f"bad feeds:  {bad_explained}/{bad_total} reported FAILED with a reason "
          f"({bad_fits} reasons fit the kind), {len(bad_ok)} reported ok, "
          f"{sum(1 for m in missing if m[1] not in good_kinds)} missing")
    if manifest:
        print(f"generator:  {manifest.get('feeds')} feeds, {manifest.get('items')} items "
              f"({manifest.get('items', 0) / max(1, manifest.get('feeds', 1)):.0f} per feed), "
              f"formats {manifest.get('formats')}")
    if total:
        print(f"newsriver:  {total['sources']} sources polled in {total['secs']:.2f}s: "
              f"{total['new']} new items, {total['failed']} failed")
    else:
        print("newsriver:  NO SUMMARY LINE in poll output (crash, kill or hang?)")
    if timev:
        print(f"time -v:    wall {timev.get('wall', float('nan')):.2f}s, user {timev.get('user', 0):.2f}s, "
              f"sys {timev.get('sys', 0):.2f}s, CPU {timev.get('cpu', '?')}, "
              f"max RSS {timev.get('rss_kb', 0) / 1024:.1f} MiB, exit {timev.get('exit', '?')}"
              + (f", {timev['signal']}" if "signal" in timev else ""))
    if stats:
        print(f"server:     {stats.get('total_connections')} connections (peak {stats.get('peak_connections')} "
              f"open, {stats.get('open_connections')} still open when asked), client hung up on "
              f"{stats.get('client_gone')}")
    if panics:
        print(f"PANICS in poll stderr ({len(panics)}): " + short(panics[0], 200))

    def listing(title, items, fmt, limit=20):
        if not items:
            return
        print(f"\n{title} ({len(items)}):")
        for it in items[:limit]:
            print("  " + fmt(it))
        if len(items) > limit:
            print(f"  ... and {len(items) - limit} more")

    listing("GOOD FEEDS THAT FAILED", good_failed, lambda t: f"{t[0]} [{t[1]}]: {short(t[2], 160)}")
    listing("BAD FEEDS REPORTED OK", bad_ok,
            lambda t: f"{t[0]} [{t[1]}]: new {t[2]['new']}, updated {t[2]['updated']}, {t[2]['ms']}ms, {t[2]['result']}")
    listing("good feeds ok but new != items in file", good_short,
            lambda t: f"{t[0]} [{t[1]}]: new {t[2]} vs {t[3]} ({t[4]})")
    listing("bad feeds whose reason does not fit the kind", misfits,
            lambda t: f"{t[0]} [{t[1]}]: {short(t[2], 160)}")
    listing("sources missing from the poll table", missing, lambda t: f"{t[0]} [{t[1]}]: {short(t[2], 160)}")

    wall = timev.get("wall", total["secs"] if total else float("nan"))
    rss = timev.get("rss_kb", 0) / 1024
    problems = []
    if good_failed:
        problems.append(f"{len(good_failed)} good feed(s) failed")
    if bad_ok:
        problems.append(f"{len(bad_ok)} bad feed(s) reported ok")
    if not wall <= args.max_wall:
        problems.append(f"wall {wall:.1f}s > {args.max_wall:.0f}s")
    if args.poll_rc not in (None, 0):
        print(f"\nNOTE: poll exited with status {args.poll_rc}")
    print()
    print(("FAIL: " + "; ".join(problems)) if problems else "PASS")
    print(f"fleet: {len(plan['sources'])} feeds, good ok {good_ok}/{good_total}, bad explained "
          f"{bad_explained}/{bad_total}, items {new_items}, wall {wall:.1f} s, peak RSS {rss:.0f} MiB")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
