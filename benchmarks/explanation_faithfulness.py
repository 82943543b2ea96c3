"""How faithful each importance method is on the demo model (synthetic_shop).

    python benchmarks/explanation_faithfulness.py [--users 1000] [--report-users 200]

Prints two tables:
  * planted causes: for users whose last purchase is the complement of a trigger item in
    their history (a cause the synthetic shop planted), how often each method ranks that
    trigger first when explaining the complement; "most recent item" is the baseline that
    always blames the last history item;
  * faithfulness over users: Kendall τ and top-1 agreement with occlusion, ERASER
    comprehensiveness / sufficiency (k = 1, 3, 5), entropy and uniformity, per method.
Uses the cached demo model (trained on first use, about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import attnwidget as aw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="users scanned for planted cases")
    parser.add_argument("--report-users", type=int, default=200, help="users in the report")
    args = parser.parse_args()

    model, shop = aw.demo_model(progress=False)
    print(f"demo model: {model.config}; data: {shop}")
    pd.set_option("display.width", 250, "display.precision", 3)

    start = time.perf_counter()
    hits = aw.planted_cause_hits(model, shop, n_users=args.users, progress=False)
    print(
        f"\n== planted trigger ranked first, {int(hits['cases'].max())} cases among "
        f"{args.users} users ({time.perf_counter() - start:.1f} s) =="
    )
    print(hits.sort_values("hit_rate", ascending=False).to_string())

    start = time.perf_counter()
    report = aw.faithfulness_report(model, shop, n_users=args.report_users, progress=False)
    print(
        f"\n== faithfulness over {int(report['users'].iloc[0])} users' top recommendation "
        f"({time.perf_counter() - start:.1f} s) =="
    )
    columns = [
        "kendall_tau",
        "top1_agreement",
        *[c for c in report.columns if c.startswith(("comprehensiveness", "sufficiency"))],
        "entropy",
        "normalized_entropy",
        "mse",
        "std",
    ]
    print(report[[c for c in columns if c in report.columns]].to_string())


if __name__ == "__main__":
    main()
