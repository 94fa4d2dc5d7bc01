"""Tests for features.phone_numbers."""

import random

import pytest

from features.phone_numbers import fake_phone, is_valid_phone


@pytest.mark.parametrize("s", ["13800138000", "19912345678", "15012345678", "16600000000"])
def test_is_valid_phone_accepts(s):
    assert is_valid_phone(s) is True


@pytest.mark.parametrize(
    "s",
    [
        "12800138000",
        "10800138000",
        "1380013800",
        "138001380000",
        "+8613800138000",
        "138 0013 8000",
        "138-0013-8000",
        "１３８００１３８０００",
        "",
        None,
        13800138000,
    ],
)
def test_is_valid_phone_rejects(s):
    assert is_valid_phone(s) is False


def test_fake_phone_deterministic_and_valid():
    assert fake_phone(random.Random(8)) == fake_phone(random.Random(8))
    rng = random.Random(2024)
    draws = [fake_phone(rng) for _ in range(1000)]
    assert all(is_valid_phone(p) for p in draws)
    assert len(set(draws)) > 990
