"""Start, stop and inspect the local services through the infra/ scripts.

The shell scripts in ``infra/`` are the single source of truth for how a
service runs; this module only calls them in order.
"""

from __future__ import annotations

import subprocess

from pipelines.errors import UsageError
from pipelines.harness.infra_scripts import run_infra_script
from pipelines.harness.superset_provision import provision_superset
from pipelines.io.platform_state import pseudonym_key
from pipelines.settings import Settings

__all__ = ["SERVICES", "services_up", "services_down", "services_status"]

#: Service name → its script in infra/, in start order.
SERVICES = {
    "kafka": "kafka.sh",
    "postgres": "postgres.sh",
    "alert-service": "alert_service.sh",
    "superset": "superset.sh",
}


def _check(names: list[str]) -> None:
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise UsageError(f"service {unknown[0]!r} is not one of: {', '.join(SERVICES)}")


def services_up(settings: Settings, names: list[str]) -> None:
    """Start the named services (in dependency order) through their infra scripts."""
    _check(names)
    pseudonym_key(settings, create=True)
    for name in SERVICES:
        if name in names:
            run_infra_script(settings, SERVICES[name], "start")
    if "superset" in names:
        provision_superset(settings)


def services_down(settings: Settings, names: list[str]) -> None:
    """Stop the named services, in reverse dependency order."""
    _check(names)
    for name in reversed(list(SERVICES)):
        if name in names:
            run_infra_script(settings, SERVICES[name], "stop")


def services_status(settings: Settings, names: list[str]) -> bool:
    """Print each named service's state; true when all are healthy."""
    _check(names)
    healthy = True
    for name in SERVICES:
        if name not in names:
            continue
        path = settings.root / "infra" / SERVICES[name]
        result = subprocess.run(["bash", str(path), "status"], text=True, capture_output=True)
        print((result.stdout or result.stderr).strip() or f"{name}: unknown")
        healthy &= result.returncode == 0
    return healthy
