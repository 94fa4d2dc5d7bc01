"""The closed vocabularies of the roles persons and vehicles play in an event.

A raw record's ``role`` is free text from the channel; only a role from the
vocabulary leaves normalization (a role typed as a name or a phone number
would otherwise travel in clear). Anything else becomes :data:`OTHER_ROLE`.
Downstream stages read these codes: the graph job links a ``caller`` as the
reporter of an incident and labels persons by a ``suspect`` role
(``jobs/graph/edges.py``, ``jobs/graph/risk.py``), and Superset shows the
Chinese labels below (``graph_new_links`` dataset).

Examples
--------
>>> person_role("Suspect "), person_role("报警人"), person_role("张三")
('suspect', 'caller', 'other')
>>> vehicle_role("observed"), vehicle_role("13800138000")
('observed', 'other')
"""

from __future__ import annotations

import unicodedata
from types import MappingProxyType

__all__ = ["OTHER_ROLE", "PERSON_ROLES", "VEHICLE_ROLES", "person_role", "vehicle_role"]

#: What any role outside the vocabulary becomes.
OTHER_ROLE = "other"

#: Roles of a person, with the label duty staff read.
PERSON_ROLES = MappingProxyType(
    {
        "caller": "报警人",
        "party": "当事人",
        "victim": "受害人",
        "suspect": "嫌疑对象",
        "witness": "证人",
        "driver": "驾驶人",
        "owner": "车主",
        OTHER_ROLE: "其他",
    }
)

#: Roles of a vehicle, with the label duty staff read.
VEHICLE_ROLES = MappingProxyType(
    {
        "involved": "涉事车辆",
        "suspect": "嫌疑车辆",
        "victim": "受害车辆",
        "observed": "过车记录",
        OTHER_ROLE: "其他",
    }
)

# Other spellings channels use for the same roles.
_PERSON_SYNONYMS = {
    "reporter": "caller",
    "informant": "caller",
    "来电人": "caller",
    "举报人": "caller",
    "报案人": "caller",
    "反映人": "caller",
    "嫌疑人": "suspect",
    "被害人": "victim",
    "目击者": "witness",
    "司机": "driver",
    "驾驶员": "driver",
}
_VEHICLE_SYNONYMS = {"涉事车": "involved", "嫌疑车": "suspect", "过车": "observed"}


def _lookup(role: str, roles, synonyms) -> str:
    text = unicodedata.normalize("NFKC", role).strip().casefold()
    if text in roles:
        return text
    for code, label in roles.items():
        if text == label:
            return code
    return synonyms.get(text, OTHER_ROLE)


def person_role(role: str) -> str:
    """The code of a person's role: a :data:`PERSON_ROLES` key, else ``'other'``.

    Codes and labels match case- and width-insensitively; known synonyms
    (``reporter``, ``来电人``, ``嫌疑人`` ...) map to their code.
    """
    return _lookup(role, PERSON_ROLES, _PERSON_SYNONYMS)


def vehicle_role(role: str) -> str:
    """The code of a vehicle's role: a :data:`VEHICLE_ROLES` key, else ``'other'``."""
    return _lookup(role, VEHICLE_ROLES, _VEHICLE_SYNONYMS)
