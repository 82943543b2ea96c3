"""Users explained per second: a Python loop of ``explain``, ``explain_users`` locally, on Ray.

    flock /tmp/attnwidget-bench.lock python benchmarks/batch_explain.py [--users 1000]

On the demo model (the synthetic shop, 3,000 users, 600 items; SASRec d 64, 2 layers, 2
heads, max_len 50; trained and cached by ``aw.demo_model()`` on first use), all four
importance methods and agreement with occlusion per user:

* ``loop``: ``aw.explain(model, shop, user)`` and its importance + agreement, one user at a
  time (what one would write without ``explain_users``), on ``--loop-users`` users, one
  torch thread;
* ``local``: ``explain_users(engine="local")`` in this process on one torch thread (the
  default ``threads=1``), and with ``threads=None`` (torch's own setting, 2 here);
* ``ray (cold)``: ``explain_users(engine="ray")`` starting a local Ray itself (``ray.init``,
  actors, model load, stop), ``concurrency`` = the CPUs;
* ``ray (running)``: the same on a Ray started beforehand (actors and model load counted).

It prints users/s for each and whether each Ray table equals the local one bit for bit.
See benchmarks/README.md, "Batch explanations".
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd
import torch

import attnwidget as aw
from attnwidget.explain.batch import torch_threads


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def loop(model, shop, users):
    for user in users:
        expl = aw.explain(model, shop, user)
        expl.importance  # noqa: B018 - computes every method
        expl.agreement()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="users explained per engine")
    parser.add_argument("--loop-users", type=int, default=100, help="users of the plain loop")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    import ray

    model, shop = aw.demo_model()
    users = list(shop.users[: args.users])
    lengths = [min(len(shop.sequence(u)), model.config.max_len) for u in users]
    print(
        f"demo model, {len(users)} users (mean history seen {np.mean(lengths):.1f} items), "
        f"batch_size {args.batch_size}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), ray {ray.__version__}"
    )
    figures: dict[str, float] = {}

    with torch_threads(1):  # as fast as a loop gets on busy cores (see explain_users' threads)
        _, seconds = timed(lambda: loop(model, shop, users[: args.loop_users]))
    figures["loop"] = args.loop_users / seconds
    print(f"loop of explain():     {figures['loop']:7.1f} users/s  ({args.loop_users} users)")

    local, seconds = timed(
        lambda: aw.explain_users(model, shop, users, batch_size=args.batch_size, progress=False)
    )
    figures["local"] = len(users) / seconds
    print(f"explain_users local:   {figures['local']:7.1f} users/s  ({seconds:.1f} s, 1 thread)")

    threads = torch.get_num_threads()
    _, seconds = timed(
        lambda: aw.explain_users(
            model, shop, users, batch_size=args.batch_size, progress=False, threads=None
        )
    )
    figures["local_torch_threads"] = len(users) / seconds
    print(
        f"local, threads=None:   {figures['local_torch_threads']:7.1f} users/s  "
        f"({seconds:.1f} s, torch's {threads} threads)"
    )

    options = {"batch_size": args.batch_size, "concurrency": args.concurrency, "progress": False}
    cold, seconds = timed(lambda: aw.explain_users(model, shop, users, engine="ray", **options))
    figures["ray_cold"] = len(users) / seconds
    print(f"ray, started by call:  {figures['ray_cold']:7.1f} users/s  ({seconds:.1f} s)")

    _, start = timed(
        lambda: ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="WARNING")
    )
    try:
        warm, seconds = timed(lambda: aw.explain_users(model, shop, users, engine="ray", **options))
    finally:
        ray.shutdown()
    figures["ray_running"] = len(users) / seconds
    figures["ray_init_seconds"] = start
    print(
        f"ray, already running:  {figures['ray_running']:7.1f} users/s  ({seconds:.1f} s; "
        f"ray.init took {start:.1f} s)"
    )

    for name, table in (("started by the call", cold), ("already running", warm)):
        try:
            pd.testing.assert_frame_equal(table, local, check_exact=True)
            verdict = "identical to the local table, bit for bit"
        except AssertionError as err:
            verdict = f"DIFFERENT from the local table: {str(err).splitlines()[0]}"
        print(f"ray table ({name}): {verdict}")
        figures[f"identical ({name})"] = verdict.startswith("identical")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
