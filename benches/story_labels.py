#!/usr/bin/env python3
"""Ground-truth story labels for a feed set made by ../shared/bench/gen_feeds.py.

usage: story_labels.py GEN_FEEDS_PY OUT.tsv [gen_feeds options...]

Re-runs the generator's own item model (same options => same items) and writes one line per
item: feed number, guid, true story id. newsriver's story-quality test compares its merging
with these labels (pairwise precision and recall). Standard library only.
"""
import argparse
import importlib.util
import sys


def main():
    gen_path, out = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("gen_feeds", gen_path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    p = argparse.ArgumentParser()
    p.add_argument("--feeds", type=int, default=100)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--dup-frac", type=float, default=0.2)
    p.add_argument("--dup-mix", default="link:0.5,content:0.5")
    p.add_argument("--body-words", type=int, default=80)
    p.add_argument("--epoch", type=int, default=0)
    p.add_argument("--new-per-epoch", type=int, default=5)
    p.add_argument("--interval-s", type=int, default=1800)
    p.add_argument("--seed", type=int, default=1)
    a, _ = p.parse_known_args(sys.argv[3:])
    g = gen.Gen(a)
    lo = a.epoch * a.new_per_epoch
    with open(out, "w") as fh:
        for f in range(a.feeds):
            for i in range(lo, lo + a.items):
                it = g.item(f, i)
                fh.write(f"{f + 1}\t{it['guid']}\t{it['story']}\n")


if __name__ == "__main__":
    main()
