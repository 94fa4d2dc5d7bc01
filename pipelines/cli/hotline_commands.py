"""The hotline commands: ``train classifier``, ``classify``, ``replies`` and ``hot-issues``.

None needs a running service: they read files and the configuration, and
the router lives in the state folder (``hotline_routing.artifact``).
"""

from __future__ import annotations

import json

__all__ = ["HOTLINE_COMMANDS"]

_SECTION_KEYS = [
    "reference_data",
    "max_error_rate",
    "classes_file",
    "artifact",
    "model",
    "min_chinese_share",
]


def _routing(settings) -> dict:
    return settings.section("hotline_routing", _SECTION_KEYS)


def _params(routing) -> dict:
    from pipelines.errors import SettingsError
    from pipelines.harness.router_training import router_params

    try:
        return router_params(routing["model"])
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _train(args) -> int:
    from pipelines.harness.router_training import train_router
    from pipelines.io.hotline_messages import read_labelled
    from pipelines.io.platform_router import router_folder
    from pipelines.io.platform_state import load_hotline_classes
    from pipelines.io.router_artifact import data_fingerprint, model_version, save_router
    from pipelines.settings import load_settings

    settings = load_settings()
    routing = _routing(settings)
    folder = args.data or (settings.root / routing["reference_data"]).resolve()
    messages = read_labelled(folder)
    classes = load_hotline_classes(settings)
    unknown = sorted(set(messages["label"]) - set(classes))
    if unknown:
        from pipelines.errors import SettingsError

        raise SettingsError(
            f"labels {unknown} of {folder} are not in {routing['classes_file']}: map them first"
        )
    params = _params(routing)
    router, figures = train_router(
        messages, params, max_error_rate=float(routing["max_error_rate"]), seed=args.seed
    )
    fingerprint = data_fingerprint(messages)
    artifact = router_folder(settings)
    card = save_router(
        artifact,
        router,
        {
            "version": model_version(fingerprint, params),
            "data": {"source": str(folder), "rows": len(messages), "fingerprint": fingerprint},
            **figures,
        },
    )
    print(json.dumps({"artifact": str(artifact), **card}, ensure_ascii=False))
    return 0


def _classify(args) -> int:
    from pipelines.harness.classify_run import classify_messages
    from pipelines.io.hotline_messages import read_messages
    from pipelines.io.platform_router import load_platform_router
    from pipelines.settings import load_settings

    settings = load_settings()
    columns = [args.text_col] + ([args.title_col] if args.title_col else [])
    frame = read_messages(args.file, columns)
    platform = load_platform_router(settings, args.model)
    card = platform.card
    result = classify_messages(
        platform.router,
        frame,
        text_col=args.text_col,
        title_col=args.title_col,
        categories=platform.categories,
        departments=platform.departments,
        title_weight=card["params"]["title_weight"],
        min_chinese_share=platform.min_chinese_share,
    )
    model = {k: card[k] for k in ("version", "trained_at", "threshold")}
    print(json.dumps({"file": str(args.file), "model": model, **result}, ensure_ascii=False))
    return 0


def _replies(args) -> int:
    from pipelines.harness.replies_report import replies_report
    from pipelines.io.hotline_messages import read_messages
    from pipelines.io.platform_state import load_reply_units
    from pipelines.settings import load_settings

    settings = load_settings()
    frame = read_messages(args.file, [args.asked_col, args.answered_col, args.reply_col])
    report = replies_report(
        frame,
        load_reply_units(settings),
        asked_col=args.asked_col,
        answered_col=args.answered_col,
        reply_col=args.reply_col,
    )
    if args.publish:
        from models.reply_timeliness import deadline_rows
        from pipelines.io.reply_baseline_store import publish_reply_baseline

        rows = deadline_rows(report["response_time"])
        if not rows:
            from pipelines.errors import UsageError

            raise UsageError(f"{args.file} has no answered message to publish as the reference")
        table = publish_reply_baseline(settings, rows, args.file.name)
        report["published"] = {"table": table, "rows": len(rows)}
    print(json.dumps({"file": str(args.file), **report}, ensure_ascii=False))
    return 0


def _hot_issues(args) -> int:
    from models.hot_issues import HotIssueParams
    from pipelines.errors import SettingsError
    from pipelines.harness.hot_issues_run import ROLES, hot_issue_report
    from pipelines.io.hotline_messages import read_messages
    from pipelines.settings import load_settings

    settings = load_settings()
    section = settings.section(
        "hot_issues", ["similarity", "window_days", "min_messages", "max_df", "top"]
    )
    try:
        params = HotIssueParams(
            similarity=float(section["similarity"]),
            window_days=float(section["window_days"]),
            min_messages=int(section["min_messages"]),
            max_df=float(section["max_df"]),
            top=args.top or int(section["top"]),
        )
    except ValueError as exc:
        raise SettingsError(f"hot_issues: {exc}") from None
    columns = {role: getattr(args, f"{role}_col") for role in ROLES}
    frame = read_messages(args.file, list(columns.values()))
    report = hot_issue_report(frame, columns, params)
    print(json.dumps({"file": str(args.file), **report}, ensure_ascii=False))
    return 0


#: The function of each hotline subcommand, by name.
HOTLINE_COMMANDS = {
    "train": _train,
    "classify": _classify,
    "replies": _replies,
    "hot-issues": _hot_issues,
}
