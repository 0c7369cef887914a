"""The benchmark rows and what each returns. Adding a row is adding one `@benchmark` function."""

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from time import perf_counter
from typing import Any, Literal

from . import database

ACTOR_USERNAME = "bench"


@dataclass(frozen=True)
class Samples:
    """What a row hands back: seconds per run of both sides, and untimed checks of their work."""

    measured: list[float]
    baseline: list[float]
    work: int  # items one run handles (entitlements, events), for rates
    checks: dict[str, bool] = field(default_factory=dict)
    # Further figures a row measures beside its times (peak memory at two sizes, ...).
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What a row gets: how many runs to take, the actor, and raw connections for baselines.

    In a smoke run (`smoke`), every row runs once at a tiny size through the same code paths,
    for its checks alone: `size()` picks the row's full or smoke size.
    """

    url: str
    repeats: int
    smoke: bool = False

    def size(self, full: int, *, smoke: int) -> int:
        return smoke if self.smoke else full

    def actor(self):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.get(username=ACTOR_USERNAME)

    def raw(self):
        return database.connect(self.url)

    def settle(self) -> None:
        database.settle(self.url)


@dataclass(frozen=True)
class Benchmark:
    key: str
    title: str
    measured: str  # what the domain side runs
    baseline: str  # what the baseline runs, honestly stated
    unit: Literal["s", "rate"]  # the figure is the best time, or items per second at best time
    item: str  # what the rate counts, e.g. "events"
    target: float | None  # highest acceptable ratio of measured time to baseline time
    run: Callable[[Context], Samples]


REGISTRY: list[Benchmark] = []


def benchmark(
    key: str,
    *,
    title: str,
    measured: str,
    baseline: str,
    unit: Literal["s", "rate"] = "s",
    item: str = "",
    target: float | None = None,
):
    def register(run: Callable[[Context], Samples]) -> Callable[[Context], Samples]:
        if any(b.key == key for b in REGISTRY):
            raise ValueError(f"Benchmark {key!r} is registered twice.")
        REGISTRY.append(Benchmark(key, title, measured, baseline, unit, item, target, run))
        return run

    return register


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of `fn` takes on the wall clock, and what it returned."""
    gc.collect()  # garbage from setup should not be collected on the clock
    start = perf_counter()
    value = fn()
    return perf_counter() - start, value


def alternate(
    sides: dict[str, Callable[[Any], Any]], runs: list[Any]
) -> tuple[dict[str, list[float]], dict[str, list[Any]]]:
    """Time every side once per run; seconds and return values per side, in run order.

    `sides` maps a side ("measured", "baseline") to a callable taking that run's input (its own
    fresh state, where the work changes state). Which side goes first swaps every run, so
    warm-up and background work (autovacuum, checkpoints) do not always land on the same side.
    """
    times: dict[str, list[float]] = {name: [] for name in sides}
    values: dict[str, list[Any]] = {name: [] for name in sides}
    for n, given in enumerate(runs):
        order = list(sides) if n % 2 == 0 else list(reversed(sides))
        for name in order:
            seconds, value = timed(partial(sides[name], given))
            times[name].append(seconds)
            values[name].append(value)
    return times, values
