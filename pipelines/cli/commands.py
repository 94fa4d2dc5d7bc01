"""What each ``zongzhi`` subcommand does, given its parsed arguments.

Each command imports what it runs when it runs, so that ``--help`` and bad
arguments answer at once; it prints its report (JSON, or the demo's
summary) and returns the exit code.
"""

from __future__ import annotations

import json
import signal
import sys

from pipelines.cli.hotline_commands import HOTLINE_COMMANDS

__all__ = ["COMMANDS"]


def _settings():
    from pipelines.settings import load_settings

    return load_settings()


def _infra(args) -> int:
    from pipelines.harness.services import services_down, services_status, services_up

    wanted = [s.strip() for s in args.services.split(",") if s.strip()]
    if args.action == "up":
        services_up(_settings(), wanted)
    elif args.action == "down":
        services_down(_settings(), wanted)
    else:
        return 0 if services_status(_settings(), wanted) else 3
    return 0


def _topics(args) -> int:
    from pipelines.io.kafka import check_reachable, reset_topics, topic_counts

    settings = _settings()
    check_reachable(settings)
    topics = settings.declared_topics
    if args.action == "reset":
        reset_topics(settings, topics)
    print(json.dumps(topic_counts(settings, topics), indent=2))
    return 0


def _simulate(args) -> int:
    from pipelines.harness.simulation_run import simulate_to_kafka
    from pipelines.io.kafka import check_reachable

    settings = _settings()
    check_reachable(settings)
    report = simulate_to_kafka(
        settings,
        hours=args.hours,
        start=args.start,
        rate=args.rate,
        malformed_fraction=args.malformed_fraction,
        seed=args.seed,
        surges=args.surge,
        rings=args.rings,
        speedup=args.speedup,
        ground_truth_path=args.ground_truth,
    )
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


def _job(args) -> int:
    from pipelines.io.kafka import check_reachable

    settings = _settings()
    check_reachable(settings)
    if args.command == "normalize":
        from pipelines.streaming import normalize_job

        normalize_job.run(
            settings, follow=args.follow, parallelism=args.parallelism, fresh=args.fresh
        )
    elif args.command == "hotspots":
        from pipelines.streaming import hotspot_job

        hotspot_job.run(
            settings,
            follow=args.follow,
            parallelism=args.parallelism,
            watermark_delay_s=args.watermark_delay_seconds,
            fresh=args.fresh,
            count_incidents=False if args.count_reports else None,
        )
    elif args.command == "lake":
        from pipelines.streaming.lake_writer import load_normalized

        print(json.dumps(load_normalized(settings, follow=args.follow)))
    else:
        from pipelines.streaming.alert_store import store_alerts

        # A supervisor's SIGTERM stops the store as Ctrl-C does: its consumer is
        # closed and leaves the group at once. (A background job may have
        # inherited SIGINT ignored, so SIGTERM is the signal to rely on.)
        signal.signal(signal.SIGTERM, _interrupt)
        print(json.dumps(store_alerts(settings, follow=args.follow)))
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _nightly(args) -> int:
    from dataclasses import asdict

    from jobs.nightly import job as nightly
    from pipelines.harness.superset_cache import warm_after_nightly

    settings = _settings()
    report = asdict(nightly.run(settings))
    # The serving tables changed: the analysts' overview opens from cache.
    report["superset_cache"] = warm_after_nightly(settings)
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _graph(args) -> int:
    from dataclasses import asdict

    from jobs.graph import job as graph

    print(json.dumps(asdict(graph.run(_settings(), as_of=args.as_of)), ensure_ascii=False))
    return 0


def _keys(args) -> int:
    from pipelines.errors import UsageError
    from pipelines.io.key_rotation import key_status, rotate_keys

    if args.action == "status":
        if args.to_version is not None:
            raise UsageError("--to-version provided, but only `keys rotate` takes it")
        print(json.dumps(key_status(_settings())))
    else:
        print(json.dumps(rotate_keys(_settings(), to_version=args.to_version)))
    return 0


def _jurisdictions(args) -> int:
    from collections import Counter

    from pipelines.errors import UsageError
    from pipelines.io.platform_state import load_jurisdiction_policy, write_jurisdiction_policy

    settings = _settings()
    if args.action == "write":
        path = write_jurisdiction_policy(settings, force=args.force)
        print(json.dumps({"written": str(path)}))
    elif args.force:
        raise UsageError("--force provided, but only `jurisdictions write` takes it")
    policy = load_jurisdiction_policy(settings)
    levels = Counter(c.level for c in policy.centers.values())
    print(json.dumps({"district": policy.district_code, "centers": dict(levels)}))
    return 0


def _alert_service(args) -> int:
    from pipelines.service.server import serve

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(_settings())
    except KeyboardInterrupt:
        pass
    return 0


def _accounts(args) -> int:
    from pipelines.errors import UsageError
    from pipelines.service import accounts

    settings = _settings()
    if args.action == "list":
        listed = accounts.list_accounts(settings, args.center)
        print(json.dumps({"accounts": listed}, ensure_ascii=False))
        return 0
    if not args.username:
        raise UsageError(f"accounts {args.action} needs --username")
    if args.action == "password":
        print(json.dumps(accounts.reset_password(settings, args.username), ensure_ascii=False))
        return 0
    if not args.center or not args.name:
        raise UsageError("accounts add needs --username, --center and --name")
    report = accounts.add_account(settings, args.username, args.center, args.role, args.name)
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _superset(args) -> int:
    from pathlib import Path

    from pipelines.errors import UsageError
    from pipelines.harness import superset_provision

    if args.action == "provision":
        superset_provision.provision_superset(_settings())
        return 0
    if not args.out:
        raise UsageError("superset export needs --out DIR")
    report = superset_provision.export_superset(_settings(), Path(args.out))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _report(args) -> int:
    from pathlib import Path

    from pipelines.harness.notebooks import monthly_report

    report = monthly_report(_settings(), args.month, args.town, Path(args.out))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _notebook(args) -> int:
    from pathlib import Path

    from pipelines.harness.notebooks import run_notebook

    parameters = {"end": args.end, "days": args.days}
    report = run_notebook(_settings(), args.name, Path(args.out), parameters, args.name)
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _demo(args) -> int:
    from pipelines.harness.demo import run_demo

    summary = run_demo(
        _settings(),
        hours=args.hours,
        history_hours=args.history_hours,
        history_days=args.history_days,
        speedup=args.speedup,
        seed=args.seed,
        end=args.end,
        superset=not args.no_superset,
    )
    print(summary)
    return 0


def _replay(args) -> int:
    from pathlib import Path

    from pipelines.harness.replay import run_replay

    report = run_replay(
        _settings(),
        Path(args.csv),
        time_col=args.time_col,
        x_col=args.x_col,
        y_col=args.y_col,
        crs=args.crs,
        category_col=args.category_col,
        time_format=args.time_format,
        tz=args.tz,
        cell_size_m=args.cell_size,
        top=args.top,
        null=args.null,
        seed=args.seed,
        baselines=args.baselines,
        warm_up_days=args.warm_up_days,
        zones=args.zones,
        zone_col=args.zone_col,
        tails=args.tails,
    )
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


def _bench(args) -> int:
    from pipelines.harness.hotspot_bench import run_bench

    settings = _settings()
    if args.target == "faults":
        return _bench_faults(settings, args)
    if args.target == "alerts":
        return _bench_alerts(settings, args)
    if args.target == "dashboards":
        from datetime import date, timedelta

        from pipelines.harness import dashboard_bench
        from pipelines.harness.notebooks import checked_month, checked_town
        from pipelines.harness.services import services_up
        from pipelines.io.platform_state import load_district

        month = args.month or (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        checked_month(month)
        checked_town(load_district(settings), args.town)
        services_up(settings, ["kafka", "postgres", "superset"])
        report = dashboard_bench.run_bench(
            settings,
            month=month,
            days=3 if args.smoke else args.days,
            town=args.town,
            repeats=2 if args.smoke else dashboard_bench.WARM_LOADS,
        )
        print(json.dumps(report, ensure_ascii=False))
        return 0
    if args.target == "nightly":
        from pipelines.harness import nightly_bench
        from pipelines.io.serving_store import check_postgres

        check_postgres(settings)
        if args.smoke:
            args.events, args.days = 50_000, 3
        report = nightly_bench.run_bench(settings, events=args.events, days=args.days)
        print(json.dumps(report, ensure_ascii=False))
        return 0
    if args.target == "normalize":
        from pipelines.harness import normalize_bench

        if args.smoke:
            args.events, args.small, args.rounds = 30_000, 5_000, 1
        report = normalize_bench.run_bench(
            settings,
            events=args.events,
            small=args.small,
            rounds=args.rounds,
            parallelism=args.parallelism,
            malformed_fraction=args.malformed_fraction,
        )
        print(json.dumps(report, ensure_ascii=False))
        failures = [] if report["balanced"] else ["records lost or doubled (see balance)"]
        restarted = report["job_restarts"]["restarted_runs"]
        if restarted:
            failures.append(f"Flink run(s) restarted or unchecked: {', '.join(restarted)}")
        for failure in failures:
            print(f"bench normalize: FAILED: {failure}", file=sys.stderr)
        return 1 if failures else 0
    if args.smoke:
        # 100,000 more events than the small run: a drain rate above start-up noise.
        # Short live steps: at smoke size they show that alerts flow and are
        # timed, not what rate the job sustains.
        args.events, args.small, args.step_seconds, args.permutations = 120_000, 20_000, 5.0, 99
        args.rounds, args.warm_up_seconds = 1, 10.0
    report = run_bench(
        settings,
        events=args.events,
        small=args.small,
        density=args.density,
        step_seconds=args.step_seconds,
        permutations=args.permutations,
        rounds=args.rounds,
        warm_up_seconds=args.warm_up_seconds,
        checkpoint_intervals=args.checkpoint_intervals,
    )
    print(json.dumps(report, ensure_ascii=False))
    restarted = report["job_restarts"]["restarted_runs"]
    if restarted:
        # A run that restarted replayed part of its input: its figures are not valid.
        print(
            f"bench hotspots: FAILED: {len(restarted)} Flink run(s) restarted or could not "
            f"be checked for restarts, so the figures above are not valid: {', '.join(restarted)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _bench_alerts(settings, args) -> int:
    from pipelines.harness import alert_bench

    if args.smoke:
        args.rate, args.seconds, args.clients, args.webhooks = 20.0, 5.0, 50, 2
    report = alert_bench.run_bench(
        settings,
        rate=args.rate,
        seconds=args.seconds,
        clients=args.clients,
        webhooks=args.webhooks,
    )
    print(json.dumps(report, ensure_ascii=False))
    failures = [name for name, met in report["met"].items() if not met]
    for failure in failures:
        print(f"bench alerts: goal not met: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _bench_faults(settings, args) -> int:
    from pipelines.harness import fault_bench
    from pipelines.harness.fault_bench_events import check_stream_hours
    from pipelines.io.kafka import check_reachable
    from pipelines.io.serving_store import check_postgres

    if args.smoke:
        args.hours, args.poison, args.outage_seconds = 2.5, 50, 10.0
    check_stream_hours(args.hours)
    check_reachable(settings)
    check_postgres(settings)
    report = fault_bench.run_bench(
        settings,
        faults=tuple(args.faults),
        hours=args.hours,
        seed=args.seed,
        poison=args.poison,
        outage_s=args.outage_seconds,
        checkpoint_s=args.checkpoint_seconds,
    )
    print(json.dumps(report, ensure_ascii=False))
    return 0 if report["ok"] else 1


def _eval_classifier(args) -> int:
    from pipelines.harness import classifier_eval as ce
    from pipelines.harness.router_training import router_params
    from pipelines.io.hotline_messages import read_labelled, read_replied, read_voted
    from pipelines.io.platform_state import load_reply_units

    settings = _settings()
    routing = settings.section("hotline_routing", ["reference_data", "max_error_rate", "model"])
    folder = args.data or (settings.root / routing["reference_data"]).resolve()
    labelled = read_labelled(folder)
    report = ce.evaluate_router(
        labelled,
        folds=args.folds,
        max_error_rate=float(routing["max_error_rate"]),
        seed=args.seed,
    )
    params = router_params(routing["model"])
    report["learning_curve"] = {
        "params": params,
        "points": ce.learning_curve(labelled, params, folds=args.folds, seed=args.seed),
    }
    weak = ce.weak_labelled(read_replied(folder), load_reply_units(settings), labelled)
    report["weak_labels"] = {
        "source": "the first unit with a class named in each reply of messages_with_replies.xlsx",
        "params": params,
        **ce.weak_label_ablation(labelled, weak, params, folds=args.folds, seed=args.seed),
    }
    voted = read_voted(folder)
    report["self_training"] = {
        "source": "the messages of messages_with_votes.xlsx, unlabelled",
        "params": params,
        **ce.self_training_ablation(labelled, voted, params, folds=args.folds, seed=args.seed),
    }
    print(json.dumps({"data": str(folder), **report}, ensure_ascii=False))
    return 0


def _eval_fusion(args) -> int:
    from pipelines.harness.fusion_eval import run_eval

    settings = _settings()
    report = run_eval(
        settings, days=args.days, incidents_per_day=args.incidents_per_day, seed=args.seed
    )
    if args.detection:
        from pipelines.harness import hotspot_eval
        from pipelines.io.kafka import check_reachable

        check_reachable(settings)
        detection = hotspot_eval.run_eval(
            settings,
            history_hours=args.history_hours,
            hours=args.hours,
            rate=float(settings.simulator["events_per_hour"]),
            surges=0,
            multiplier=2.0,
            duration_min=60.0,
            seed=args.seed,
            incidents_per_day=args.incidents_per_day,
        )
        report["detection"] = {
            "setup": detection["setup"],
            "streams": detection["streams"],
            **detection["incident_fusion"],
        }
        report.pop("not_built", None)
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


def _eval_calibration(args) -> int:
    from pipelines.harness.calibration import run_calibration

    report = run_calibration(_settings(), town_weeks=args.town_weeks, seed=args.seed)
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _eval_power(args) -> int:
    from pipelines.harness.power_eval import run_power_eval

    report = run_power_eval(_settings(), surges=args.surges, seeds=tuple(range(args.seeds)))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def _eval(args) -> int:
    if args.target == "power":
        return _eval_power(args)
    if args.target == "classifier":
        return _eval_classifier(args)
    if args.target == "calibration":
        return _eval_calibration(args)
    if args.target == "fusion":
        return _eval_fusion(args)
    from pipelines.harness.hotspot_eval import run_eval
    from pipelines.io.kafka import check_reachable

    settings = _settings()
    check_reachable(settings)
    if args.target == "graph":
        from pipelines.harness import graph_eval

        report = graph_eval.run_eval(
            settings, days=args.days, rate=args.rate, rings=args.rings, seed=args.seed
        )
        print(json.dumps(report, ensure_ascii=False, default=str))
        return 0
    report = run_eval(
        settings,
        history_hours=args.history_hours,
        hours=args.hours,
        rate=args.rate,
        surges=args.surges,
        multiplier=args.multiplier,
        duration_min=args.surge_minutes,
        seed=args.seed,
        radius=args.surge_radius,
        incidents_per_day=args.incidents_per_day or 0.0,
    )
    print(json.dumps(report, ensure_ascii=False, default=str))
    return 0


#: The function of each subcommand, by name.
COMMANDS = {
    "infra": _infra,
    "topics": _topics,
    "simulate": _simulate,
    "normalize": _job,
    "hotspots": _job,
    "lake": _job,
    "store-alerts": _job,
    "nightly": _nightly,
    "graph": _graph,
    "keys": _keys,
    "jurisdictions": _jurisdictions,
    "alert-service": _alert_service,
    "accounts": _accounts,
    "superset": _superset,
    "report": _report,
    "notebook": _notebook,
    "demo": _demo,
    "eval": _eval,
    "replay": _replay,
    "bench": _bench,
    **HOTLINE_COMMANDS,
}
