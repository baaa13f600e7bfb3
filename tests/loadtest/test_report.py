"""Reading locust's CSV files: the summary, the failures, the step table with its knee, thresholds."""

from __future__ import annotations

from pathlib import Path

from loadtest.report import (
    Step,
    Summary,
    find_knee,
    read_failures,
    read_names,
    read_steps,
    read_summary,
    step_table,
    threshold_problems,
)

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,page,100,0,2,2.5,0.3,20,4000,10.0,0.0,2,2,3,3,4,5,9,12,20,20,20
GET,range (206),50,50,1,1.5,0.2,10,100,5.0,5.0,1,1,2,2,3,4,6,8,10,10,10
,Aggregated,150,50,2,2.2,0.2,20,2700,15.5,5.0,2,2,3,3,4,5,8,11,20,20,20
"""
FAILURES = """Method,Name,Error,Occurrences,First Seen,Last Seen
GET,range (206),"CatchResponseError('expected 206 Partial Content, got 200')",50,a,b
GET,revalidate (304),"ConnectionResetError(104, 'Connection reset by peer')",70,a,b
"""
HISTORY_HEAD = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
    "Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
    "Total Min Response Time,Total Max Response Time,Total Average Content Size\n"
)


def history_row(second: int, users: int, total: int, p50: int, p95: int, p99: int) -> str:
    return f"{second},{users},,Aggregated,0,0,{p50},0,0,0,0,{p95},0,{p99},0,0,0,{total},0,0,0,0,0,0\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_summary_is_the_aggregated_row(tmp_path: Path) -> None:
    summary = read_summary(write(tmp_path / "s.csv", STATS))
    assert summary == Summary(requests=150, failures=50, requests_per_second=15.5, p50_ms=2, p95_ms=5, p99_ms=11)
    assert summary.line() == "150 requests, 50 failed (33.33 %), 15.5 requests/s, p50 2 ms, p95 5 ms, p99 11 ms"


def test_names_give_requests_and_failures_per_task(tmp_path: Path) -> None:
    assert read_names(write(tmp_path / "s.csv", STATS)) == {"page": (100, 0), "range (206)": (50, 50)}


def test_failures_come_most_frequent_first_with_the_task_s_own_message(tmp_path: Path) -> None:
    failures = read_failures(write(tmp_path / "f.csv", FAILURES))
    assert [(f.name, f.occurrences) for f in failures] == [("revalidate (304)", 70), ("range (206)", 50)]
    assert failures[1].error == "expected 206 Partial Content, got 200"
    assert failures[0].error.startswith("ConnectionResetError(")


def test_steps_are_measured_from_the_history_until_users_leave(tmp_path: Path) -> None:
    rows = [history_row(0, 0, 0, 0, 0, 0)]
    rows += [history_row(1 + s, 10, 100 * (s + 1), 2, 5, 9) for s in range(5)]  # 100 requests/s
    rows += [history_row(6 + s, 20, 500 + 150 * (s + 1), 3, 8, 15) for s in range(5)]  # 150 requests/s
    rows += [history_row(11 + s, 30, 1250 + 155 * (s + 1), 9, 30, 60) for s in range(5)]  # 155: the knee
    rows += [history_row(16, 2, 2100, 9, 30, 60)]  # stopping
    steps = read_steps(write(tmp_path / "h.csv", HISTORY_HEAD + "".join(rows)))
    assert [(s.users, s.requests_per_second) for s in steps] == [(10, 100), (20, 150), (30, 155)]
    assert (steps[2].p50_ms, steps[2].p95_ms, steps[2].p99_ms) == (9, 30, 60)
    assert find_knee(steps) == 1
    table = step_table(steps)
    assert "| 20 (knee) | 150.0 |" in table
    assert "knee at about 20 users" in table


def test_no_knee_while_throughput_keeps_growing() -> None:
    steps = [Step(users, 100.0 * users, 1, 2, 3) for users in (1, 2, 3)]
    assert find_knee(steps) is None
    assert "no knee" in step_table(steps)


def test_thresholds_fail_on_any_failure_on_p99_and_on_rate() -> None:
    good = Summary(requests=1000, failures=0, requests_per_second=500, p50_ms=2, p95_ms=5, p99_ms=11)
    assert threshold_problems(good, max_p99_ms=20, min_rps=400) == []
    assert threshold_problems(good, max_p99_ms=10, min_rps=None) == ["p99 11 ms is above --max-p99-ms 10"]
    assert threshold_problems(good, max_p99_ms=None, min_rps=600) == ["500.0 requests/s is below --min-rps 600"]
    failed = Summary(requests=1000, failures=1, requests_per_second=500, p50_ms=2, p95_ms=5, p99_ms=11)
    assert threshold_problems(failed, None, None) == ["1 request(s) failed"]
    assert threshold_problems(Summary(0, 0, 0, 0, 0, 0), None, None) == ["no request was made"]
