#!/usr/bin/python3
"""Re-price a year of orders under two rule versions on a Dask cluster and
print what `tessera diff` prints for them, exactly.

    examples/dask/make_orders.py 50000 /tmp/park-orders
    examples/dask/reprice_year.py rules/park/park.yaml examples/dask/park-2027.yaml \\
        '/tmp/park-orders/orders-2026-*.jsonl'

prints the same as

    cat /tmp/park-orders/orders-2026-*.jsonl \\
      | tessera diff rules/park/park.yaml examples/dask/park-2027.yaml -

(`tessera diff` names the rule files as given, and so does this.)

Without --scheduler it starts a LocalCluster of --workers processes on this
machine; with --scheduler tcp://HOST:8786 it uses that cluster, whose
workers need python3-tessera (and python3-dask, python3-distributed) and
read the order files from a path they all see (a shared or object store).
The rule files are read here and shipped with the tasks.

How it splits the work (docs/scale-out.md): dask.bag reads the files in
blocks of whole lines (--blocksize); each partition is compared by
tessera.batch.diff_partition in a worker process, which loads the two rule
sets once and keeps them for every later partition; what comes back from a
partition is the state of its comparison, a short JSON line however many
orders it held; the states are merged here, in the input's order.
"""
from __future__ import annotations

import argparse
import sys

import dask.bag as db
from distributed import Client, LocalCluster

from tessera import batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="the rule file in force")
    ap.add_argument("new", help="the rule file to compare it with")
    ap.add_argument("orders", nargs="+", help="JSON Lines files or glob patterns, in order")
    ap.add_argument("--top", type=int, default=batch.TOP, help="orders that moved most to list (default 10)")
    ap.add_argument("--json", action="store_true", help="print the report of `tessera diff --json`")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes (default 2)")
    ap.add_argument("--scheduler", help="address of a running Dask scheduler instead of a LocalCluster")
    ap.add_argument("--blocksize", default="16MiB", help="bytes per partition (default 16MiB)")
    args = ap.parse_args()

    old, new = batch.RuleSource.from_file(args.old), batch.RuleSource.from_file(args.new)
    top = args.top
    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        # Blocks end at a newline, and "\n" alone ends a line, as for tessera diff.
        orders = db.read_text(args.orders, blocksize=args.blocksize, linedelimiter="\n")
        states = orders.map_partitions(
            lambda lines: [batch.diff_partition(old, new, lines, top=top)]).compute()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    sys.stdout.write(batch.diff_report(old, new, states, top=top, json=args.json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
