"""Accounts, passwords and tokens of the alert service.

Every person has an account bound to one center of the jurisdiction policy,
with a role. Passwords are hashed with Argon2id (``argon2-cffi``, its
default parameters); page sessions and API tokens are random secrets of
which the service keeps only the SHA-256, so that a leaked table opens
nothing.

The demo's accounts, one duty officer per center and a supervisor at the
district, are generated at first start (:func:`demo_accounts`) and their
passwords written to a file under the state folder, never committed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from features.jurisdiction_policy import JurisdictionPolicy

__all__ = [
    "ROLES",
    "USERNAME",
    "Account",
    "demo_accounts",
    "hash_password",
    "new_secret",
    "password_matches",
    "secret_digest",
]

#: Roles, and what staff read for each.
ROLES = {"duty": "值班员", "supervisor": "督办员"}

#: What a username may be: letters, digits and ``._@-``, 1 to 64 of them.
USERNAME = r"^[A-Za-z0-9._@-]{1,64}$"

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """A person's account: the center it is bound to and its role."""

    username: str
    center_id: str
    role: str
    display_name: str


def demo_accounts(policy: JurisdictionPolicy) -> list[Account]:
    """One duty officer per center (``duty-<center id>``), and a supervisor at the district.

    >>> from features.jurisdiction_policy import Center
    >>> c = Center("110118", "密云区综治中心", "district", None, True, frozenset(), frozenset())
    >>> [a.username for a in demo_accounts(JurisdictionPolicy("110118", {"110118": c}))]
    ['duty-110118', 'supervisor-110118']
    """
    accounts = [
        Account(f"duty-{c.id}", c.id, "duty", f"{c.name}{ROLES['duty']}")
        for c in policy.centers.values()
    ]
    district = policy.center(policy.district_code)
    accounts.append(
        Account(
            f"supervisor-{district.id}",
            district.id,
            "supervisor",
            f"{district.name}{ROLES['supervisor']}",
        )
    )
    return accounts


def hash_password(password: str) -> str:
    """The Argon2id hash of a password, with its salt and parameters."""
    return _HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one hashed in ``password_hash`` (never raises)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A fresh random secret for a password, a session or a token (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    """What the service keeps of a session or token: the SHA-256 of its secret, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()
