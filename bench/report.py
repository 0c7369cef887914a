"""Turn samples into figures, an aligned table and bench-results/latest.json."""

import json
from dataclasses import dataclass
from pathlib import Path

from .registry import Benchmark, Samples

COLUMNS = ("benchmark", "measured", "baseline", "ratio", "target", "verdict")
RIGHT_ALIGNED = {"measured", "baseline", "ratio"}


@dataclass(frozen=True)
class Result:
    benchmark: Benchmark
    samples: Samples

    @property
    def best_measured(self) -> float:
        return min(self.samples.measured)

    @property
    def best_baseline(self) -> float:
        return min(self.samples.baseline)

    @property
    def ratio(self) -> float:
        # Always time over time, so above 1 means slower than the baseline, for rates too.
        return self.best_measured / self.best_baseline

    def figure(self, seconds: float) -> float:
        return seconds if self.benchmark.unit == "s" else self.samples.work / seconds

    @property
    def valid(self) -> bool:
        return all(self.samples.checks.values())

    @property
    def verdict(self) -> str:
        if not self.valid:
            return "INVALID"  # one side did not do the work it claims: the figures mean nothing
        if self.benchmark.target is None:
            return "-"
        return "met" if self.ratio <= self.benchmark.target else "MISSED"

    def cells(self) -> dict[str, str]:
        target = self.benchmark.target
        return {
            "benchmark": self.benchmark.title,
            "measured": self._show(self.best_measured),
            "baseline": self._show(self.best_baseline),
            "ratio": f"{self.ratio:.1f}x",
            "target": "-" if target is None else f"<= {target:g}x",
            "verdict": self.verdict,
        }

    def _show(self, seconds: float) -> str:
        if self.benchmark.unit == "s":
            return f"{seconds:.3f} s"
        return f"{self.figure(seconds):,.0f} {self.benchmark.item}/s"

    def as_json(self) -> dict:
        b, s = self.benchmark, self.samples
        return {
            "key": b.key,
            "benchmark": b.title,
            "unit": "seconds" if b.unit == "s" else f"{b.item} per second",
            "measured": self.figure(self.best_measured),
            "baseline": self.figure(self.best_baseline),
            "ratio": self.ratio,
            "target_max_ratio": b.target,
            "verdict": self.verdict,
            "work": s.work,
            "runs_per_side": len(s.measured),
            "measured_seconds": s.measured,
            "baseline_seconds": s.baseline,
            "measured_does": b.measured,
            "baseline_does": b.baseline,
            "checks": s.checks,
            "extra": s.extra,
        }


def table(results: list[Result]) -> str:
    rows = [dict(zip(COLUMNS, COLUMNS, strict=True))] + [r.cells() for r in results]
    widths = {c: max(len(row[c]) for row in rows) for c in COLUMNS}

    def line(row: dict[str, str]) -> str:
        cells = [
            row[c].rjust(widths[c]) if c in RIGHT_ALIGNED else row[c].ljust(widths[c])
            for c in COLUMNS
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * widths[c] for c in COLUMNS)
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def notes(results: list[Result]) -> str:
    lines = ["ratio = measured time / baseline time, best run of each (above 1 is slower)"]
    for r in results:
        runs = len(r.samples.measured)
        lines.append(f"- {r.benchmark.title} (best of {runs} runs per side)")
        lines.append(f"    measured: {r.benchmark.measured}")
        lines.append(f"    baseline: {r.benchmark.baseline}")
        for name, value in r.samples.extra.items():
            lines.append(f"    {name}: {value}")
        failed = [name for name, ok in r.samples.checks.items() if not ok]
        if failed:
            lines.append(f"    FAILED CHECKS: {', '.join(failed)}")
    return "\n".join(lines)


def write_json(path: Path, *, meta: dict, results: list[Result]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**meta, "results": [r.as_json() for r in results]}
    path.write_text(json.dumps(payload, indent=2) + "\n")
