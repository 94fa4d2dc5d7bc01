"""Tests for pipelines.service.credentials: demo accounts, Argon2id hashes, secrets kept as digests."""

from __future__ import annotations

from pipelines.service.credentials import (
    demo_accounts,
    hash_password,
    new_secret,
    password_matches,
    secret_digest,
)


def test_one_duty_account_per_center_and_a_district_supervisor(policy):
    accounts = demo_accounts(policy)
    assert len(accounts) == len(policy.centers) + 1
    assert {a.center_id for a in accounts if a.role == "duty"} == set(policy.centers)
    [supervisor] = [a for a in accounts if a.role == "supervisor"]
    assert (supervisor.username, supervisor.center_id) == ("supervisor-110118", "110118")
    assert accounts[1].display_name == "110118001综治中心值班员"


def test_a_password_matches_its_hash_only():
    hashed = hash_password("正确的密码")
    assert hashed.startswith("$argon2id$")
    assert password_matches(hashed, "正确的密码")
    assert not password_matches(hashed, "wrong")
    assert not password_matches("not a hash", "正确的密码")


def test_secrets_are_fresh_and_kept_as_their_sha256():
    a, b = new_secret(), new_secret()
    assert a != b and len(a) >= 40
    assert (
        secret_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
