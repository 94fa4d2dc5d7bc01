"""The rotation table: each old token that was found, and the current token it becomes.

After ``zongzhi keys rotate`` made key version ``n``, a person seen before
the rotation carries tokens of an older version and one seen after it
tokens of version ``n``. The table links the two, row by row
(``old_token``, ``new_token``, ``from_version``, ``to_version``), computed
from the old token and the keys after its version alone
(:func:`features.pseudonymize.rotate_token`); the clear values are long
gone by then. Readers of the lake map every old token through it
(``jobs/graph/key_rotation.py``), so they need no key.

Examples
--------
>>> from features.key_chain import key_chain
>>> from features.pseudonymize import pseudonymize
>>> k1, k2 = bytes(range(32)), bytes(range(32, 64))
>>> old = pseudonymize("张伟", "name", k1)
>>> rows = rotation_rows([f"person:anon:{old}", None, "incident:e1"], key_chain([k1, k2], strict=False))
>>> rows["new_token"] == [pseudonymize("张伟", "name", key_chain([k1, k2], strict=False))]
True
>>> rows["from_version"], rows["to_version"]
([1], [2])
"""

from __future__ import annotations

from collections.abc import Iterable

from features.pseudonymize import TOKEN_PATTERN, as_key_chain, parse_token, rotate_token

__all__ = ["ROTATION_COLUMNS", "tokens_in", "rotation_rows", "relink"]

#: Columns of the rotation table, in order.
ROTATION_COLUMNS = ("old_token", "new_token", "from_version", "to_version")


def tokens_in(texts: Iterable) -> set:
    """Every token inside ``texts`` (node ids, free text, plain tokens); None and non-str skipped.

    >>> sorted(tokens_in(["vehicle:veh_v2_" + "a" * 24, "no token", None, 7]))
    ['veh_v2_aaaaaaaaaaaaaaaaaaaaaaaa']
    """
    found = set()
    for text in texts:
        if isinstance(text, str) and "_" in text:
            found.update(m.group(0) for m in TOKEN_PATTERN.finditer(text))
    return found


def rotation_rows(texts: Iterable, key) -> dict:
    """The rotation table (columns :data:`ROTATION_COLUMNS`) for every token older than ``key``.

    Parameters
    ----------
    texts : iterable of str
        Strings that hold tokens (see :func:`tokens_in`).
    key : KeyChain
        Every key up to the current version.

    Returns
    -------
    dict
        Column name to list, rows sorted by ``old_token``, each old token
        spelled with its version (a token written before versions existed,
        ``pid_<hex>``, is ``pid_v1_<hex>``); tokens of the current version
        need no row.

    Raises
    ------
    ValueError
        If a token is newer than the chain (a key file is missing).
    """
    chain = as_key_chain(key)
    columns = {name: [] for name in ROTATION_COLUMNS}
    spelled = set()
    for token in tokens_in(texts):
        prefix, version, digest = parse_token(token)
        spelled.add(f"{prefix}_v{version}_{digest}")
    for token in sorted(spelled):
        version = parse_token(token)[1]
        if version > chain.version:
            raise ValueError(
                f"token of version {version} found, but the keys end at version "
                f"{chain.version}; a key file is missing"
            )
        if version == chain.version:
            continue
        columns["old_token"].append(token)
        columns["new_token"].append(rotate_token(token, chain))
        columns["from_version"].append(version)
        columns["to_version"].append(chain.version)
    return columns


def relink(value, link: dict):
    """``value`` with every token inside it replaced by ``link``'s current token.

    ``value`` is a str, a list (or array) of them, or anything else (kept);
    a token ``link`` lacks is kept; a token of before versions is looked up
    by its versioned spelling.

    >>> link = {"veh_v1_" + "a" * 24: "veh_v2_" + "b" * 24}
    >>> relink("vehicle:veh_" + "a" * 24, link) == "vehicle:veh_v2_" + "b" * 24
    True
    >>> relink(["x", None], link), relink(3, link)
    (['x', None], 3)
    """

    def one(match):
        prefix, version, digest = match.group(1), match.group(2) or "1", match.group(3)
        return link.get(f"{prefix}_v{version}_{digest}", match.group(0))

    if isinstance(value, str):
        return TOKEN_PATTERN.sub(one, value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [relink(v, link) for v in value]
    return value
