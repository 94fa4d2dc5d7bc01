"""The contract's outputs, record for record, against those of its reference version.

Speed work on the contract (memos, cheaper patterns, batching) must not
change a single output. ``data/contract_outputs.txt`` holds, for a seeded
corpus (the three channels' valid envelopes and 3,000 adversarial records
made from them, identifiers in every written form included), a digest of
each routed record: its destination, key and JSON text, under one key and
again under a rotated chain of two keys. It was written by the contract
before that work; every later version must reproduce it.

When the contract's behaviour changes on purpose, write the file anew and
say why in the commit::

    ZONGZHI_WRITE_CONTRACT_OUTPUTS=1 pytest tests/unit/features/test_contract_outputs.py
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from features.dead_letter import route_raw_record
from features.key_chain import key_chain

from .adversarial_records import adversarial_records
from .contract_reference import KEY, NOW_MS

OUTPUTS = Path(__file__).parent / "data" / "contract_outputs.txt"
CORPUS_SIZE = 3_000
ROTATED = key_chain([KEY, bytes(range(32))], strict=False)


def _corpus(bases) -> list[tuple[str, bytes | None]]:
    valid = [(channel, json.dumps(envelope).encode()) for channel, envelope in bases]
    adversarial = adversarial_records(bases, CORPUS_SIZE, seed=21, huge=False)
    return valid + [(r.channel, r.value) for r in adversarial]


def _digests(ctx, corpus) -> list[str]:
    lines = []
    for offset, (channel, raw) in enumerate(corpus):
        routed = route_raw_record(
            raw, ctx, NOW_MS, channel=channel, topic=f"zz.raw.{channel}", partition=0, offset=offset
        )
        text = "\0".join(routed).encode("utf-8", "surrogatepass")
        lines.append(f"{routed[0]} {hashlib.sha256(text).hexdigest()[:20]}")
    return lines


def test_every_record_routes_as_the_reference_contract_did(ctx, bases):
    corpus = _corpus(bases)
    got = _digests(ctx, corpus) + _digests(dataclasses.replace(ctx, key=ROTATED), corpus)
    if os.environ.get("ZONGZHI_WRITE_CONTRACT_OUTPUTS"):
        OUTPUTS.parent.mkdir(exist_ok=True)
        OUTPUTS.write_text("\n".join(got) + "\n", encoding="utf-8")
    want = OUTPUTS.read_text(encoding="utf-8").splitlines()
    assert len(got) == len(want) == 2 * len(corpus)
    differ = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    assert differ == [], f"{len(differ)} records route differently, first at {differ[:5]}"
    # The corpus reaches both destinations, under both keys.
    assert {line.split()[0] for line in want} == {"normalized", "dead_letter"}
