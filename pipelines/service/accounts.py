"""People's accounts, managed by an administrator: ``zongzhi accounts add|list|password``.

Every person on duty has an account of their own, bound to one center of
the jurisdiction policy, with a role (``duty`` 值班员, ``supervisor`` 督办员).
A new account and a reset get a generated password, shown once; a reset
ends the account's sessions and tokens. Bad input is one line naming the
value and what is allowed.
"""

from __future__ import annotations

import re

from features.jurisdiction_policy import JurisdictionPolicy
from pipelines.errors import UsageError
from pipelines.io.platform_state import (
    load_jurisdiction_policy,
    load_routing_rules,
    load_work_order_rules,
)
from pipelines.service.credentials import ROLES, USERNAME, Account, new_secret
from pipelines.service.duty_store import Conflict, DutyStore, utc_now
from pipelines.settings import Settings

__all__ = ["add_account", "list_accounts", "reset_password", "checked_account"]


def checked_account(
    policy: JurisdictionPolicy, username: str, center_id: str, role: str, display_name: str
) -> Account:
    """The account, or a :class:`UsageError` naming the value at fault and what is allowed."""
    if not re.fullmatch(USERNAME, username):
        raise UsageError(
            f"--username {username!r} is not allowed; allowed: 1 to 64 letters, digits or ._@-"
        )
    if center_id not in policy.centers:
        raise UsageError(
            f"--center {center_id!r} is not a center of the jurisdiction policy "
            f"({len(policy.centers)} centers: the district {policy.district_code}, its towns' "
            "and villages' codes)"
        )
    if role not in ROLES:
        raise UsageError(f"--role {role!r} is not one of: {', '.join(ROLES)}")
    if not display_name.strip():
        raise UsageError("--name must not be empty")
    return Account(username, center_id, role, display_name.strip())


def _store(settings: Settings) -> DutyStore:
    return DutyStore(
        settings,
        load_jurisdiction_policy(settings),
        load_routing_rules(settings),
        load_work_order_rules(settings),
        session_hours=1,
        connections=1,
    )


def add_account(settings: Settings, username: str, center_id: str, role: str, name: str) -> dict:
    """Create the account; its generated password, shown this once."""
    store = _store(settings)
    try:
        account = checked_account(store.policy, username, center_id, role, name)
        password = new_secret()[:20]
        try:
            store.add_account(account, password, utc_now())
        except Conflict as exc:
            raise UsageError(f"--username {username!r}: {exc}") from None
        return {
            "username": account.username,
            "center_id": account.center_id,
            "center_name": store.policy.center(account.center_id).name,
            "role": account.role,
            "password": password,
        }
    finally:
        store.close()


def list_accounts(settings: Settings, center_id: str | None) -> list[dict]:
    """The accounts (of one center), without any secret."""
    store = _store(settings)
    try:
        if center_id is not None and center_id not in store.policy.centers:
            raise UsageError(f"--center {center_id!r} is not a center of the jurisdiction policy")
        return [
            {
                "username": a.username,
                "center_id": a.center_id,
                "role": a.role,
                "display_name": a.display_name,
            }
            for a in store.accounts(center_id)
        ]
    finally:
        store.close()


def reset_password(settings: Settings, username: str) -> dict:
    """A new generated password for the account, shown this once; its sessions end."""
    store = _store(settings)
    try:
        password = new_secret()[:20]
        try:
            store.set_password(username, password, utc_now())
        except KeyError:
            raise UsageError(f"--username {username!r} has no account") from None
        return {"username": username, "password": password}
    finally:
        store.close()
