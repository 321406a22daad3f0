"""What fleet_server.py and its behaviours share: the fault URLs' shapes, the drip rate, the log."""
import sys
import time

LOOP_PREFIX = "/__loop/b/"
CHAIN_PREFIX = "/__chain/"
CHAIN_HOPS = 20
DRIP_BYTES_PER_S = 1


def log(msg):
    print(f"[fleet_server {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
