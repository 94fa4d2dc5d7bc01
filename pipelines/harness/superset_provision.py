"""`zongzhi superset provision|export`: Superset as code, from the files in infra/.

Provisioning imports the committed assets (database connection through the
read-only PostgreSQL role, datasets, charts, dashboards) and then applies an
access plan derived from the jurisdiction policy: one role per center with
its datasets and row-level-security clause (features/analyst_access.py), and
one analyst account for the district and each town, whose generated
passwords are kept in ``$ZONGZHI_VAR/secrets/superset_analysts.json``
(mode 600). Both steps overwrite by identity (UUIDs, names), so running
provisioning twice changes nothing and re-running after an edit applies it.

Export writes what provisioning produced, for review and for the check that
two runs agree: the asset bundle as Superset exports it (minus its
timestamp) and the managed roles, filters and analysts as canonical JSON.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import yaml

from features.analyst_access import ROLE_PREFIX, analyst_roles, role_name
from features.jurisdiction_policy import JurisdictionPolicy
from pipelines.errors import ServiceError
from pipelines.harness.infra_scripts import run_infra_script
from pipelines.harness.superset_api import SupersetClient
from pipelines.io.platform_state import load_jurisdiction_policy
from pipelines.io.private_files import write_private_text
from pipelines.service.credentials import new_secret
from pipelines.settings import Settings

__all__ = [
    "ANALYSTS_FILE",
    "access_plan",
    "analyst_passwords",
    "dashboard_datasets",
    "dataset_columns",
    "export_superset",
    "provision_superset",
]

#: Analysts' generated passwords, under the state folder's secrets.
ANALYSTS_FILE = "superset_analysts.json"
#: The built-in Superset roles an analyst holds besides the center's.
_BASE_ROLE = "Gamma"
_SQL_LAB_ROLE = "sql_lab"


def assets_dir(settings: Settings) -> Path:
    return settings.root / "infra" / "superset" / "assets"


def dataset_columns(assets: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Each committed dataset's UUID → (its table name, its column names)."""
    datasets = {}
    for path in sorted((assets / "datasets").rglob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        columns = frozenset(c["column_name"] for c in config.get("columns") or ())
        datasets[config["uuid"]] = (config["table_name"], columns)
    return datasets


def dashboard_datasets(assets: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Each committed dashboard's UUID → (its slug, the datasets of its charts)."""
    chart_dataset = {}
    for path in sorted((assets / "charts").rglob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        chart_dataset[config["uuid"]] = config["dataset_uuid"]
    dashboards = {}
    for path in sorted((assets / "dashboards").rglob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        charts = [
            node["meta"]["uuid"]
            for node in (config.get("position") or {}).values()
            if isinstance(node, dict) and node.get("type") == "CHART"
        ]
        dashboards[config["uuid"]] = (
            config.get("slug") or config["uuid"],
            frozenset(chart_dataset[uuid] for uuid in charts),
        )
    return dashboards


def analyst_passwords(settings: Settings, usernames: list[str]) -> dict[str, str]:
    """The analysts' passwords, generating (and keeping) one for any new username."""
    path = settings.var / "secrets" / ANALYSTS_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = {}
    except ValueError as exc:
        raise ServiceError(
            f"{path} is not valid JSON ({exc}); delete it to generate anew"
        ) from None
    missing = [name for name in usernames if name not in known]
    if missing:
        known.update({name: new_secret() for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        write_private_text(path, json.dumps(known, ensure_ascii=False, indent=1))
    return {name: known[name] for name in usernames}


def analyst_username(center_id: str) -> str:
    """The demo analyst account of a center."""
    return f"analyst-{center_id}"


def access_plan(settings: Settings, policy: JurisdictionPolicy | None = None) -> dict:
    """The roles, filters and analysts that Superset should hold, as the apply script reads them."""
    policy = policy or load_jurisdiction_policy(settings)
    datasets = dataset_columns(assets_dir(settings))
    roles = analyst_roles(policy, {uuid: cols for uuid, (_, cols) in datasets.items()})
    dashboards = dashboard_datasets(assets_dir(settings))
    analysts = [r for r in roles if r.level in ("district", "town")]
    passwords = analyst_passwords(settings, [analyst_username(r.center_id) for r in analysts])
    return {
        "prefix": ROLE_PREFIX,
        "roles": [
            {
                "name": r.name,
                "datasets": list(r.datasets),
                "clause": r.clause,
                "description": (
                    f"{r.center_name}: "
                    + ", ".join(sorted(datasets[uuid][0] for uuid in r.datasets))
                ),
            }
            for r in roles
        ],
        # A dashboard opens for the roles that read every one of its datasets.
        "dashboards": [
            {
                "uuid": uuid,
                "slug": slug,
                "roles": [r.name for r in roles if needed <= set(r.datasets)],
            }
            for uuid, (slug, needed) in sorted(dashboards.items())
        ],
        "analysts": [
            {
                "username": analyst_username(r.center_id),
                "first_name": r.center_name,
                "last_name": "分析员",
                "email": f"{analyst_username(r.center_id)}@zongzhi.local",
                "roles": [_BASE_ROLE, role_name(r.center_id)]
                + ([_SQL_LAB_ROLE] if r.sql_lab else []),
                "password": passwords[analyst_username(r.center_id)],
            }
            for r in analysts
        ],
    }


def provision_superset(settings: Settings) -> None:
    """Import the assets and apply the access plan (starting Superset when down)."""
    plan_path = settings.var / "superset" / "access_plan.json"
    write_private_text(plan_path, json.dumps(access_plan(settings), ensure_ascii=False))
    try:
        run_infra_script(
            settings, "superset.sh", "provision", env={"ZZ_ACCESS_PLAN": str(plan_path)}
        )
    finally:
        plan_path.unlink(missing_ok=True)


def export_superset(settings: Settings, out: Path) -> dict:
    """Write the exported assets and the managed access state under ``out``; a summary."""
    client = SupersetClient.from_settings(settings)
    bundle = client.export_assets()
    assets_out = out / "assets"
    shutil.rmtree(assets_out, ignore_errors=True)
    files = 0
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        for name in sorted(archive.namelist()):
            rel = Path(*Path(name).parts[1:])
            if rel.as_posix() == "metadata.yaml":
                continue  # holds only the export's timestamp
            target = assets_out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
            files += 1
    state = run_infra_script(settings, "superset.sh", "access-state", capture=True)
    (out / "access.json").write_text(state, encoding="utf-8")
    access = json.loads(state)
    return {
        "out": str(out),
        "asset_files": files,
        "roles": len(access["roles"]),
        "row_level_security": len(access["row_level_security"]),
        "analysts": len(access["analysts"]),
    }
