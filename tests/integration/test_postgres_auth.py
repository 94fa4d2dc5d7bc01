"""PostgreSQL's authentication (issue 12, defect 1): no trust anywhere.

On the socket only the cluster's owning OS account gets in, as the
superuser, by peer; over TCP every role needs its scram-sha-256 password;
``ZONGZHI_PG_PASSWORD`` is the app role's password for the server and the
clients alike. The server is the real one, started by ``infra/postgres.sh``.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess

import psycopg2
import pytest

from pipelines.harness.infra_scripts import run_infra_script
from pipelines.harness.services import services_up
from pipelines.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_settings():
    s = load_settings()
    services_up(s, ["postgres"])
    return s


def _psql() -> str:
    found = shutil.which("psql") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))), None
    )
    if found is None:
        pytest.skip("psql is not installed")
    return found


def _socket_dir(settings) -> str:
    return run_infra_script(settings, "postgres.sh", "socket", capture=True).strip()


def _psql_through_socket(settings, *, as_os_user: str | None, role: str, password: str = ""):
    """Run ``SELECT 'in'`` through the socket; the completed process."""
    command = [
        _psql(),
        "-h",
        _socket_dir(settings),
        "-p",
        str(settings.pg["port"]),
        "-U",
        role,
        "-d",
        settings.pg["database"],
        "-w",  # never prompt: no password means none is sent
        "-tAc",
        "SELECT 'in'",
    ]
    if as_os_user is not None:
        command = ["runuser", "-u", as_os_user, "--", *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password:
        env["PGPASSWORD"] = password
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd="/", timeout=60)


def _as_root():
    if os.geteuid() != 0:
        pytest.skip("switching to another OS user needs root (CI runs as root)")


def test_the_socket_refuses_another_os_user_even_with_the_password(pg_settings):
    _as_root()
    for role, password in (("postgres", ""), (pg_settings.pg["user"], pg_settings.pg_password())):
        done = _psql_through_socket(pg_settings, as_os_user="nobody", role=role, password=password)
        assert done.returncode != 0, f"nobody got in as {role}: {done.stdout!r}"
        assert "in" not in done.stdout.split()
        assert "Permission denied" in done.stderr, done.stderr


def test_only_the_clusters_owner_is_the_superuser_on_the_socket(pg_settings):
    _as_root()
    # root can open the socket (it ignores file modes), but it is not the owner.
    done = _psql_through_socket(pg_settings, as_os_user=None, role="postgres")
    assert done.returncode != 0
    assert 'Peer authentication failed for user "postgres"' in done.stderr, done.stderr
    owner = run_infra_script(
        pg_settings, "postgres.sh", "admin", "-tAc", "SELECT current_user", capture=True
    )
    assert owner.strip() == "postgres"


def test_the_socket_asks_the_app_role_for_its_password(pg_settings):
    _as_root()
    role = pg_settings.pg["user"]
    refused = _psql_through_socket(pg_settings, as_os_user=None, role=role)
    assert refused.returncode != 0
    assert "no password supplied" in refused.stderr, refused.stderr
    allowed = _psql_through_socket(
        pg_settings, as_os_user=None, role=role, password=pg_settings.pg_password()
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "in"


def test_tcp_refuses_a_wrong_password(pg_settings):
    pg = pg_settings.pg
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host=pg["host"],
            port=pg["port"],
            dbname=pg["database"],
            user=pg["user"],
            password=pg_settings.pg_password() + "x",
            connect_timeout=5,
        )


def test_tcp_refuses_the_superuser_without_a_password(pg_settings):
    pg = pg_settings.pg
    with pytest.raises(psycopg2.OperationalError, match="no password supplied"):
        psycopg2.connect(
            host=pg["host"], port=pg["port"], dbname="postgres", user="postgres", connect_timeout=5
        )


def test_zongzhi_pg_password_is_the_password_of_server_and_clients(pg_settings, monkeypatch):
    password_file = pg_settings.var / "secrets" / "postgres.password"
    before = password_file.read_text()
    chosen = "env-" + secrets.token_urlsafe(18)
    monkeypatch.setenv("ZONGZHI_PG_PASSWORD", chosen)
    try:
        run_infra_script(pg_settings, "postgres.sh", "start")
        settings = load_settings()
        assert settings.pg_password() == chosen
        with psycopg2.connect(settings.pg_dsn()) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone()[0] == settings.pg["user"]
        conn.close()
        # Clients that read only the secrets file (Superset's provisioning) agree too.
        assert password_file.read_text().strip() == chosen
        pg = settings.pg
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(
                host=pg["host"],
                port=pg["port"],
                dbname=pg["database"],
                user=pg["user"],
                password=before.strip(),
                connect_timeout=5,
            )
    finally:
        monkeypatch.delenv("ZONGZHI_PG_PASSWORD")
        password_file.write_text(before)
        run_infra_script(pg_settings, "postgres.sh", "start")
    with psycopg2.connect(load_settings().pg_dsn()):
        pass
