"""Tests for pipelines.service.accounts: a person's account is checked against the policy, by name."""

from __future__ import annotations

import pytest

from pipelines.errors import UsageError
from pipelines.service.accounts import checked_account


def test_a_good_account_is_bound_to_its_center(policy):
    account = checked_account(policy, "zhang.san", "110118001002", "duty", " 张三 ")
    assert (account.center_id, account.role, account.display_name) == (
        "110118001002",
        "duty",
        "张三",
    )


@pytest.mark.parametrize(
    "username, center, role, name, message",
    [
        ("a b", "110118", "duty", "x", "--username 'a b' is not allowed"),
        ("li", "999", "duty", "x", "--center '999' is not a center"),
        ("li", "110118", "boss", "x", "--role 'boss' is not one of: duty, supervisor"),
        ("li", "110118", "duty", "  ", "--name must not be empty"),
    ],
)
def test_bad_values_are_named(policy, username, center, role, name, message):
    with pytest.raises(UsageError, match=message):
        checked_account(policy, username, center, role, name)
