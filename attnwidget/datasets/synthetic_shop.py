"""A small synthetic shop whose customers follow planted, documented patterns.

Patterns (all driven by ``seed``):

* **Departments.** Each customer shops in 2–3 of five departments (cameras, laptops,
  phones, coffee, running), each made of a main category and an accessory category,
  and tends to stay in the department of their last purchase.
* **Complements.** Every main-category item (the *trigger*, e.g. a camera) has one
  specific complement in the accessory category (e.g. a memory card of the same
  brand). After buying a trigger, a customer buys its complement with probability
  ``p_complement``: next, or (with probability ``p_delayed``) one purchase later. With
  ``complement_delay=(lo, hi)`` it comes instead ``lo``–``hi`` purchases later (uniformly),
  and the purchases in between are among the shop's most popular items: with ``(1, 5)``
  and 360 items (every trigger bought ~170 times by 3000 customers) the trigger sits 2–5
  purchases back behind popular items in 80% of the cases, the harder rule of issue 10.
  ``dataset.metadata["complements"]`` maps each trigger item id to its complement id:
  a known cause a faithful explanation should find.
* **Brand loyalty.** Each customer has a favourite brand per department and picks it
  with probability ``p_brand``.
* **Price tiers.** Each customer has a tier (budget, mid, premium) and buys in it with
  probability ``p_tier``.
* **Popularity.** Within a choice, items are weighted by a Zipf-like popularity.
* **Planted rules** (off by default: ``rules=0``). ``rules`` rarely bought accessories are
  *rule triggers*, each with its own rarely bought *rule target*. A customer follows one
  rule (picked at random) with probability ``p_rule``: at a random point of their history
  they buy the trigger, then 0–4 of the shop's most popular items, then the target, so the
  target comes 1–5 purchases after the trigger (uniformly) and the trigger sits 2–5
  purchases back behind popular items in 80% of the cases. Rule items are bought in no other
  way, so a model that ranks it high must have looked back at the trigger.
  ``dataset.metadata["rules"]`` maps each rule trigger id to its target id. With
  3000 customers, ``rules=5`` and ``p_rule=0.3`` every rule is followed about 180 times.
  The rules draw from their own random stream: ``rules=0`` gives the shop of earlier
  versions exactly.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_int
from ..data import Dataset
from ..errors import ArgumentTypeError, DataError

DEPARTMENTS = {
    "cameras": (
        ("cameras", ["Mirrorless Camera", "Compact Camera", "Action Camera", "DSLR Camera"]),
        ("camera accessories", ["Memory Card", "Camera Bag", "Tripod", "Lens Filter"]),
        ["Aperta", "Lumora", "Kestrel", "Novix"],
        450.0,
    ),
    "laptops": (
        ("laptops", ["Ultrabook", "Gaming Laptop", "Notebook", "Convertible Laptop"]),
        ("laptop accessories", ["Laptop Sleeve", "Wireless Mouse", "USB-C Hub", "Laptop Stand"]),
        ["Corvid", "Tessera", "Halcyon", "Vantor"],
        900.0,
    ),
    "phones": (
        ("phones", ["Smartphone", "Foldable Phone", "Rugged Phone", "Compact Phone"]),
        ("phone accessories", ["Phone Case", "Screen Protector", "Fast Charger", "Earbuds"]),
        ["Orbit", "Pixelon", "Zephyr", "Mako"],
        600.0,
    ),
    "coffee": (
        (
            "coffee machines",
            ["Espresso Machine", "Drip Coffee Maker", "Burr Grinder", "Pod Machine"],
        ),
        ("coffee", ["Espresso Beans", "Filter Roast", "Decaf Blend", "Single-Origin Beans"]),
        ["Brava", "Moka & Co", "Roastwell", "Crema"],
        250.0,
    ),
    "running": (
        ("running shoes", ["Road Running Shoe", "Trail Shoe", "Racing Flat", "Stability Shoe"]),
        ("sports apparel", ["Running Socks", "Running Jacket", "Shorts", "Base Layer"]),
        ["Stride", "Fleetfoot", "Altura", "Pacer"],
        120.0,
    ),
}
TIERS = ("budget", "mid", "premium")
TIER_PRICE = {"budget": 0.45, "mid": 1.0, "premium": 2.2}
TIER_SUFFIX = {"budget": " Lite", "mid": "", "premium": " Pro"}
ACCESSORY_PRICE = 0.08
CELL_ITEMS = 4 * len(TIERS)  # brands × tiers: items of one category per round of the catalogue
N_CELLS = len(DEPARTMENTS) * 2 * CELL_ITEMS  # smallest catalogue: every cell once


def _make_items(n_items: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    cells = [
        (dept, part, brand, tier)
        for dept, (main, acc, brands, _) in DEPARTMENTS.items()
        for part in (main, acc)
        for brand in brands
        for tier in TIERS
    ]
    for k in range(n_items):
        dept, (category, nouns), brand, tier = cells[k % len(cells)]
        base = DEPARTMENTS[dept][3] * (
            1.0 if category == DEPARTMENTS[dept][0][0] else ACCESSORY_PRICE
        )
        price = base * TIER_PRICE[tier] * rng.lognormal(0.0, 0.15)
        noun = nouns[rng.integers(len(nouns))]
        model = f"{chr(65 + rng.integers(26))}{rng.integers(10, 99)}"
        rows.append(
            {
                "item_id": f"i{k + 1:04d}",
                "title": f"{brand} {model} {noun}{TIER_SUFFIX[tier]}",
                "category": category,
                "brand": brand,
                "price": round(float(price), 2),
                "department": dept,
                "tier": tier,
                "is_trigger": category == DEPARTMENTS[dept][0][0],
            }
        )
    items = pd.DataFrame(rows)
    items["popularity"] = 1.0 / (1.0 + rng.permutation(n_items)) ** 0.35
    return items


def _pick_complements(items: pd.DataFrame, rng: np.random.Generator) -> dict[str, str]:
    """Each trigger gets one accessory of its department, same brand where possible."""
    accessories = items[~items.is_trigger]
    ids = accessories.item_id.to_numpy()
    by_brand = {k: ids[v] for k, v in accessories.groupby(["department", "brand"]).indices.items()}
    by_dept = {k: ids[v] for k, v in accessories.groupby("department").indices.items()}
    complements = {}
    for trig in items[items.is_trigger].itertuples():
        pool = by_brand.get((trig.department, trig.brand))
        if pool is None:
            pool = by_dept[trig.department]
        complements[trig.item_id] = pool[rng.integers(len(pool))]
    return complements


def _pick_rules(items: pd.DataFrame, rules: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``rules`` (trigger, target) item positions, all distinct, among the less popular
    half of the accessories."""
    accessories = np.flatnonzero(~items.is_trigger.to_numpy())
    order = np.argsort(items.popularity.to_numpy()[accessories], kind="stable")
    pool = accessories[order[: len(order) // 2]]
    if 2 * rules > pool.size:
        raise DataError(
            f"rules={rules} needs {2 * rules} rarely bought accessories; the catalogue has "
            f"{pool.size}: lower rules or raise n_items"
        )
    picked = rng.choice(pool, size=2 * rules, replace=False).tolist()
    return list(zip(picked[::2], picked[1::2], strict=True))


def _check_delay(delay: Any) -> tuple[int, int] | None:
    if delay is None:
        return None
    if not isinstance(delay, tuple | list) or len(delay) != 2:
        raise ArgumentTypeError(f"complement_delay must be a pair (lo, hi), got {delay!r}")
    lo, hi = (
        check_int("complement_delay[0]", delay[0], 1),
        check_int("complement_delay[1]", delay[1], 1),
    )
    if hi < lo:
        raise DataError(f"complement_delay={tuple(delay)}: hi must be at least lo")
    return lo, hi


def _check_probability(name: str, value: Any) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not 0.0 <= value <= 1.0:  # False for NaN too
        raise DataError(f"{name} must be a probability between 0 and 1, got {value}")
    return float(value)


def synthetic_shop(
    n_users: int = 3000,
    n_items: int = 600,
    *,
    min_len: int = 5,
    max_len: int = 40,
    p_complement: float = 0.8,
    p_delayed: float = 0.4,
    complement_delay: tuple[int, int] | None = None,
    p_brand: float = 0.75,
    p_tier: float = 0.75,
    n_bins: int = 5,
    mean_len: float | None = None,
    rules: int = 0,
    p_rule: float = 0.3,
    seed: int = 0,
) -> Dataset:
    """Generate the synthetic shop (see the module docstring for its patterns).

    Returns a :class:`~attnwidget.data.Dataset` with item features category, brand
    and price (quantile-binned), titles, ``metadata["complements"]`` and
    ``metadata["rules"]``. Every customer buys at least ``min_len`` items; a customer who
    has bought every item of a category stops before ``max_len``.

    Args:
        mean_len: mean number of purchases per customer before the ``max_len`` cut (a
            geometric length above ``min_len``); default ``min_len + 13``. E.g.
            ``min_len=5, mean_len=9.3`` gives histories like Amazon Games' in the SASRec
            paper (287k interactions for 31k users).
        complement_delay: ``(lo, hi)``: complements come ``lo``–``hi`` purchases after
            their trigger, behind popular items (see the module docstring); default: next
            or (``p_delayed``) one purchase later.
        rules: number of planted trigger → target rules (see the module docstring).
        p_rule: probability that a customer follows one of the rules.

    Raises:
        TypeError: a count that is not an int (``"10"``, ``10.0``, ``True``) or a
            probability that is not a number.
        DataError: ``n_users`` < 1, ``n_items`` < 120, ``min_len`` < 2, ``max_len`` <
            ``min_len``, ``min_len`` larger than the smallest category allows,
            a probability outside [0, 1], ``n_bins`` < 1 or a negative ``seed``.
    """
    n_users = check_int("n_users", n_users, 1)
    n_items = check_int("n_items", n_items, N_CELLS)
    min_len = check_int("min_len", min_len, 2)
    max_len = check_int("max_len", max_len, 2)
    if max_len < min_len:
        raise DataError(f"max_len={max_len} is less than min_len={min_len}")
    per_category = CELL_ITEMS * (n_items // N_CELLS)  # items in the smallest category
    if min_len > per_category:
        raise DataError(
            f"min_len={min_len} is more than the {per_category} items of a category with "
            f"n_items={n_items}; lower min_len or raise n_items"
        )
    for name, p in (
        ("p_complement", p_complement),
        ("p_delayed", p_delayed),
        ("p_brand", p_brand),
        ("p_tier", p_tier),
    ):
        _check_probability(name, p)
    check_int("n_bins", n_bins, 1)
    rules = check_int("rules", rules, 0)
    _check_probability("p_rule", p_rule)
    p_length = 1 / 14
    if mean_len is not None:
        if isinstance(mean_len, bool) or not isinstance(mean_len, numbers.Real):
            raise ArgumentTypeError(f"mean_len must be a number, got {mean_len!r}")
        if not min_len <= mean_len < math.inf:
            raise DataError(f"mean_len={mean_len} must be at least min_len={min_len}")
        p_length = 1 / (mean_len - min_len + 1)
    delay = _check_delay(complement_delay)
    seed = check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    items = _make_items(n_items, rng)
    complements = _pick_complements(items, rng)
    ids = items.item_id.to_numpy()
    weight = items.popularity.to_numpy()
    groups = {
        key: idx.to_numpy()
        for key, idx in items.groupby(["department", "is_trigger"]).groups.items()
    }
    dept_names = list(DEPARTMENTS)
    id_pos = {item: k for k, item in enumerate(ids)}
    brands = items.brand.to_numpy()
    tiers = items.tier.to_numpy()
    rule_rng = np.random.default_rng([seed, 1])
    rule_pairs = _pick_rules(items, rules, rule_rng)
    popular = np.argsort(-weight, kind="stable")[: max(10, n_items // 50)]
    reserved = np.zeros(n_items, dtype=bool)  # rule items are bought through their rule only
    reserved[[i for pair in rule_pairs for i in pair]] = True

    rows = []
    for u in range(n_users):
        user = f"u{u + 1:05d}"
        depts = rng.choice(dept_names, size=rng.integers(2, 4), replace=False)
        brand = {d: DEPARTMENTS[d][2][rng.integers(4)] for d in depts}
        tier = TIERS[rng.integers(3)]
        length = int(np.clip(rng.geometric(p_length) + min_len - 1, min_len, max_len))
        episode, start = None, -1  # a rule's trigger, fillers and target from step start
        if rules and rule_rng.random() < p_rule:
            trigger, target = rule_pairs[rule_rng.integers(rules)]
            gap = int(rule_rng.integers(1, 6))
            length = min(length + gap + 1, max_len)
            gap = min(gap, length - 1)
            start = int(rule_rng.integers(0, length - gap))
        bought = np.zeros(n_items, dtype=bool)
        pending, due = -1, -1  # a scheduled complement and the step it is bought at
        dept = rng.choice(depts)
        t = int(rng.integers(0, 10_000))
        for step in range(length):
            if step == start and not (bought[trigger] or bought[target]):
                left = popular[~bought[popular]]
                fillers = rule_rng.choice(left, size=min(gap - 1, left.size), replace=False)
                episode = [trigger, *fillers.tolist(), target]
                bought[trigger] = bought[target] = True
            if episode is not None and start <= step < start + len(episode):
                choice = episode[step - start]
            elif step == due and not (bought[pending] or reserved[pending]):
                choice = pending
            elif delay is not None and step < due and (~bought[popular]).any():
                choice = int(rng.choice(popular[~bought[popular]]))  # a filler
            else:
                if rng.random() > 0.6:
                    dept = rng.choice(depts)
                pool = groups[(dept, bool(rng.random() < 0.45))]
                score = weight[pool].copy()
                loyal = rng.random() < p_brand
                in_tier = rng.random() < p_tier
                score *= np.where((brands[pool] == brand[dept]) == loyal, 12.0, 1.0)
                score *= np.where((tiers[pool] == tier) == in_tier, 12.0, 1.0)
                score[bought[pool] | reserved[pool]] = 0.0
                if score.sum() == 0:
                    break
                choice = int(rng.choice(pool, p=score / score.sum()))
            if step >= due:
                pending, due = -1, -1
            bought[choice] = True
            t += int(rng.integers(1, 72))
            rows.append((user, ids[choice], t))
            comp = complements.get(ids[choice])
            if comp is not None and due < 0 and rng.random() < p_complement:
                if delay is None:
                    pending, due = id_pos[comp], step + (2 if rng.random() < p_delayed else 1)
                else:
                    pending, due = id_pos[comp], step + int(rng.integers(delay[0], delay[1] + 1))
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return Dataset.from_pandas(
        interactions,
        items[["item_id", "title", "category", "brand", "price"]],
        feature_cols=["category", "brand", "price"],
        title_col="title",
        n_bins=n_bins,
        metadata={
            "name": "synthetic_shop",
            "seed": seed,
            "complements": complements,
            "rules": {ids[a]: ids[b] for a, b in rule_pairs},
        },
    )
