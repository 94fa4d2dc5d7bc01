"""Tests for features.plate_keys: deletion keys only for plate-sized reads."""

from __future__ import annotations

import random

from features.plate_keys import MAX_READABLE_TAIL, fold_confusions, plate_match_keys
from features.plates import PROVINCE_ABBREVIATIONS, fake_plate, normalize_plate


def _keys_before_the_bound(plate: str):
    """The keys as computed before they were bounded, for readable reads."""
    exact = normalize_plate(plate)
    province, tail = (exact[0], exact[1:]) if exact[:1] in PROVINCE_ABBREVIATIONS else ("", exact)
    if len(tail) < 5 or not all(c.isascii() and c.isalnum() for c in tail):
        return None
    folded = fold_confusions(tail)
    deletions = tuple(
        dict.fromkeys(province + folded[:i] + folded[i + 1 :] for i in range(len(folded)))
    )
    return (exact, province + folded, folded, deletions)


def _reads(rng: random.Random, plate: str) -> list[str]:
    return [
        plate,
        plate.lower(),
        f"{plate[0]}·{plate[1]} {plate[2:]}",
        plate[1:],  # the province dropped
        plate[:4] + plate[5:],  # a character dropped
        plate + rng.choice("0123456789"),  # one read twice
        plate.replace("0", "O").replace("8", "B"),  # confusions
    ]


def test_plate_sized_reads_keep_the_keys_they_had():
    rng = random.Random(20261204)
    checked = 0
    for i in range(500):
        plate = fake_plate(rng, rng.choice(PROVINCE_ABBREVIATIONS), new_energy=i % 3 == 0)
        for read in _reads(rng, plate):
            keys = plate_match_keys(read)
            got = None if keys is None else (keys.exact, keys.folded, keys.tail, keys.deletions)
            assert got == _keys_before_the_bound(read), read
            checked += 1
    assert checked == 3500


def test_a_read_longer_than_any_plate_gets_no_keys():
    assert plate_match_keys("京A" + "1" * (MAX_READABLE_TAIL - 1)) is not None
    assert plate_match_keys("京A" + "1" * MAX_READABLE_TAIL) is None
    # 16,000 characters made 16,000 keys of 16,000 characters each.
    assert plate_match_keys("京A" + "1" * 16_000) is None
