"""Run every registered row on a fresh copy of a freshly migrated database; print and save."""

import argparse
import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

from . import database
from .database import BenchDatabaseError
from .registry import ACTOR_USERNAME, Context

RESULTS = Path(__file__).resolve().parent.parent / "bench-results" / "latest.json"


def _runs(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("at least one run per side")
    return value


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--repeats", type=_runs, default=3, help="runs per side, best counts (read-only rows: 2x)"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="KEY", help="run only this row (repeatable)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every row once at a tiny size, same code paths, checks only (no figures); "
        "exit 1 when a row fails",
    )
    return parser.parse_args(argv)


def _django(url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "1"  # gives SECRET_KEY and AUDIT_HMAC_KEY their dev defaults
    os.environ["DATABASE_URL"] = url
    # Tasks queued on commit run in-process, as in `make run`: a bench leaves no messages in
    # somebody's broker, and mail goes nowhere.
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    from django.conf import settings

    # DEBUG makes every cursor keep a log of its SQL; production does not pay that, so neither
    # does the measured side.
    settings.DEBUG = False


def _prepare_pristine(url: str, pristine: str) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    database.recreate(url)
    call_command("migrate", verbosity=0, interactive=False)
    get_user_model().objects.create_superuser(ACTOR_USERNAME, email="bench@localhost")
    connections.close_all()
    database.snapshot(url, pristine)


def _restore(url: str, pristine: str) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    connections.close_all()
    database.recreate(url, template=pristine)
    ContentType.objects.clear_cache()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        url = database.database_url()
    except BenchDatabaseError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    _django(url)

    from . import rows  # noqa: F401  (registers the rows; needs Django set up)
    from .registry import REGISTRY
    from .report import Result, notes, table, write_json

    chosen = [b for b in REGISTRY if not args.only or b.key in args.only]
    unknown = set(args.only) - {b.key for b in REGISTRY}
    if unknown:
        print(f"bench: no row named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    started, clock = datetime.now(UTC), perf_counter()
    pristine = f"{database.database_name(url)}_pristine"
    print(f"bench: migrating a fresh database at {database.redacted(url)}", file=sys.stderr)
    _prepare_pristine(url, pristine)
    context = Context(url=url, repeats=1 if args.smoke else args.repeats, smoke=args.smoke)
    results, errors = [], {}
    try:
        for bench in chosen:
            _restore(url, pristine)
            print(f"bench: {bench.key} ...", file=sys.stderr, flush=True)
            row_clock = perf_counter()
            try:
                results.append(Result(bench, bench.run(context)))
            except Exception:  # noqa: BLE001 - a broken row is reported, the others still run
                errors[bench.key] = traceback.format_exc()
                print(f"bench: {bench.key} FAILED\n{errors[bench.key]}", file=sys.stderr)
                continue
            print(
                f"bench: {bench.key} took {perf_counter() - row_clock:.0f} s with setup",
                file=sys.stderr,
            )
    finally:
        from django.db import connections

        connections.close_all()
        database.drop(url, pristine)

    if args.smoke:
        return _smoke_report(results, errors)
    print()
    print(table(results))
    print()
    print(notes(results))
    import django

    write_json(
        RESULTS,
        meta={
            "started_at": started.isoformat(timespec="seconds"),
            "total_seconds": round(perf_counter() - clock, 1),
            "repeats": args.repeats,
            "database": database.redacted(url),
            "postgres": database.server_version(url),
            "python": platform.python_version(),
            "django": django.get_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        },
        results=results,
    )
    print(f"\nwritten to {RESULTS}")
    # A row that raised or whose checks failed measured nothing: that fails every run. A missed
    # target fails only a strict run, as figures move with the machine.
    if errors or any(r.verdict == "INVALID" for r in results):
        return 1
    missed = any(r.verdict == "MISSED" for r in results)
    return 1 if args.strict and missed else 0


def _smoke_report(results, errors: dict[str, str]) -> int:
    """Checks only: a tiny run's timings say nothing, so none are printed or saved."""
    print()
    for result in results:
        failed = [name for name, ok in result.samples.checks.items() if not ok]
        state = (
            "FAILED " + ", ".join(failed) if failed else f"ok ({len(result.samples.checks)} checks)"
        )
        print(f"{result.benchmark.key}: {state}")
    for key in errors:
        print(f"{key}: FAILED with an error (traceback above)")
    broken = bool(errors) or any(not r.valid for r in results)
    print(f"\nbench smoke: {'FAILED' if broken else 'every row ok'}")
    return 1 if broken else 0
