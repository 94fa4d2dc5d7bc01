"""Apply an access plan (roles, row-level security, analysts) to Superset's metadata.

Run by `infra/superset.sh provision` with the Superset venv's Python, after
the assets are imported, inside Superset's app context (its security
manager and models; no HTTP round trip per permission). The plan is JSON
written by `zongzhi superset provision` from the jurisdiction policy
(features/analyst_access.py); this script only makes the metadata equal to
it, so running it twice changes nothing:

- each role named in the plan holds exactly `datasource_access` on its
  datasets (by UUID), no more;
- each role with a clause has exactly one row-level-security filter of its
  own name (Regular: it applies to that role's members) over those datasets;
- roles and filters with the managed prefix that the plan no longer names
  are deleted (a center removed from the policy loses its access);
- each dashboard opens for exactly the roles the plan gives it (with
  DASHBOARD_RBAC on; the roles that read all of its datasets), the
  administrators aside;
- each analyst exists with the roles given, and the password given (set
  only when it does not already match).

With `--show`, nothing is changed: the managed roles, filters and analysts
are written to OUT as canonical JSON (what `zongzhi superset export` keeps).

Usage: access.py PLAN.json | access.py --show PREFIX OUT.json
"""

from __future__ import annotations

import json
import sys
from uuid import UUID


def fail(message: str) -> None:
    print(f"zongzhi: {message}", file=sys.stderr)
    raise SystemExit(1)


def _state(db, sm, models, prefix: str) -> dict:
    """The managed part of the metadata, in a canonical order."""
    SqlaTable, RowLevelSecurityFilter, Dashboard = models
    by_perm = {t.perm: str(t.uuid) for t in db.session.query(SqlaTable) if t.perm}
    roles = {}
    for role in db.session.query(sm.role_model).filter(sm.role_model.name.like(f"{prefix}%")):
        tables = sorted(
            by_perm[pv.view_menu.name]
            for pv in role.permissions
            if pv.permission.name == "datasource_access" and pv.view_menu.name in by_perm
        )
        roles[role.name] = {"datasets": tables, "permissions": len(role.permissions)}
    filters = {}
    for rls in db.session.query(RowLevelSecurityFilter).filter(
        RowLevelSecurityFilter.name.like(f"{prefix}%")
    ):
        filters[rls.name] = {
            "clause": rls.clause,
            "filter_type": str(getattr(rls.filter_type, "value", rls.filter_type)),
            "roles": sorted(r.name for r in rls.roles),
            "datasets": sorted(str(t.uuid) for t in rls.tables),
        }
    dashboards = {
        str(d.uuid): {"slug": d.slug, "roles": sorted(r.name for r in d.roles)}
        for d in db.session.query(Dashboard)
    }
    users = {}
    for user in db.session.query(sm.user_model):
        names = sorted(r.name for r in user.roles)
        if any(n.startswith(prefix) for n in names):
            users[user.username] = {
                "roles": names,
                "active": bool(user.active),
                "name": f"{user.first_name}{user.last_name}",
            }
    return {
        "roles": dict(sorted(roles.items())),
        "row_level_security": dict(sorted(filters.items())),
        "analysts": dict(sorted(users.items())),
        "dashboards": dict(sorted(dashboards.items())),
    }


def _apply(db, sm, models, plan: dict) -> dict:
    from werkzeug.security import check_password_hash

    SqlaTable, RowLevelSecurityFilter, Dashboard = models
    prefix = plan["prefix"]
    tables = {str(t.uuid): t for t in db.session.query(SqlaTable)}
    counts = {"roles": 0, "filters": 0, "analysts": 0, "passwords_set": 0, "removed": 0}

    wanted_roles = {}
    for entry in plan["roles"]:
        name = entry["name"]
        if not name.startswith(prefix):
            fail(f"role {name!r} does not start with the managed prefix {prefix!r}")
        missing = [uuid for uuid in entry["datasets"] if uuid not in tables]
        if missing:
            fail(f"role {name}: datasets {missing} are not in Superset (import the assets first)")
        role = sm.find_role(name) or sm.add_role(name)
        permissions = []
        for uuid in entry["datasets"]:
            pv = sm.find_permission_view_menu("datasource_access", tables[uuid].perm)
            if pv is None:
                pv = sm.add_permission_view_menu("datasource_access", tables[uuid].perm)
            permissions.append(pv)
        if sorted(p.id for p in role.permissions) != sorted(p.id for p in permissions):
            role.permissions = permissions
        wanted_roles[name] = role
        counts["roles"] += 1

        rls = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
        if entry["clause"] is None:
            if rls is not None:
                db.session.delete(rls)
                counts["removed"] += 1
            continue
        if rls is None:
            rls = RowLevelSecurityFilter(name=name)
            db.session.add(rls)
        rls.description = entry["description"]
        rls.filter_type = "Regular"
        rls.group_key = None
        rls.clause = entry["clause"]
        wanted_tables = [tables[uuid] for uuid in entry["datasets"]]
        if sorted(t.id for t in rls.tables) != sorted(t.id for t in wanted_tables):
            rls.tables = wanted_tables
        if [r.name for r in rls.roles] != [name]:
            rls.roles = [role]
        counts["filters"] += 1

    for rls in db.session.query(RowLevelSecurityFilter).filter(
        RowLevelSecurityFilter.name.like(f"{prefix}%")
    ):
        if rls.name not in wanted_roles:
            db.session.delete(rls)
            counts["removed"] += 1
    for role in db.session.query(sm.role_model).filter(sm.role_model.name.like(f"{prefix}%")):
        if role.name not in wanted_roles:
            role.users = []
            db.session.delete(role)
            counts["removed"] += 1
    db.session.commit()

    for entry in plan["dashboards"]:
        dashboard = db.session.query(Dashboard).filter_by(uuid=UUID(entry["uuid"])).one_or_none()
        if dashboard is None:
            fail(f"dashboard {entry['slug']} is not in Superset (import the assets first)")
        wanted = [wanted_roles[name] for name in entry["roles"]]
        if sorted(r.name for r in dashboard.roles) != sorted(entry["roles"]):
            dashboard.roles = wanted
    db.session.commit()

    for entry in plan["analysts"]:
        roles = []
        for name in entry["roles"]:
            role = wanted_roles.get(name) or sm.find_role(name)
            if role is None:
                fail(f"analyst {entry['username']}: role {name!r} does not exist")
            roles.append(role)
        user = sm.find_user(username=entry["username"])
        if user is None:
            user = sm.add_user(
                entry["username"],
                entry["first_name"],
                entry["last_name"],
                entry["email"],
                roles,
                entry["password"],
            )
            if not user:
                fail(f"could not create the Superset user {entry['username']}")
            counts["passwords_set"] += 1
        else:
            changed = False
            if sorted(r.name for r in user.roles) != sorted(r.name for r in roles):
                user.roles, changed = roles, True
            if (user.first_name, user.last_name) != (entry["first_name"], entry["last_name"]):
                user.first_name, user.last_name, changed = (
                    entry["first_name"],
                    entry["last_name"],
                    True,
                )
            if not user.active:
                user.active, changed = True, True
            if changed:
                sm.update_user(user)
            if not check_password_hash(user.password or "", entry["password"]):
                sm.reset_password(user.id, entry["password"])
                counts["passwords_set"] += 1
        counts["analysts"] += 1
    db.session.commit()
    return counts


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--show":
        plan, prefix, out = None, args[1], args[2]
    elif len(args) == 1:
        try:
            with open(args[0], encoding="utf-8") as handle:
                plan = json.load(handle)
        except (OSError, ValueError) as exc:
            fail(f"cannot read the access plan {args[0]}: {exc}")
        prefix = plan["prefix"]
    else:
        fail("usage: access.py PLAN.json | access.py --show PREFIX OUT.json")

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager
        from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
        from superset.models.dashboard import Dashboard

        models = (SqlaTable, RowLevelSecurityFilter, Dashboard)
        if plan is None:
            state = _state(db, security_manager, models, prefix)
            with open(out, "w", encoding="utf-8") as handle:
                json.dump(state, handle, ensure_ascii=False, indent=1, sort_keys=True)
                handle.write("\n")
            return
        counts = _apply(db, security_manager, models, plan)
        print(
            f"zongzhi: Superset access applied: {counts['roles']} center roles, "
            f"{counts['filters']} row-level-security filters, {counts['analysts']} analysts "
            f"({counts['passwords_set']} passwords set), {counts['removed']} stale removed",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
