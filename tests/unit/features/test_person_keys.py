"""Tests for features.person_keys: the phone's deletion keys stay linear."""

from __future__ import annotations

import random

import pytest

from features.person_keys import MAX_PHONE_DIGITS, person_key_tokens, phone_deletions
from features.phone_numbers import fake_phone
from features.pseudonymize import match_key_token

from .contract_reference import KEY


def _deletions_before_the_bound(phone: str) -> tuple:
    """The keys as computed before they were bounded: every one-digit deletion."""
    digits = "".join(c for c in phone if "0" <= c <= "9")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) < 7:
        return ()
    return tuple(dict.fromkeys(digits[:i] + digits[i + 1 :] for i in range(len(digits))))


def _spellings(rng: random.Random, phone: str) -> list[str]:
    return [
        phone,
        f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}",
        f"{phone[:3]} {phone[3:7]} {phone[7:]}",
        f"86{phone}",
        phone[: rng.randint(7, 10)],  # a number cut short
        "010-" + "".join(rng.choice("0123456789") for _ in range(8)),  # a landline
    ]


def test_valid_numbers_keep_the_keys_they_had():
    rng = random.Random(20261204)
    checked = 0
    for _ in range(500):
        for spelling in _spellings(rng, fake_phone(rng)):
            expected = _deletions_before_the_bound(spelling)
            assert phone_deletions(spelling) == expected
            tokens = person_key_tokens(None, spelling, KEY)["phone_deletion_hashes"]
            assert tokens == [match_key_token("phone_del", d, KEY) for d in expected]
            checked += 1
    assert checked == 3000


@pytest.mark.parametrize("digits", [MAX_PHONE_DIGITS + 1, 16_000])
def test_a_run_of_digits_longer_than_a_phone_number_gets_no_keys(digits):
    # 16,000 digits made 16,000 keys of 15,999 digits each: 256 MB.
    assert phone_deletions("1" * digits) == ()
    assert person_key_tokens(None, "1" * digits, KEY)["phone_deletion_hashes"] == []


def test_the_longest_phone_number_still_gets_its_keys():
    number = "123456789012345"
    assert len(number) == MAX_PHONE_DIGITS
    assert phone_deletions(number) == _deletions_before_the_bound(number)
    assert len(phone_deletions(number)) == 15
