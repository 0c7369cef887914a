"""The benchmark rows and what each returns. Adding a row is adding one `@benchmark` function."""

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal


@dataclass(frozen=True)
class Samples:
    """What a row hands back: seconds per run of both sides, and untimed checks of their work."""

    measured: list[float]
    baseline: list[float]
    work: int  # items one run handles (entitlements, events), for rates
    checks: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    key: str
    title: str
    measured: str  # what the domain side runs
    baseline: str  # what the baseline runs, honestly stated
    unit: Literal["s", "rate"]  # the figure is the best time, or items per second at best time
    item: str  # what the rate counts, e.g. "events"
    target: float | None  # highest acceptable ratio of measured time to baseline time
    run: Callable[[Any], Samples]


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
    def register(run: Callable[[Any], Samples]) -> Callable[[Any], Samples]:
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
