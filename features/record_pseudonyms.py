"""Personal data of a record: persons, vehicles and free-text attributes.

Normalization replaces every identifier by its keyed-hash pseudonym, adds
the match keys that let mentions without an ID number or with a misread
plate be linked, and scrubs identifiers typed into free text (the record's
own names and numbers wherever they occur). Roles are mapped onto a closed
vocabulary (:mod:`features.roles`), attributes outside the channel's
declared set are dropped, and the event id becomes a keyed token. No
personal data leaves this step in clear.
"""

from __future__ import annotations

from types import MappingProxyType

from features.contract_violation import ContractViolation
from features.free_text_scrub import record_identifiers, scrub_text
from features.person_keys import person_key_tokens
from features.plate_keys import plate_key_tokens
from features.pseudonymize import match_key_token, pseudonymize
from features.raw_envelope import require_field
from features.roles import person_role, vehicle_role

__all__ = [
    "CHANNEL_ATTRIBUTES",
    "REQUIRED_ATTRIBUTES",
    "event_token",
    "pseudonymize_person",
    "pseudonymize_vehicle",
    "channel_attributes",
]

#: The attributes each channel may send (docs/contract.md); any other name is
#: dropped, since a name is free text too and could carry an identifier.
CHANNEL_ATTRIBUTES = MappingProxyType(
    {
        "grid": ("reporter_id", "description"),
        "hotline": ("ticket_no", "text"),
        "video": ("device_id", "site_id", "device_kind", "lane", "confidence"),
    }
)

#: The attributes each channel must send.
REQUIRED_ATTRIBUTES = MappingProxyType(
    {
        "grid": ("reporter_id", "description"),
        "hotline": ("ticket_no", "text"),
        "video": ("device_id", "site_id", "device_kind"),
    }
)

# Label of the event-id token among the keyed hashes of match_key_token.
_EVENT_ID_LABEL = "event_id"
_PERSON_FIELDS = (("id_number", "id_hash"), ("phone", "phone_hash"), ("name", "name_hash"))


def pseudonymize_person(person, index: int, key: bytes) -> dict:
    """Return a person of the record with keyed-hash pseudonyms instead of clear data.

    Parameters
    ----------
    person : dict
        ``persons[index]`` of the raw envelope: a ``role`` and optional
        ``id_number``, ``phone`` and ``name``.
    index : int
        Position in ``persons``, to name the bad field in messages.
    key : bytes
        Pseudonymization key.

    Returns
    -------
    dict
        ``role`` (a :data:`features.roles.PERSON_ROLES` code), ``id_hash``,
        ``phone_hash``, ``name_hash`` (None when not given) and the person match keys of
        :func:`features.person_keys.person_key_tokens`.

    Raises
    ------
    ContractViolation
        If the person is not an object or a field is mistyped or malformed.
    """
    where = f"persons[{index}]."
    if not isinstance(person, dict):
        raise ContractViolation(
            "wrong_type", f"field 'persons[{index}]' must be an object, got {type(person).__name__}"
        )
    out = {"role": person_role(require_field(person, "role", str, where))}
    for field, hashed in _PERSON_FIELDS:
        value = person.get(field)
        if value is None:
            out[hashed] = None
            continue
        if not isinstance(value, str):
            raise ContractViolation(
                "wrong_type", f"field '{where}{field}' must be str, got {type(value).__name__}"
            )
        out[hashed] = _pseudonym(value, field, key, f"{where}{field}")
    # Match keys for mentions without an ID number (features/person_keys.py).
    out.update(person_key_tokens(person.get("name"), person.get("phone"), key))
    return out


def pseudonymize_vehicle(vehicle, index: int, key: bytes) -> dict:
    """Return a vehicle of the record with its plate replaced by pseudonyms.

    Parameters
    ----------
    vehicle : dict
        ``vehicles[index]`` of the raw envelope: a ``role`` and a ``plate``.
    index : int
        Position in ``vehicles``, to name the bad field in messages.
    key : bytes
        Pseudonymization key.

    Returns
    -------
    dict
        ``role`` (a :data:`features.roles.VEHICLE_ROLES` code), ``plate_hash``
        and the plate match keys of
        :func:`features.plate_keys.plate_key_tokens`.

    Raises
    ------
    ContractViolation
        If the vehicle is not an object or a field is missing or malformed.
    """
    where = f"vehicles[{index}]."
    if not isinstance(vehicle, dict):
        raise ContractViolation(
            "wrong_type",
            f"field 'vehicles[{index}]' must be an object, got {type(vehicle).__name__}",
        )
    role = vehicle_role(require_field(vehicle, "role", str, where))
    plate = require_field(vehicle, "plate", str, where)
    # Match keys for misread plates (features/plate_keys.py), hashed here
    # while the plate is still in clear; an unreadable read keeps its token.
    return {
        "role": role,
        "plate_hash": _pseudonym(plate, "plate", key, f"{where}plate"),
        **plate_key_tokens(plate, key),
    }


def _pseudonym(value: str, kind: str, key: bytes, field: str) -> str | None:
    if not value.strip():
        return None
    try:
        return pseudonymize(value, kind, key)
    except ValueError as exc:
        raise ContractViolation("bad_value", f"field '{field}': {exc}") from None


def event_token(event_id: str, key: bytes) -> str:
    """The event id as it leaves normalization: a keyed hash of the id as sent.

    An id may embed anything its channel put there (a ticket number, a
    phone); the token is stable under one key, so replays of an event still
    deduplicate on it, and it is the normalized topic's record key.

    >>> key = b"0123456789abcdef"
    >>> event_token("grid-1", key) == event_token("grid-1", key) != event_token("grid-2", key)
    True
    """
    return match_key_token(_EVENT_ID_LABEL, event_id, key)


def channel_attributes(obj: dict, source: str, key: bytes) -> dict:
    """Return the record's declared channel attributes with identifiers scrubbed.

    Parameters
    ----------
    obj : dict
        The raw envelope.
    source : str
        Its channel; each channel requires its own attributes.
    key : bytes
        Pseudonymization key.

    Returns
    -------
    dict
        The attributes of :data:`CHANNEL_ATTRIBUTES` ``[source]`` that the
        record has, every string passed through
        :func:`features.free_text_scrub.scrub_text` with the record's own
        names, phones, ID numbers and plates as known identifiers; other
        attribute names are dropped.

    Raises
    ------
    ContractViolation
        If a required attribute is missing or a declared attribute is not a
        string, number, boolean or null.
    """
    attributes = require_field(obj, "attributes", dict)
    for field in REQUIRED_ATTRIBUTES[source]:
        require_field(attributes, field, str, "attributes.")
    known = record_identifiers(obj)
    clean = {}
    for name in CHANNEL_ATTRIBUTES[source]:
        if name not in attributes:
            continue
        value = attributes[name]
        if isinstance(value, str):
            # Identifiers typed into free text never travel in clear either.
            clean[name] = scrub_text(value, key, known)
        elif value is None or isinstance(value, bool):
            clean[name] = value
        elif isinstance(value, (int, float)):
            # A number that reads as a phone or an ID number is not kept.
            text = str(value)
            clean[name] = value if scrub_text(text, key) == text else None
        else:
            raise ContractViolation(
                "wrong_type",
                f"field 'attributes.{name}' must be a string, number or boolean, "
                f"got {type(value).__name__}",
            )
    return clean
