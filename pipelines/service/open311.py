"""An Open311 GeoReport v2 endpoint: hotline requests in, work orders out as service requests.

Mounted at ``/open311/v2`` (JSON format, ``.json`` paths):

* ``GET services.json``: the hotline's categories as services;
* ``POST requests.json``: a citizen's request, form-encoded as the standard
  says (JSON accepted too). It enters the platform as a hotline event on
  the raw topic and goes through normalization like any other call;
* ``GET requests.json`` and ``GET requests/{id}.json``: requests with their
  ``status`` (``open``/``closed``), ``status_notes`` (the case's state) and
  ``agency_responsible`` (the department it was dispatched to).

Every call needs an ``api_key``: an API token of an account (``POST
/api/token``), as a parameter or a bearer header. A request's place is
resolved on arrival from its coordinates (WGS-84, as the standard has it),
and an account sees only the requests of its jurisdiction. The platform
keeps no clear text of a request outside the raw topic: the description,
name and phone travel in the raw event, which normalization pseudonymizes;
PostgreSQL keeps the request's id, service, place and times.

Errors are the standard's: a list of ``{"code", "description"}`` with the
HTTP status as the code.
"""

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from features.case_workflow import STATE_LABELS
from features.district import District
from features.jurisdiction_policy import JurisdictionPolicy
from features.taxonomy import CATEGORIES, CATEGORIES_BY_SOURCE, category_label
from pipelines.errors import KafkaUnavailable
from pipelines.service.credentials import Account
from pipelines.service.duty_store import DutyStore

__all__ = ["OPEN311_PREFIX", "open311_router", "hotline_envelope", "service_request"]

OPEN311_PREFIX = "/open311/v2"
#: The group the hotline's services are listed under.
SERVICE_GROUP = "12345热线"
#: The longest description accepted, in characters.
MAX_DESCRIPTION = 4000
#: What a request's status notes say before it is dispatched.
RECEIVED_NOTE = "已受理，待派单"


class Open311ErrorItem(BaseModel):
    """One error in the standard's form."""

    code: int
    description: str


#: The standard's error answers, documented for every route.
_ERRORS = {
    status: {"model": list[Open311ErrorItem], "description": what}
    for status, what in (
        (400, "a missing or bad parameter, named"),
        (403, "no valid api_key, or outside the account's jurisdiction"),
        (404, "no such request"),
        (503, "the hotline topic is unavailable"),
    )
}

#: The form a request is created with (GeoReport v2 ``POST requests``).
_CREATE_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["service_code", "lat", "long"],
                    "properties": {
                        "api_key": {"type": "string"},
                        "service_code": {"type": "string"},
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "long": {"type": "number", "minimum": -180, "maximum": 180},
                        "address_string": {"type": "string"},
                        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                        "first_name": {"type": "string"},
                        "last_name": {"type": "string"},
                        "phone": {"type": "string"},
                        "email": {"type": "string"},
                        "device_id": {"type": "string"},
                        "account_id": {"type": "string"},
                    },
                }
            }
        },
    }
}


class Open311Error(Exception):
    """A refusal in the standard's form."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def hotline_envelope(request_id: str, fields: dict, lon: float, lat: float, now: datetime) -> dict:
    """The raw hotline event of a request, as a 12345 gateway would send it.

    >>> from datetime import UTC, datetime
    >>> e = hotline_envelope("ZZ1", {"service_code": "hotline.transport", "description": "路灯坏了",
    ...     "first_name": "三", "last_name": "张", "phone": "13800138000"}, 116.8, 40.4,
    ...     datetime(2026, 12, 6, 3, 0, tzinfo=UTC))
    >>> e["source"], e["category"], e["persons"], e["attributes"]
    ('hotline', 'hotline.transport', [{'role': 'caller', 'name': '张三', 'phone': '13800138000'}], {'ticket_no': 'open311-ZZ1', 'text': '路灯坏了'})
    """
    caller = {"role": "caller"}
    name = (fields.get("last_name") or "") + (fields.get("first_name") or "")
    if name:
        caller["name"] = name
    if fields.get("phone"):
        caller["phone"] = fields["phone"]
    stamp = now.isoformat()
    return {
        "schema_version": 1,
        "event_id": f"open311-{request_id}",
        "source": "hotline",
        "category": fields["service_code"],
        "event_time": stamp,
        "report_time": stamp,
        "location": {"lon": lon, "lat": lat, "crs": "WGS84"},
        "persons": [caller] if len(caller) > 1 else [],
        "vehicles": [],
        "attributes": {
            "ticket_no": f"open311-{request_id}",
            "text": fields.get("description") or fields.get("address_string") or "",
        },
    }


def service_request(row: dict) -> dict:
    """A stored request, with its case if it has one, as a GeoReport v2 service request."""
    state = row.get("case_state")
    return {
        "service_request_id": row["request_id"],
        "status": "closed" if state == "closed" else "open",
        "status_notes": STATE_LABELS[state] if state else RECEIVED_NOTE,
        "service_name": category_label(row["service_code"]),
        "service_code": row["service_code"],
        "agency_responsible": row.get("department") or "",
        "service_notice": "",
        "requested_datetime": row["requested_at"].isoformat(),
        "updated_datetime": (row.get("case_updated_at") or row["requested_at"]).isoformat(),
        "expected_datetime": None,
        "address": row.get("place") or "",
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": None,
    }


def _number(fields: dict, name: str) -> float:
    try:
        value = float(fields[name])
    except (KeyError, TypeError, ValueError):
        raise Open311Error(
            400, f"{name} is required and must be a number (WGS-84 degrees)"
        ) from None
    if value != value or abs(value) > 180:
        raise Open311Error(400, f"{name}={fields[name]!r} is not a coordinate in degrees")
    return value


def open311_router(
    store: DutyStore,
    policy: JurisdictionPolicy,
    district: District,
    *,
    clock: Callable[[], datetime],
    submit: Callable[[str, bytes], None],
) -> APIRouter:
    """The GeoReport v2 routes; ``submit(key, value)`` puts a raw hotline event on its topic."""
    router = APIRouter(prefix=OPEN311_PREFIX, tags=["open311"], responses=_ERRORS)
    services = {c: category_label(c) for c in CATEGORIES if c in CATEGORIES_BY_SOURCE["hotline"]}

    async def account_of(request: Request, fields: dict) -> Account:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else fields.get("api_key")
        account = await run_in_threadpool(store.account_of, key, clock()) if key else None
        if account is None:
            raise Open311Error(403, "api_key is missing or not valid (an API token of an account)")
        return account

    async def form(request: Request) -> dict:
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = json.loads(body or b"{}")
            except ValueError:
                raise Open311Error(400, "the body is not JSON") from None
            if not isinstance(parsed, dict):
                raise Open311Error(400, "the body must be a JSON object")
            return {k: str(v) for k, v in parsed.items() if v is not None}
        try:
            pairs = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Open311Error(400, "the body is not UTF-8") from None
        return {k: v[-1] for k, v in pairs.items()}

    def visible(account: Account, row: dict) -> bool:
        return policy.may_see(account.center_id, row["town_code"], row["village_code"])

    @router.get("/services.json")
    def list_services() -> list[dict]:
        """The hotline's categories as GeoReport services."""
        return [
            {
                "service_code": code,
                "service_name": label,
                "description": label,
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": SERVICE_GROUP,
            }
            for code, label in services.items()
        ]

    @router.post("/requests.json", openapi_extra=_CREATE_FORM)
    async def create_request(request: Request):
        """A citizen's request: onto the raw hotline topic, through normalization like any call."""
        try:
            fields = await form(request)
            account = await account_of(request, fields)
            code = fields.get("service_code", "")
            if code not in services:
                raise Open311Error(
                    400, f"service_code={code!r} is not one of the services (GET services.json)"
                )
            lat, lon = _number(fields, "lat"), _number(fields, "long")
            place = district.locate(lon, lat)
            if place is None:
                raise Open311Error(400, f"lat={lat}, long={lon} lies outside {district.name}")
            if len(fields.get("description", "")) > MAX_DESCRIPTION:
                raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
            if any(c < " " and c not in "\n\t" for v in fields.values() for c in v):
                raise Open311Error(400, "a field holds control characters")
        except Open311Error as exc:
            return _error(exc.status, exc.description)
        now = clock()
        request_id = "ZZ" + uuid.uuid4().hex[:14]
        envelope = hotline_envelope(request_id, fields, lon, lat, now)
        try:
            await run_in_threadpool(
                submit,
                envelope["event_id"],
                json.dumps(envelope, ensure_ascii=False).encode("utf-8"),
            )
        except KafkaUnavailable as exc:
            return _error(503, f"the hotline topic is unavailable, try again: {exc}")
        await run_in_threadpool(
            store.add_open311_request,
            account,
            request_id,
            envelope["event_id"],
            code,
            lon,
            lat,
            place.town_code,
            place.village_code,
            f"{place.town_name} {place.village_name}",
            now,
        )
        return [
            {
                "service_request_id": request_id,
                "service_notice": "已受理，将派单至相关部门",
                "account_id": None,
            }
        ]

    @router.get("/requests.json")
    async def list_requests(request: Request):
        """Requests of the account's jurisdiction, newest first (at most 1,000)."""
        params = dict(request.query_params)
        try:
            account = await account_of(request, params)
            ids = [i for i in params.get("service_request_id", "").split(",") if i]
            status = params.get("status")
            if status not in (None, "open", "closed"):
                raise Open311Error(400, f"status={status!r} is not one of: open, closed")
            code = params.get("service_code")
        except Open311Error as exc:
            return _error(exc.status, exc.description)
        rows = await run_in_threadpool(store.open311_requests, ids or None)
        found = [service_request(r) for r in rows if visible(account, r)]
        return [
            r
            for r in found
            if (status is None or r["status"] == status)
            and (code is None or r["service_code"] == code)
        ][:1000]

    @router.get("/requests/{request_id}.json")
    async def one_request(request_id: str, request: Request):
        """One request, as a list of one (the standard's form)."""
        try:
            account = await account_of(request, dict(request.query_params))
        except Open311Error as exc:
            return _error(exc.status, exc.description)
        rows = await run_in_threadpool(store.open311_requests, [request_id])
        if not rows:
            return _error(404, f"no service request {request_id!r}")
        if not visible(account, rows[0]):
            return _error(403, "that request is outside the account's jurisdiction")
        return [service_request(rows[0])]

    return router
