"""Import the committed Superset assets into a running Superset.

Run by `infra/superset.sh provision` with the Superset venv's Python (it has
requests and PyYAML). Builds an import bundle (ZIP) from the YAML files in
infra/superset/assets/, filling the ${PG_*} placeholders from the platform
config, and posts it to /api/v1/assets/import/, which overwrites databases,
datasets, charts and dashboards with the same UUIDs: provisioning twice gives
the same result. The database password travels in the request's `passwords`
field and is never written into a file.

Inputs (environment): ZZ_SUPERSET_URL, ZZ_SUPERSET_USER, ZZ_SUPERSET_PASSWORD,
ZZ_PG_HOST, ZZ_PG_PORT, ZZ_PG_DATABASE, ZZ_PG_USER, ZZ_PG_SCHEMA,
ZZ_PG_PASSWORD_FILE. Argument: the assets folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import zipfile
from pathlib import Path

import requests
import yaml

BUNDLE_ROOT = "zongzhi_assets"
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
TIMEOUT = 120


def fail(message: str) -> None:
    print(f"zongzhi: {message}", file=sys.stderr)
    raise SystemExit(1)


def render(text: str, values: dict[str, str], name: str) -> str:
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            fail(f"{name}: unknown placeholder ${{{key}}}")
        return values[key]

    return PLACEHOLDER.sub(sub, text)


def build_bundle(assets: Path, values: dict[str, str]) -> tuple[bytes, dict[str, dict]]:
    """Return the ZIP bytes and the parsed configs keyed by bundle path."""
    files = sorted(p for p in assets.rglob("*.yaml") if p.is_file())
    if not any(p.name == "metadata.yaml" and p.parent == assets for p in files):
        fail(f"{assets}/metadata.yaml is missing")
    configs: dict[str, dict] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            rel = path.relative_to(assets).as_posix()
            text = render(path.read_text(encoding="utf-8"), values, rel)
            try:
                config = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                fail(f"{rel}: not valid YAML: {exc}")
            if rel.startswith("charts/") and config.get("query_context"):
                try:
                    json.loads(config["query_context"])
                except ValueError as exc:
                    fail(f"{rel}: query_context is not valid JSON: {exc}")
            configs[rel] = config
            # Fixed timestamps: the same files give the same bundle bytes.
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{rel}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, text.encode("utf-8"))
    return buf.getvalue(), configs


def login(base: str, user: str, password: str) -> requests.Session:
    session = requests.Session()
    resp = session.post(
        f"{base}/api/v1/security/login",
        json={"username": user, "password": password, "provider": "db", "refresh": False},
        timeout=TIMEOUT,
    )
    if resp.status_code != 200:
        fail(f"Superset login as {user} failed: HTTP {resp.status_code} {resp.text[:200]}")
    session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    # Writes need a CSRF token bound to the session cookie set by this call.
    resp = session.get(f"{base}/api/v1/security/csrf_token/", timeout=TIMEOUT)
    if resp.status_code != 200:
        fail(f"fetching a CSRF token failed: HTTP {resp.status_code} {resp.text[:200]}")
    session.headers["X-CSRFToken"] = resp.json()["result"]
    session.headers["Referer"] = base
    return session


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: provision.py <assets dir>")
    assets = Path(sys.argv[1]).resolve()
    env = os.environ
    try:
        base = env["ZZ_SUPERSET_URL"].rstrip("/")
        values = {
            "PG_HOST": env["ZZ_PG_HOST"],
            "PG_PORT": env["ZZ_PG_PORT"],
            "PG_DATABASE": env["ZZ_PG_DATABASE"],
            "PG_USER": env["ZZ_PG_USER"],
            "PG_SCHEMA": env["ZZ_PG_SCHEMA"],
        }
        pg_password = Path(env["ZZ_PG_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
        user, password = env["ZZ_SUPERSET_USER"], env["ZZ_SUPERSET_PASSWORD"]
    except KeyError as exc:
        fail(f"missing environment variable {exc}")

    bundle, configs = build_bundle(assets, values)
    databases = [name for name in configs if name.startswith("databases/")]
    session = login(base, user, password)
    resp = session.post(
        f"{base}/api/v1/assets/import/",
        files={"bundle": (f"{BUNDLE_ROOT}.zip", bundle, "application/zip")},
        data={"passwords": json.dumps({name: pg_password for name in databases})},
        timeout=TIMEOUT,
    )
    if resp.status_code != 200:
        fail(f"asset import failed: HTTP {resp.status_code} {resp.text[:2000]}")

    # Check what analysts will open: each dashboard by slug, with its charts.
    for name, config in configs.items():
        if not name.startswith("dashboards/"):
            continue
        slug = config.get("slug") or config["uuid"]
        resp = session.get(f"{base}/api/v1/dashboard/{slug}", timeout=TIMEOUT)
        if resp.status_code != 200:
            fail(f"dashboard {slug} missing after import: HTTP {resp.status_code}")
        dashboard = resp.json()["result"]
        resp = session.get(f"{base}/api/v1/dashboard/{dashboard['id']}/charts", timeout=TIMEOUT)
        charts = sorted(c["slice_name"] for c in resp.json().get("result", []))
        expected = sorted(
            child["meta"]["sliceName"]
            for child in config["position"].values()
            if isinstance(child, dict) and child.get("type") == "CHART"
        )
        if charts != expected:
            fail(f"dashboard {slug} has charts {charts}, expected {expected}")
        print(
            f"zongzhi: provisioned dashboard {dashboard['dashboard_title']} "
            f"({base}/superset/dashboard/{slug}/) with {len(charts)} charts",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
