"""Superset configuration for the zongzhi walking skeleton.

Loaded through SUPERSET_CONFIG_PATH (set by infra/superset.sh). Holds no
secret: the SECRET_KEY comes from the environment (SUPERSET_SECRET_KEY) or
from $ZONGZHI_VAR/secrets/superset.secret, which infra/superset.sh creates
with random content (mode 600) on first start. All state lives under
$ZONGZHI_VAR/superset; nothing here reaches out to the internet.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_VAR = Path(os.environ.get("ZONGZHI_VAR") or _ROOT / "var")
_HOME = Path(os.environ.get("SUPERSET_HOME") or _VAR / "superset")
_SECRET_FILE = _VAR / "secrets" / "superset.secret"


def _secret_key() -> str:
    key = os.environ.get("SUPERSET_SECRET_KEY", "").strip()
    if key:
        return key
    try:
        key = _SECRET_FILE.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if not key:
        raise RuntimeError(
            f"no Superset SECRET_KEY: set SUPERSET_SECRET_KEY or create {_SECRET_FILE} "
            "(infra/superset.sh start does this)"
        )
    return key


SECRET_KEY = _secret_key()

# Metadata database: SQLite in the state folder (enough for one local node).
DATA_DIR = str(_HOME)
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"

# Analysts read Chinese.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "us", "name": "English"},
}

# --- offline: nothing may phone home --------------------------------------
# The UI embeds a usage pixel (scarf) and map tiles/fonts from public CDNs;
# a strict Content-Security-Policy keeps the browser on this host only.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
MAPBOX_API_KEY = ""
SLACK_API_TOKEN = None
FEATURE_FLAGS = {
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "ENABLE_DASHBOARD_SCREENSHOT_ENDPOINTS": False,
    "ENABLE_DASHBOARD_DOWNLOAD_WEBDRIVER_SCREENSHOT": False,
    # Each dashboard opens for the center roles that read all of its
    # datasets (set by `zongzhi superset provision`; infra/superset/access.py).
    "DASHBOARD_RBAC": True,
}

# --- local single-node runtime ---------------------------------------------
# Metadata cache in process; query results in a file-system cache under the
# state folder, shared by every worker and surviving restarts. A dataset's
# own cache_timeout overrides the default (the alerts' is short: they stream
# in; the nightly tables' lasts a day). `zongzhi nightly` warms the overview
# after each run (pipelines/harness/superset_cache.py).
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": str(_HOME / "cache" / "data"),
    "CACHE_DEFAULT_TIMEOUT": 24 * 3600,
    "CACHE_THRESHOLD": 20000,
    "CACHE_KEY_PREFIX": "zongzhi_data_",
}


# Every chart of a dashboard draws at once: ECharts' entry animation would
# spend the CPU the other charts need while they load (2 cores; measured with
# `zongzhi bench dashboards`). A theme token of Superset's, over its default.
def _theme_without_animation() -> dict:
    import copy

    from superset.config import THEME_DEFAULT as superset_theme

    theme = copy.deepcopy(superset_theme)
    theme["token"]["echartsOptionsOverrides"] = {"animation": False}
    return theme


THEME_DEFAULT = _theme_without_animation()


# The audit trail of who opened which dashboard and chart: JSON lines in
# $ZONGZHI_VAR/log/superset-events.jsonl instead of a committed row of the
# SQLite metadata database per request, whose write lock the requests of one
# page queued on.
AUDIT_LOG = _VAR / "log" / "superset-events.jsonl"


def _audit_event_logger():
    import json
    import logging
    from datetime import UTC, datetime

    from superset.utils.log import AbstractEventLogger

    audit = logging.getLogger("zongzhi.superset.audit")
    audit.propagate = False
    if not audit.handlers:
        AUDIT_LOG.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(AUDIT_LOG, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)

    class AuditFileEventLogger(AbstractEventLogger):
        """Superset's event log, one JSON object a line."""

        def log(  # noqa: PLR0913 - Superset's signature
            self,
            user_id,
            action,
            dashboard_id,
            duration_ms,
            slice_id,
            referrer,
            *args,
            curated_payload=None,
            **kwargs,
        ) -> None:
            # What Superset's own database logger keeps, record for record.
            records = kwargs.get("records") or ([curated_payload] if curated_payload else [])
            at = datetime.now(UTC).isoformat(timespec="milliseconds")
            for record in records:
                line = {
                    "at": at,
                    "user_id": user_id,
                    "action": action,
                    "dashboard_id": dashboard_id or record.get("dashboard_id"),
                    "slice_id": slice_id or record.get("slice_id"),
                    "duration_ms": duration_ms,
                    "referrer": referrer,
                    "record": record,
                }
                audit.info(json.dumps(line, ensure_ascii=False, default=str))

    return AuditFileEventLogger()


EVENT_LOGGER = _audit_event_logger()

RATELIMIT_STORAGE_URI = "memory://"
# Login attempts are rate limited per client address, on the login form and
# on the API's login alike (a guessed password costs time either way); the
# rest of the application gets a generous ceiling.
RATELIMIT_ENABLED = True
RATELIMIT_APPLICATION = "200 per second"
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = os.environ.get("ZZ_SUPERSET_LOGIN_LIMIT") or "10 per 20 second"


# What a chart with nothing to show says, in the words staff read elsewhere
# (the alert pages, the monthly report): 暂无数据, not an error.
NO_DATA_TEXT = "暂无数据"
_NO_DATA_MESSAGES = ("No Data", "No data", "No results", "No results were returned for this query")


def _language_pack_with_no_data_text(lang: str) -> dict | None:
    """Superset's own language pack for ``lang``, its empty-state messages replaced."""
    import json
    from importlib import resources

    path = resources.files("superset") / "translations" / lang / "LC_MESSAGES" / "messages.json"
    try:
        pack = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    messages = pack.get("locale_data", {}).get("superset", {})
    for msgid in _NO_DATA_MESSAGES:
        messages[msgid] = [NO_DATA_TEXT]
    return pack


def FLASK_APP_MUTATOR(app) -> None:  # noqa: N802 - the name Superset looks up
    """Rate-limit the API's login like the form's; say 暂无数据 for an empty chart."""
    import hashlib
    import json

    from flask import Response, request

    sm = app.appbuilder.sm
    api = app.blueprints.get("SecurityApi")
    if api is not None and sm.is_auth_limited:
        sm.limiter.limit(sm.auth_rate_limit, methods=["POST"])(api)

    # Serialized once, and cacheable by the browser like Superset's own packs:
    # every page of the application asks for it.
    packs: dict[str, bytes | None] = {}

    @app.before_request
    def _chinese_no_data():
        if request.path != "/superset/language_pack/zh/":
            return None
        if "zh" not in packs:
            pack = _language_pack_with_no_data_text("zh")
            packs["zh"] = None if pack is None else json.dumps(pack, ensure_ascii=False).encode()
        body = packs["zh"]
        if body is None:
            return None
        response = Response(body, mimetype="application/json")
        response.set_etag(hashlib.sha256(body).hexdigest()[:32])
        response.cache_control.public = True
        response.cache_control.max_age = 24 * 3600
        return response.make_conditional(request)


SUPERSET_WEBSERVER_TIMEOUT = 120
SHOW_STACKTRACE = False
# Keep the serving PostgreSQL on loopback reachable as a data source.
PREVENT_UNSAFE_DB_CONNECTIONS = True
