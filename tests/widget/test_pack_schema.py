"""The pack header schema (attnwidget/widget/pack_header.schema.json) is what the kernel
writes: every header the explorer sends validates, and the schema names exactly the keys
the encoder writes, so a renamed key fails here and in the JS suite (header.dom.test.js)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from attnwidget import AttentionExplorer, explain
from attnwidget.sources import PrecomputedSource
from attnwidget.widget.explanation_pack import explanation_pack
from attnwidget.widget.payload import decode_pack, read_header

SCHEMA = json.loads(
    resources.files("attnwidget.widget").joinpath("pack_header.schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FIXTURES = Path(__file__).resolve().parents[2] / "js" / "tests" / "fixtures"


def check(header: dict) -> dict:
    errors = sorted(VALIDATOR.iter_errors(header), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return header


def test_the_schema_itself_is_valid():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_pack_the_explorer_sends_follows_the_schema(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:8], k=5, agreement_users=2)
    sent = []
    explorer.observe(lambda change: sent.append(change["new"]), "payload")
    explorer.user = shop.users[3]  # a first pack, then the complete one
    explorer.wait()
    ids = [str(i) for i in explorer.explanation().importance["item_id"]]
    explorer.history_edit = ids[1:]  # a what-if edit
    explorer.wait()
    headers = [check(read_header(p)) for p in sent]
    assert any(h["importance"]["pending"] for h in headers)
    assert any(h["what_if"] for h in headers)
    answers = [h for h in headers if h["importance"]["pending"]]  # first packs answer a change
    assert answers and all(h["timing"]["kernel_ms"] >= 0 for h in answers)


def test_the_schema_names_exactly_the_keys_the_encoder_writes(trained, shop):
    explorer = AttentionExplorer(trained, shop, users=shop.users[:3], k=5, agreement_users=0)
    header = read_header(explorer.payload)
    optional = {"timing"}  # the explorer adds it to the first pack answering a change
    assert set(header) - optional == set(SCHEMA["properties"]) - optional
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"]) - optional
    assert set(header["importance"]) == set(SCHEMA["properties"]["importance"]["properties"])
    item = SCHEMA["$defs"]["scored"]["properties"]
    assert set(header["target"]) == set(item) and set(header["recommendations"][0]) == set(item)
    assert set(header["history"][0]) == set(SCHEMA["$defs"]["item"]["properties"])


def test_a_source_without_a_model_and_nan_weights_follow_it_too(trained, shop):
    user = shop.users[0]
    attention = np.tril(np.ones((1, 1, 3, 3), dtype=np.float32))
    seen = {shop.catalog.item_id(int(i)) for i in shop.sequence(user)}
    top = next(i for i in shop.catalog.item_ids if i not in seen)
    source = PrecomputedSource(shop, {user: attention}, {user: [top]})
    check(read_header(AttentionExplorer(source, shop, users=[user]).payload))
    expl = explain(trained, shop, user)
    expl.attentions = expl.attentions.copy()
    expl.attentions[0, 0, -1, 0] = np.nan
    header, arrays = decode_pack(explanation_pack(expl))
    check(header)
    assert header["nonfinite"]["seq_attn"]["nan"] == 1 and np.isnan(arrays["seq_attn"]).sum() == 1


@pytest.mark.parametrize("name", ["sample.pack", "what-if.pack"])
def test_the_js_fixtures_follow_it(name):
    check(read_header((FIXTURES / name).read_bytes()))
