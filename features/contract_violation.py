"""The contract version and the reasons a raw record can be refused.

A record that breaks the event contract raises :class:`ContractViolation`
with one of :data:`REASON_CODES`; at the system's edge it is not a crash but
data to route to the dead-letter topic with that reason (see
:func:`features.dead_letter.route_raw_record`).
"""

from __future__ import annotations

__all__ = [
    "CONTRACT_VERSION",
    "REASON_CODES",
    "ContractViolation",
]

#: Version of the raw envelope and of the normalized record it becomes.
CONTRACT_VERSION = 1

#: Why a record was dead-lettered. Every dead-letter record carries one.
REASON_CODES = (
    "invalid_json",
    "invalid_encoding",
    "too_large",
    "missing_field",
    "wrong_type",
    "unsupported_version",
    "source_mismatch",
    "unknown_category",
    "bad_value",
    "outside_district",
    "future_timestamp",
    "past_timestamp",
)


class ContractViolation(ValueError):
    """A raw record breaks the contract; ``reason_code`` says how."""

    def __init__(self, reason_code: str, message: str):
        if reason_code not in REASON_CODES:
            raise ValueError(
                f"reason_code={reason_code!r} is not one of: {', '.join(REASON_CODES)}"
            )
        super().__init__(message)
        self.reason_code = reason_code
