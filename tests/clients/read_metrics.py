#!/usr/bin/env python3
"""Reads a /metrics exposition (on stdin) the way Prometheus's own Python client does, and
prints its families as one JSON document.

usage: read_metrics.py < exposition

Parsed with prometheus_client.openmetrics.parser, which refuses anything that is not
OpenMetrics text (a missing `# EOF`, a counter sample without `_total`, a histogram without
its `+Inf` bucket, ...): it then exits 1 with the parser's message on stderr. Prints
`[{"name", "type", "unit", "help", "samples": [{"name", "labels", "value"}]}]`.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as e:
        print(f"not OpenMetrics text: {e}", file=sys.stderr)
        return 1
    out = [
        {
            "name": f.name,
            "type": f.type,
            "unit": f.unit,
            "help": f.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples],
        }
        for f in families
    ]
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
