"""Reading locust's CSV files back: the run's summary, its failures, the step table and the knee.

The numbers come from the same files (and so the same statistics) that locust's HTML report shows:
``<prefix>_stats.csv`` (its "Aggregated" row), ``_failures.csv`` and ``_stats_history.csv``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

KNEE_GROWTH = 1.10  # a step that adds users but not 10 % more requests/s is past the knee


@dataclass(frozen=True)
class Summary:
    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def line(self) -> str:
        share = 100 * self.failures / self.requests if self.requests else 0.0
        return (
            f"{self.requests} requests, {self.failures} failed ({share:.2f} %), "
            f"{self.requests_per_second:.1f} requests/s, "
            f"p50 {self.p50_ms:g} ms, p95 {self.p95_ms:g} ms, p99 {self.p99_ms:g} ms"
        )


@dataclass(frozen=True)
class Failure:
    method: str
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class Step:
    users: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def _number(text: str) -> float:
    """A CSV cell as a number; locust writes "N/A" for a percentile without samples."""
    return 0.0 if text in ("", "N/A") else float(text)


def read_summary(stats_csv: Path) -> Summary:
    """The "Aggregated" row of ``<prefix>_stats.csv``. Raises ValueError if there is none."""
    with stats_csv.open(newline="") as file:
        for row in csv.DictReader(file):
            if row["Name"] == "Aggregated":
                return Summary(
                    requests=int(row["Request Count"]),
                    failures=int(row["Failure Count"]),
                    requests_per_second=_number(row["Requests/s"]),
                    p50_ms=_number(row["50%"]),
                    p95_ms=_number(row["95%"]),
                    p99_ms=_number(row["99%"]),
                )
    raise ValueError(f"{stats_csv} has no Aggregated row")


def _plain(error: str) -> str:
    """A task's own failure message without the exception class locust wraps it in."""
    match = re.fullmatch(r"""CatchResponseError\((['"])(.*)\1\)""", error, re.DOTALL)
    return match.group(2) if match else error


def read_failures(failures_csv: Path) -> list[Failure]:
    """The rows of ``<prefix>_failures.csv``, most frequent first."""
    with failures_csv.open(newline="") as file:
        failures = [
            Failure(row["Method"], row["Name"], _plain(row["Error"]), int(row["Occurrences"]))
            for row in csv.DictReader(file)
        ]
    return sorted(failures, key=lambda failure: -failure.occurrences)


def read_names(stats_csv: Path) -> dict[str, tuple[int, int]]:
    """Request name -> (requests, failures), for every row but the aggregate."""
    with stats_csv.open(newline="") as file:
        return {
            row["Name"]: (int(row["Request Count"]), int(row["Failure Count"]))
            for row in csv.DictReader(file)
            if row["Name"] != "Aggregated"
        }


def read_steps(history_csv: Path) -> list[Step]:
    """One row per user count from ``<prefix>_stats_history.csv`` (one line a second).

    Requests/s of a step is its growth in total requests over its seconds, after the first second
    (spent spawning). Its percentiles are locust's "current" ones at the step's last second, which
    cover the last 10 s: the step itself when steps last 10 s or more.
    """
    groups: dict[int, list[dict[str, str]]] = {}
    with history_csv.open(newline="") as file:
        for row in csv.DictReader(file):
            users = int(row["User Count"])
            if row["Name"] != "Aggregated" or users == 0:
                continue
            if groups and users < max(groups):
                break  # the run is stopping: users leave, the steps are over
            groups.setdefault(users, []).append(row)
    steps = []
    for users, rows in groups.items():
        settled = rows[1:] if len(rows) > 2 else rows
        first, last = settled[0], settled[-1]
        seconds = int(last["Timestamp"]) - int(first["Timestamp"])
        if seconds > 0:
            rate = (int(last["Total Request Count"]) - int(first["Total Request Count"])) / seconds
        else:
            rate = _number(last["Requests/s"])
        steps.append(Step(users, rate, _number(last["50%"]), _number(last["95%"]), _number(last["99%"])))
    return steps


def find_knee(steps: list[Step]) -> int | None:
    """Index of the last step whose throughput still grew by KNEE_GROWTH over the step before it,
    when a later step did not; None when throughput grew at every step (no knee reached)."""
    for index in range(1, len(steps)):
        if steps[index].requests_per_second < KNEE_GROWTH * steps[index - 1].requests_per_second:
            return index - 1
    return None


def step_table(steps: list[Step]) -> str:
    """The steps as a markdown table, the knee marked, with a sentence that names it."""
    knee = find_knee(steps)
    lines = ["| users | requests/s | p50 ms | p95 ms | p99 ms |", "| ---: | ---: | ---: | ---: | ---: |"]
    for index, step in enumerate(steps):
        mark = " (knee)" if index == knee else ""
        latencies = f"{step.p50_ms:g} | {step.p95_ms:g} | {step.p99_ms:g}"
        lines.append(f"| {step.users}{mark} | {step.requests_per_second:.1f} | {latencies} |")
    if knee is None:
        verdict = "no knee: throughput grew at every step; raise --users to find it"
    else:
        verdict = (
            f"knee at about {steps[knee].users} users: {steps[knee].requests_per_second:.1f} requests/s, "
            f"beyond it more users bring less than {100 * (KNEE_GROWTH - 1):.0f} % more throughput"
        )
    return "\n".join([*lines, "", verdict])


def threshold_problems(summary: Summary, max_p99_ms: float | None, min_rps: float | None) -> list[str]:
    """Why the run fails its thresholds: any failed request, p99 above the maximum, rate below the minimum."""
    problems = []
    if summary.requests == 0:
        problems.append("no request was made")
    if summary.failures:
        problems.append(f"{summary.failures} request(s) failed")
    if max_p99_ms is not None and summary.p99_ms > max_p99_ms:
        problems.append(f"p99 {summary.p99_ms:g} ms is above --max-p99-ms {max_p99_ms:g}")
    if min_rps is not None and summary.requests_per_second < min_rps:
        problems.append(f"{summary.requests_per_second:.1f} requests/s is below --min-rps {min_rps:g}")
    return problems
