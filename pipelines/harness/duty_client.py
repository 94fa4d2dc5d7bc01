"""A small client for the alert service's API: what the demo and the bench drive."""

from __future__ import annotations

import json

import requests

from pipelines.errors import ServiceError
from pipelines.settings import Settings

__all__ = ["DutyClient", "alert_service_url", "demo_account"]


def alert_service_url(settings: Settings) -> str:
    """The alert service's base URL."""
    section = settings.section("alert_service")
    return f"http://{section.text('host')}:{section.integer('port')}"


def demo_account(settings: Settings, username: str) -> dict:
    """A demo account (username, password, center) from the file the service wrote at first start."""
    path = settings.var / settings.section("alert_service").text("accounts_file")
    try:
        accounts = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServiceError(
            f"the demo accounts file {path} does not exist; `zongzhi infra up` starts the "
            "alert service, which writes it"
        ) from None
    for account in accounts:
        if account["username"] == username:
            return account
    raise ServiceError(f"no demo account {username!r} in {path}")


class DutyClient:
    """Log in with an account's password once, then call the API with its bearer token."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        answer = self._call("POST", "/api/token", json={"username": username, "password": password})
        self.token = answer["access_token"]
        self._session.headers["Authorization"] = f"Bearer {self.token}"
        self.center_id = answer["center_id"]

    @classmethod
    def for_center(cls, settings: Settings, center_id: str) -> DutyClient:
        """A client logged in as the demo duty officer of ``center_id``."""
        account = demo_account(settings, f"duty-{center_id}")
        return cls(alert_service_url(settings), account["username"], account["password"])

    def _call(self, method: str, path: str, **kwargs):
        try:
            response = self._session.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise ServiceError(
                f"the alert service at {self.base_url} is unreachable: {exc}"
            ) from None
        if response.status_code >= 400:
            raise ServiceError(
                f"alert service {method} {path} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        return response.json() if response.content else None

    def get(self, path: str):
        """GET ``path``; its JSON."""
        return self._call("GET", path)

    def post(self, path: str, body: dict | None = None):
        """POST a JSON body to ``path``; the answer's JSON."""
        return self._call("POST", path, json=body or {})

    def delete(self, path: str) -> None:
        """DELETE ``path``."""
        self._call("DELETE", path)
