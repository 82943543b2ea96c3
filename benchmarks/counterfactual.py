"""Verified counterfactuals on the synthetic shop's planted complements, and their cost.

    flock /tmp/attnwidget-bench.lock python benchmarks/counterfactual.py
    flock /tmp/attnwidget-bench.lock python benchmarks/counterfactual.py --epochs 30 --users 750

The model trains as in benchmarks/trigger_pattern.py: ``synthetic_shop(n_users=3750,
n_items=360, complement_delay=(1, 5))``, SASRec on the first 3000 customers (here with
``max_len=200`` so that the timing below can use 200-item histories). A case is a held-out
customer whose last item is the complement of a trigger earlier in the history (the check
of ``planted_cause_hits``): the explained item is that complement after the history before
it. For the cases where the model ranks it in the top 10, the script prints how often the
counterfactual (``Explanation.counterfactual(k=10, max_size=10)``) is found, how often it
contains the trigger, its median size, and how often the size is proven minimal. Then the
time per counterfactual of the top recommendation at n = 50 and n = 200 history items
(customers' histories joined end to end), with the forward passes it took.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from attnwidget import Dataset, SASRec, fit, synthetic_shop
from attnwidget.explain.explanation import explain_indices
from attnwidget.sources import as_source

N_TRAIN = 3000
K = 10


def complement_cases(
    shop: Dataset, users: range, max_len: int
) -> list[tuple[np.ndarray, int, set[int]]]:
    """(history before the last item, last item, trigger indices in that history)."""
    catalog = shop.catalog
    triggers_of: dict[int, set[int]] = {}
    for trigger, complement in shop.metadata["complements"].items():
        triggers_of.setdefault(catalog.index_of(complement), set()).add(catalog.index_of(trigger))
    cases = []
    for u in users:
        seq = shop.sequences[u]
        if len(seq) < 3:
            continue
        target, history = int(seq[-1]), seq[:-1][-max_len:]
        causes = triggers_of.get(target, set()) & set(history.tolist())
        if causes:
            cases.append((history, target, causes))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--users", type=int, default=750, help="held-out customers searched")
    parser.add_argument("--timed", type=int, default=20, help="histories timed per length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    shop = synthetic_shop(
        n_users=N_TRAIN + 750, n_items=360, seed=args.seed, complement_delay=(1, 5)
    )
    train = Dataset(
        shop.catalog, shop.users[:N_TRAIN], shop.sequences[:N_TRAIN], metadata=shop.metadata
    )
    model = SASRec(train, dropout=0.2, max_len=200, seed=args.seed)
    start = time.perf_counter()
    history = fit(model, train, epochs=args.epochs, seed=args.seed, progress=False)
    print(f"data: {shop}; training on the first {N_TRAIN} customers")
    print(
        f"fit(epochs={args.epochs}): {len(history)} epochs in "
        f"{time.perf_counter() - start:.0f} s, kept epoch {history.attrs['best_epoch']}"
    )
    source = as_source(model)

    cases = complement_cases(shop, range(N_TRAIN, N_TRAIN + args.users), model.config.max_len)
    in_top, found, with_trigger, sizes, proven, seconds = 0, 0, 0, [], 0, []
    for history, target, causes in cases:
        expl = explain_indices(source, history, target=target, k=K)
        if target not in expl.recommendations.tolist():
            continue
        in_top += 1
        cf = expl.counterfactual(k=K, max_size=10)
        seconds.append(cf.seconds)
        if not cf.found:
            continue
        found += 1
        sizes.append(len(cf.positions))
        proven += cf.exhaustive
        removed = set(history[list(cf.positions)].tolist())
        with_trigger += bool(removed & causes)
    print(
        f"\ncomplement cases: {len(cases)} held-out customers whose last item is the "
        f"complement of a trigger in their history; {in_top} with it in the top {K}"
    )
    median_size = np.median(sizes) if sizes else float("nan")
    print("  counterfactual (k=10, max_size=10)       value")
    rate = found / max(in_top, 1)
    print(f"  found                                    {found}/{in_top} = {rate:.3f}")
    print(
        f"  contains the trigger (of found)          {with_trigger}/{found} = "
        f"{with_trigger / max(found, 1):.3f}"
    )
    print(f"  median size (of found)                   {median_size:.1f}")
    print(f"  size proven minimal (of found)           {proven}/{found}")
    print(f"  median time per counterfactual           {np.median(seconds) * 1e3:.0f} ms")

    rng = np.random.default_rng(args.seed)
    print("\ntime per counterfactual of the top recommendation (histories joined end to end)")
    print("   n  histories  found  median size  median passes  median s  p90 s")
    for n in (50, 200):
        times, passes, found_n, sizes_n = [], [], 0, []
        for _ in range(args.timed):
            joined = np.concatenate([shop.sequences[u] for u in rng.permutation(N_TRAIN)[:40]])
            history = joined[-n:]
            expl = explain_indices(source, history, k=K)
            cf = expl.counterfactual(k=K, max_size=10)
            times.append(cf.seconds)
            passes.append(cf.forward_passes)
            found_n += cf.found
            sizes_n += [len(cf.positions)] if cf.found else []
        size = np.median(sizes_n) if sizes_n else float("nan")
        print(
            f"{n:>4}  {args.timed:>9}  {found_n:>5}  {size:>11.1f}  {np.median(passes):>13.0f}"
            f"  {np.median(times):>8.2f}  {np.quantile(times, 0.9):>5.2f}"
        )


if __name__ == "__main__":
    main()
