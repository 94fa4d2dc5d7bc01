"""The alert service's HTTP API and live page (FastAPI).

Every route but the page, the health check and the log-in needs an
account: a page session (cookie ``zz_session``, set by ``POST /api/session``)
or an API token (``Authorization: Bearer``, from ``POST /api/token``). What
an account may see is its center's part of the jurisdiction policy: an
alert or case outside it is 403, on the API and on the live stream alike.

Bodies are JSON, checked by their models (unknown fields refused); a body
larger than the configured limit is refused with 413 before it is read,
and one sent without a length with 411. The clock is injected
(``clock``), so that time limits are tested without sleeps.
"""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from features.case_workflow import STATE_LABELS
from features.jurisdiction_policy import JurisdictionPolicy
from pipelines.service.credentials import ROLES, USERNAME, Account
from pipelines.service.duty_store import Conflict, DutyStore
from pipelines.service.live_feed import LiveFeed, server_sent_event
from pipelines.service.live_items import live_item
from pipelines.service.watch_review import WatchReview
from pipelines.service.webhooks import check_target_url

__all__ = ["ServiceOptions", "create_app", "SESSION_COOKIE"]

SESSION_COOKIE = "zz_session"
_ALERT_ID = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
_CASE_ID = r"^AJ-[0-9a-f]{12}$"
_SUBSCRIPTION_ID = r"^WH-[A-Za-z0-9]{12}$"
#: A TCP port, 1 to 65535, without leading zeros.
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
AlertId = Annotated[str, Path(pattern=_ALERT_ID, description="an alert's id")]
CaseId = Annotated[str, Path(pattern=_CASE_ID, description="a case's id, AJ- and 12 hex digits")]
RequestId = Annotated[str, Path(pattern=r"^ZZ[0-9a-f]{14}$", description="an Open311 request's id")]
ProposalId = Annotated[
    str, Path(pattern=r"^WP-[0-9a-f]{12}$", description="a watch-list proposal's id")
]
SubscriptionId = Annotated[
    str, Path(pattern=_SUBSCRIPTION_ID, description="a webhook subscription's id")
]


def _clean_text(value: str) -> str:
    """Text PostgreSQL and the pages can hold: no control characters but newline and tab, no lone surrogates."""
    bad = next(
        (c for c in value if (c < " " and c not in "\n\t") or "\ud800" <= c <= "\udfff"), None
    )
    if bad is not None:
        raise ValueError(f"contains the character U+{ord(bad):04X}, which is not allowed")
    return value


#: Free text from a client: notes, comments, passwords. The pattern says in
#: the OpenAPI description what the validator enforces (less lone surrogates,
#: which a JSON schema pattern cannot name).
CleanText = Annotated[str, Field(pattern=r"^[^\x00-\x08\x0b-\x1f]*$"), AfterValidator(_clean_text)]


@dataclass(frozen=True)
class ServiceOptions:
    """What the API reads from ``alert_service`` in the configuration."""

    departments: tuple[str, ...]
    keep_alive_seconds: float
    max_body_bytes: int
    webhook_hosts: tuple[str, ...]


class Credentials(BaseModel):
    """A log-in."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME)
    password: CleanText = Field(min_length=1, max_length=256)


class Move(BaseModel):
    """A case moved to another state."""

    model_config = ConfigDict(extra="forbid")
    to: Literal[tuple(STATE_LABELS)]  # type: ignore[valid-type]
    note: CleanText = Field(default="", max_length=500)


class FollowUp(BaseModel):
    """The caller's satisfaction at follow-up (回访): 1 (very dissatisfied) to 5 (very satisfied)."""

    model_config = ConfigDict(extra="forbid")
    satisfaction: int = Field(ge=1, le=5)
    note: CleanText = Field(default="", max_length=500)


class Decision(BaseModel):
    """A district account's decision on a watch-list proposal, and why."""

    model_config = ConfigDict(extra="forbid")
    reason: CleanText = Field(min_length=4, max_length=500)


class Comment(BaseModel):
    """A comment on an alert."""

    model_config = ConfigDict(extra="forbid")
    note: CleanText = Field(min_length=1, max_length=500)


class Refusal(BaseModel):
    """Why a request was refused, in words staff read."""

    detail: str


#: The refusals any route may answer, documented once for the whole API.
_REFUSALS = {
    400: {"model": Refusal, "description": "a value the service does not accept (named)"},
    401: {"model": Refusal, "description": "no valid session or token"},
    403: {"model": Refusal, "description": "outside the account's jurisdiction"},
    404: {"model": Refusal, "description": "no alert or case of that id"},
    409: {"model": Refusal, "description": "not allowed in the alert's or case's state"},
    411: {"model": Refusal, "description": "a body without Content-Length"},
    413: {"model": Refusal, "description": "a body over alert_service.max_body_bytes"},
    503: {"model": Refusal, "description": "Kafka or PostgreSQL is unavailable; try again"},
}


class _BodyLimit:
    """Refuse bodies over ``max_bytes`` (413) and bodies of unknown length (411), unread."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            refusal = None
            if length is None:
                if b"transfer-encoding" in headers:
                    refusal = (411, "请求须带Content-Length")
            elif not length.isdigit() or int(length) > self.max_bytes:
                refusal = (413, f"请求体超过{self.max_bytes}字节")
            if refusal is not None:
                response = JSONResponse({"detail": refusal[1]}, status_code=refusal[0])
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _request_models(options: ServiceOptions) -> tuple[type[BaseModel], type[BaseModel]]:
    """The bodies whose allowed values come from the configuration, described exactly.

    A dispatch names one of the configured departments; a webhook URL is
    http(s) to one of the allowed hosts. The OpenAPI description carries
    both, so a client (and schemathesis) knows what is accepted.
    """
    departments = Literal[tuple(options.departments)]  # type: ignore[valid-type]
    hosts = "|".join(re.escape(h) for h in options.webhook_hosts)
    dispatch = create_model(
        "Dispatch",
        __config__=ConfigDict(extra="forbid"),
        __doc__="A case made from an alert and sent to a department.",
        department=(departments | None, None),
        note=(CleanText, Field(default="", max_length=500)),
    )
    subscription = create_model(
        "Subscription",
        __config__=ConfigDict(extra="forbid"),
        __doc__="A webhook subscription: the URL that receives the center's alerts.",
        url=(
            str,
            Field(
                max_length=500,
                pattern=rf"^https?://({hosts})(:{_PORT})?(/[!-~]*)?$",
            ),
        ),
    )
    return dispatch, subscription


def create_app(
    store: DutyStore,
    feed: LiveFeed,
    policy: JurisdictionPolicy,
    options: ServiceOptions,
    *,
    clock: Callable[[], datetime],
    lifespan=None,
    subscriptions_changed: Callable[[], None] = lambda: None,
    open311: APIRouter | None = None,
    watch: WatchReview | None = None,
) -> FastAPI:
    """The service's ASGI app over its store and live feed."""
    app = FastAPI(
        title="综治中心风险预警服务",
        version="1",
        description="Risk alerts for the district, town and village centers, and the closed "
        "loop from dispatch to closure.",
        lifespan=lifespan,
        responses=_REFUSALS,
    )
    Dispatch, Subscription = _request_models(options)
    page = resources.files("pipelines.service").joinpath("live_page.html").read_text("utf-8")

    def secret_of(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip() or None
        return request.cookies.get(SESSION_COOKIE)

    def current_account(request: Request) -> Account:
        secret = secret_of(request)
        account = None if secret is None else store.account_of(secret, clock())
        if account is None:
            raise HTTPException(401, "未登录或登录已过期", headers={"WWW-Authenticate": "Bearer"})
        return account

    Me = Annotated[Account, Depends(current_account)]

    def visible_alert(account: Account, alert_id: str) -> dict:
        alert = store.alert(alert_id)
        if alert is None:
            raise HTTPException(404, f"没有编号为{alert_id}的预警")
        if not policy.may_see_alert(
            account.center_id,
            alert["town_code"] or None,
            alert["village_code"] or None,
            alert.get("center_id"),
        ):
            raise HTTPException(403, "该预警不在本中心辖区内")
        return alert

    def visible_case(account: Account, case_id: str) -> dict:
        case = store.case(case_id)
        if case is None:
            raise HTTPException(404, f"没有编号为{case_id}的案件")
        if not policy.may_see(
            account.center_id, case["town_code"] or None, case["village_code"] or None
        ):
            raise HTTPException(403, "该案件不在本中心辖区内")
        return case

    def item(alert: dict) -> dict:
        holder = alert.get("center_id") or policy.home_center(
            alert["town_code"] or None, alert["village_code"] or None
        )
        return live_item(alert, center_id=holder, center_name=policy.center(holder).name)

    def me(account: Account) -> dict:
        return {
            "username": account.username,
            "display_name": account.display_name,
            "role": account.role,
            "role_label": ROLES[account.role],
            "center_id": account.center_id,
            "center_name": policy.center(account.center_id).name,
            "reviews_watch_list": account.center_id == policy.district_code,
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def live_page() -> str:
        return page

    @app.get("/healthz", tags=["service"])
    def health() -> dict:
        """Whether the service answers, and how many live pages are connected."""
        return {"status": "ok", "live_pages": feed.subscribers}

    def log_in(credentials: Credentials, kind: str) -> tuple[Account, str, datetime]:
        account = store.authenticate(credentials.username, credentials.password)
        if account is None:
            raise HTTPException(401, "用户名或密码错误")
        secret, expires = store.open_session(account, kind, clock())
        return account, secret, expires

    @app.post("/api/session", tags=["accounts"])
    def open_session(credentials: Credentials, response: Response) -> dict:
        """Log in for the page: sets the session cookie."""
        account, secret, expires = log_in(credentials, "page")
        response.set_cookie(
            SESSION_COOKIE,
            secret,
            httponly=True,
            samesite="strict",
            expires=expires,
            path="/",
        )
        return me(account)

    @app.post("/api/token", tags=["accounts"])
    def open_token(credentials: Credentials) -> dict:
        """Log in for the API: a bearer token."""
        account, secret, expires = log_in(credentials, "api")
        return {
            "access_token": secret,
            "token_type": "bearer",
            "expires_at": expires.isoformat(),
        } | me(account)

    @app.post("/api/logout", tags=["accounts"], status_code=204)
    def log_out(request: Request, account: Me, response: Response) -> None:
        """End the session or revoke the token in use."""
        store.close_session(secret_of(request))
        response.delete_cookie(SESSION_COOKIE, path="/")

    @app.get("/api/me", tags=["accounts"])
    def who_am_i(account: Me) -> dict:
        """The account in use and its center."""
        return me(account)

    @app.get("/api/departments", tags=["cases"])
    def departments(account: Me) -> list[str]:
        """The departments a case may be dispatched to."""
        return list(options.departments)

    @app.get("/api/alerts", tags=["alerts"])
    def alerts(account: Me, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
        """The latest alerts the account's center may see, newest first."""
        return [item(a) for a in store.alerts_for(account.center_id, limit)]

    @app.get("/api/alerts/{alert_id}", tags=["alerts"])
    def alert(account: Me, alert_id: AlertId) -> dict:
        """One alert, with its standing, case and audit trail."""
        found = visible_alert(account, alert_id)
        return item(found) | {"trail": store.trail(alert_id)}

    @app.post("/api/alerts/{alert_id}/acknowledge", tags=["alerts"])
    def acknowledge(account: Me, alert_id: AlertId) -> dict:
        """Sign for an alert (签收): it stops escalating."""
        visible_alert(account, alert_id)
        try:
            return item(store.acknowledge(account, alert_id, clock()))
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None

    @app.post("/api/alerts/{alert_id}/comments", tags=["alerts"], status_code=201)
    def comment(account: Me, alert_id: AlertId, body: Comment) -> dict:
        """Comment on an alert; the comment joins its trail."""
        visible_alert(account, alert_id)
        store.comment(account, alert_id, body.note, clock())
        return {"alert_id": alert_id, "trail": store.trail(alert_id)}

    @app.post("/api/alerts/{alert_id}/dispatch", tags=["cases"], status_code=201)
    def dispatch(account: Me, alert_id: AlertId, body: Dispatch) -> dict:
        """Make the alert's case and dispatch it to a department (派单)."""
        alert = visible_alert(account, alert_id)
        try:
            return store.dispatch(
                account, alert_id, alert.get("category"), body.department, body.note, clock()
            )
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/api/cases/{case_id}", tags=["cases"])
    def case(account: Me, case_id: CaseId) -> dict:
        """A case with its state and audit trail."""
        return visible_case(account, case_id)

    @app.post("/api/cases/{case_id}/moves", tags=["cases"])
    def move_case(account: Me, case_id: CaseId, body: Move) -> dict:
        """Move a case to its next state (受理, 处置, 核查, 结案, 退回, 重启)."""
        visible_case(account, case_id)
        try:
            return store.move_case(account, case_id, body.to, body.note, clock())
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/api/requests", tags=["open311"])
    def requests(account: Me) -> list[dict]:
        """Open311 requests of the account's jurisdiction, newest first."""
        return [
            r
            for r in store.open311_requests()
            if policy.may_see(account.center_id, r["town_code"], r["village_code"])
        ]

    @app.post("/api/requests/{request_id}/dispatch", tags=["cases"], status_code=201)
    def dispatch_request(account: Me, request_id: RequestId, body: Dispatch) -> dict:
        """Make an Open311 request's case and dispatch it to a department (派单)."""
        rows = store.open311_requests([request_id])
        if not rows:
            raise HTTPException(404, f"没有编号为{request_id}的诉求")
        if not policy.may_see(account.center_id, rows[0]["town_code"], rows[0]["village_code"]):
            raise HTTPException(403, "该诉求不在本中心辖区内")
        try:
            return store.dispatch(
                account,
                request_id,
                rows[0]["service_code"],
                body.department,
                body.note,
                clock(),
            )
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None

    def reviewer(account: Account) -> WatchReview:
        if watch is None:
            raise HTTPException(404, "本服务未启用布控审批")
        if account.center_id != policy.district_code:
            raise HTTPException(403, "仅区综治中心账号可审批布控")
        return watch

    @app.get("/api/watch/proposals", tags=["watch list"])
    def watch_proposals(
        account: Me,
        status: Literal["pending", "approved", "rejected", "expired"] = "pending",
    ) -> list[dict]:
        """The graph's watch-list proposals in one state, with their evidence (district only)."""
        review = reviewer(account)
        review.import_proposals(clock())
        return review.proposals(status)

    def decide(account: Account, proposal_id: str, body, how: str) -> dict:
        review = reviewer(account)
        try:
            return getattr(review, how)(account, proposal_id, body.reason, clock())
        except KeyError:
            raise HTTPException(404, f"没有编号为{proposal_id}的布控提议") from None
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None

    @app.post("/api/watch/proposals/{proposal_id}/approve", tags=["watch list"])
    def approve_watch(account: Me, proposal_id: ProposalId, body: Decision) -> dict:
        """Watch the proposal's vehicle, with a reason, for the approval period (district only)."""
        return decide(account, proposal_id, body, "approve")

    @app.post("/api/watch/proposals/{proposal_id}/reject", tags=["watch list"])
    def reject_watch(account: Me, proposal_id: ProposalId, body: Decision) -> dict:
        """Refuse the proposal, with a reason (district only)."""
        return decide(account, proposal_id, body, "reject")

    @app.post("/api/watch/proposals/{proposal_id}/renew", tags=["watch list"])
    def renew_watch(account: Me, proposal_id: ProposalId, body: Decision) -> dict:
        """Watch an approved or expired entry for another period, with a reason (district only)."""
        return decide(account, proposal_id, body, "renew")

    def subscription_view(sub: dict) -> dict:
        return {
            k: sub[k] for k in ("subscription_id", "center_id", "url", "created_by", "created_at")
        }

    @app.post("/api/webhooks", tags=["webhooks"], status_code=201)
    def add_webhook(account: Me, body: Subscription) -> dict:
        """Subscribe a URL to the center's alerts; the signing secret is shown this once."""
        try:
            url = check_target_url(body.url, options.webhook_hosts)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        sub = store.add_webhook(account, url, clock())
        subscriptions_changed()
        return subscription_view(sub) | {"secret": sub["secret"]}

    @app.get("/api/webhooks", tags=["webhooks"])
    def webhooks(account: Me) -> list[dict]:
        """The center's subscriptions (without their secrets)."""
        return [subscription_view(s) for s in store.webhook_subscriptions(account.center_id)]

    @app.delete("/api/webhooks/{subscription_id}", tags=["webhooks"], status_code=204)
    def remove_webhook(account: Me, subscription_id: SubscriptionId) -> None:
        """Stop a subscription of the center's."""
        sub = store.webhook_subscription(subscription_id)
        if sub is None:
            raise HTTPException(404, f"没有编号为{subscription_id}的订阅")
        if sub["center_id"] != account.center_id:
            raise HTTPException(403, "该订阅不属于本中心")
        store.remove_webhook(account, subscription_id, clock())
        subscriptions_changed()

    @app.post("/api/cases/{case_id}/follow-up", tags=["cases"])
    def follow_up(account: Me, case_id: CaseId, body: FollowUp) -> dict:
        """Record the caller's satisfaction with a closed case (回访, 1 to 5), once."""
        visible_case(account, case_id)
        try:
            return store.follow_up(account, case_id, body.satisfaction, body.note, clock())
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from None

    @app.get("/api/stream", tags=["alerts"], response_class=StreamingResponse)
    async def stream(request: Request):
        """Server-sent events: every new or updated alert the account's center may see."""
        secret = secret_of(request)
        account = (
            None if secret is None else await run_in_threadpool(store.account_of, secret, clock())
        )
        if account is None:
            raise HTTPException(401, "未登录或登录已过期", headers={"WWW-Authenticate": "Bearer"})
        sub = feed.subscribe(account.center_id)

        async def events():
            try:
                yield server_sent_event("hello", me(account))
                while True:
                    try:
                        entry = await asyncio.wait_for(
                            sub.queue.get(), timeout=options.keep_alive_seconds
                        )
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield entry
            finally:
                feed.unsubscribe(sub)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    if open311 is not None:
        app.include_router(open311)
    app.add_middleware(_BodyLimit, max_bytes=options.max_body_bytes)
    return app
