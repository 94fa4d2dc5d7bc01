"""The units an official reply names: who answers a citizen's message.

Replies to hotline messages name the handling unit in running text
("已转区住房和城乡建设局办理", "请与教育局办公室联系", "街道将加大巡查"), not
in a field. The declared units (``reply_units:`` in
``hotline_routing.classes_file``) give each unit the words that name it and
the class of matters it handles, or none for units that handle every kind
(a street office, the police). :func:`units_named` lists the units a reply
names, first-named first: the first one with a class is the reply's weak
label for its message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

__all__ = ["ReplyUnit", "reply_units", "units_named", "weak_label"]

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ReplyUnit:
    """A unit that answers messages, the words that name it, and its class (or None)."""

    name: str
    names: tuple[str, ...]
    label: str | None


def reply_units(mapping: object, classes: Set[str]) -> tuple[ReplyUnit, ...]:
    """The file's ``reply_units:``, checked against the router's ``classes``; ValueError names what is wrong.

    >>> reply_units({"reply_units": {"教育": {"class": "教育文体", "names": ["教育局"]}}}, {"教育文体"})
    (ReplyUnit(name='教育', names=('教育局',), label='教育文体'),)
    >>> reply_units({"reply_units": {"教育": {"class": "教育", "names": ["教育局"]}}}, {"教育文体"})
    Traceback (most recent call last):
    ...
    ValueError: reply unit '教育': class '教育' is not one of the router's classes (教育文体)
    """
    if not isinstance(mapping, Mapping) or not isinstance(mapping.get("reply_units"), Mapping):
        raise ValueError("expected a 'reply_units:' mapping of unit -> {class, names}")
    units = []
    for name, spec in mapping["reply_units"].items():
        if not isinstance(spec, Mapping) or "names" not in spec or "class" not in spec:
            raise ValueError(f"reply unit {name!r} needs 'class' (or null) and 'names'")
        names = spec["names"]
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            raise ValueError(f"reply unit {name!r}: names must be a list of non-empty words")
        label = spec["class"]
        if label is not None and label not in classes:
            raise ValueError(
                f"reply unit {name!r}: class {label!r} is not one of the router's classes "
                f"({', '.join(sorted(classes))})"
            )
        units.append(ReplyUnit(str(name), tuple(n.strip() for n in names), label))
    return tuple(units)


def units_named(reply: object, units: Sequence[ReplyUnit]) -> list[str]:
    """The units ``reply`` names, in the order it first names them (blanks ignored).

    >>> units = (ReplyUnit("住建", ("住建", "住房和城乡建设"), "城乡建设"),
    ...          ReplyUnit("街道", ("街道",), None))
    >>> units_named("街道将配合区住房和\\n\\t城乡建设局", units)
    ['街道', '住建']
    >>> units_named(None, units)
    []
    """
    if not isinstance(reply, str):
        return []
    text = _SPACE.sub("", reply)
    first = {}
    for unit in units:
        found = [i for i in (text.find(n) for n in unit.names) if i >= 0]
        if found:
            first[unit.name] = min(found)
    return sorted(first, key=first.__getitem__)


def weak_label(named: Sequence[str], units: Sequence[ReplyUnit]) -> str | None:
    """The class of the first named unit that has one (None when none has).

    >>> units = (ReplyUnit("住建", ("住建",), "城乡建设"), ReplyUnit("街道", ("街道",), None))
    >>> weak_label(["街道", "住建"], units), weak_label(["街道"], units)
    ('城乡建设', None)
    """
    label_of = {u.name: u.label for u in units}
    return next((label_of[n] for n in named if label_of.get(n)), None)
