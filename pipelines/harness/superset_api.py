"""A small client for the Superset REST API: what the demo and tests check."""

from __future__ import annotations

import os

import requests

from pipelines.errors import ServiceError
from pipelines.settings import Settings

__all__ = ["SupersetClient"]


class SupersetClient:
    """Log in once with the admin account, then call the API with a bearer token."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self._session = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SupersetClient:
        """A client logged in as the admin whose password the settings name."""
        password = os.environ.get("ZONGZHI_SUPERSET_ADMIN_PASSWORD")
        if not password:
            path = settings.var / "secrets" / "superset.admin.password"
            try:
                password = path.read_text().strip()
            except FileNotFoundError:
                raise ServiceError(
                    f"Superset admin password file {path} does not exist; run `zongzhi infra up`"
                ) from None
        return cls(settings.superset_url, settings.section("superset")["admin_user"], password)

    def _request(self, method: str, path: str, **kwargs) -> dict:
        return self._response(method, path, **kwargs).json()

    def _response(self, method: str, path: str, **kwargs) -> requests.Response:
        session = self._login()
        try:
            response = session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ServiceError(f"Superset at {self.base_url} is unreachable: {exc}") from None
        if response.status_code >= 400:
            raise ServiceError(
                f"Superset {method} {path} answered {response.status_code}: {response.text[:200]}"
            )
        return response

    def _login(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            try:
                response = session.post(
                    self.base_url + "/api/v1/security/login",
                    timeout=self.timeout,
                    json={
                        "username": self.username,
                        "password": self.password,
                        "provider": "db",
                        "refresh": True,
                    },
                )
            except requests.RequestException as exc:
                raise ServiceError(f"Superset at {self.base_url} is unreachable: {exc}") from None
            if response.status_code != 200:
                raise ServiceError(
                    f"Superset login as {self.username!r} failed: "
                    f"{response.status_code} {response.text[:200]}"
                )
            session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
            self._session = session
        return self._session

    def export_assets(self) -> bytes:
        """Every database, dataset, chart and dashboard as Superset's export bundle (ZIP)."""
        return self._response("GET", "/api/v1/assets/export/").content

    def get(self, path: str, **params) -> dict:
        """GET an API path (e.g. ``/api/v1/dashboard/``) and return its JSON."""
        return self._request("GET", path, params=params or None)

    def dashboard_by_slug(self, slug: str) -> dict:
        """The dashboard's API record."""
        return self._request("GET", f"/api/v1/dashboard/{slug}")["result"]

    def dashboard_charts(self, id_or_slug) -> list[dict]:
        """The charts of a dashboard, as the API lists them."""
        return self._request("GET", f"/api/v1/dashboard/{id_or_slug}/charts")["result"]

    def chart_data(self, chart_id: int, force: bool = False) -> list[dict]:
        """Rows of a chart's saved query (its first query); ``force`` skips the cache."""
        result = self._request(
            "GET", f"/api/v1/chart/{chart_id}/data/", params={"force": "true"} if force else None
        )["result"]
        if result and result[0].get("error"):
            raise ServiceError(f"chart {chart_id} query failed: {result[0]['error']}")
        return result[0]["data"] if result else []
