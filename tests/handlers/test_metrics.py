"""The Prometheus exposition of the status numbers (handlers/status/metrics.py), checked by promtool, Prometheus'
own linter, and line by line: types, names, labels and their escaping, and each worker under its label."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from handlers.status.metrics import FAMILIES, HANDLER_METRICS, ReactorNumbers, exposition
from reactor.loop.eventloop import LoopStatistics
from reactor.server import ServerStatistics


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: .ci/run installs it (apt-get install prometheus)")
    return path


def check_metrics(text: str) -> None:
    """promtool's verdict on ``text``: no parse error and no lint problem."""
    result = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def statistics(requests: int = 7, reason: str = "peer closed") -> ServerStatistics:
    loop = LoopStatistics(40, 1.25, 0.5, 90, 60, 4, 3, 0)
    return ServerStatistics(
        connections=2,
        by_state={"reading": 1, "writing": 1},
        streams=1,
        accepted=9,
        requests=requests,
        responses={"GET": {"2xx": requests - 2, "4xx": 1}, "none": {"4xx": 1}},
        bytes_received=1000,
        bytes_sent=50_000,
        queued=300,
        largest_queue=200,
        closes={reason: 6, "keep-alive timeout": 1},
        tls_handshake_failures={"NO_SHARED_CIPHER": 2},
        loop=loop,
    )


def samples(text: str) -> dict[str, float]:
    """Each sample line's name with its labels -> its value."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            found[series] = float(value)
    return found


def test_one_reactor_passes_promtool_and_says_each_number_once() -> None:
    text = exposition([ReactorNumbers(statistics(), {"auth_failures": 3}, 1_800_000_000.5)])
    check_metrics(text)
    values = samples(text)
    assert values['reactor_requests_total{method="GET",status="2xx"}'] == 5
    assert values['reactor_requests_total{method="none",status="4xx"}'] == 1
    assert values["reactor_received_bytes_total"] == 1000 and values["reactor_sent_bytes_total"] == 50_000
    assert values['reactor_connections_closed_total{reason="peer closed"}'] == 6
    assert values["reactor_loop_select_seconds_total"] == 1.25 and values["reactor_loop_timers"] == 3
    assert values['reactor_tls_handshake_failures_total{reason="NO_SHARED_CIPHER"}'] == 2
    assert values["reactor_auth_failures_total"] == 3 and values["reactor_workers"] == 1
    assert values["reactor_start_time_seconds"] == 1_800_000_000.5
    # Every open state is written, so a state's series does not vanish while nothing is in it.
    assert values['reactor_connections{state="reading"}'] == 1
    assert values['reactor_connections{state="lingering"}'] == 0
    assert values["reactor_event_streams"] == 1


def test_counters_are_totals_and_gauges_are_not() -> None:
    handlers = {"auth_failures": 0, "proxied_requests": 3, "proxy_failures": 1}
    text = exposition([ReactorNumbers(statistics(), handlers, 0.0)])
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    assert set(types) == set(FAMILIES) | {name for name, _, _ in HANDLER_METRICS.values()}
    for name, kind in types.items():
        assert kind == ("counter" if name.endswith("_total") else "gauge"), name
        assert f"# HELP {name} " in text


def test_a_handler_that_is_not_there_has_no_family() -> None:
    text = exposition([ReactorNumbers(statistics(), {}, 0.0)])
    check_metrics(text)
    assert "reactor_auth_failures_total" not in text


def test_label_values_are_escaped() -> None:
    text = exposition([ReactorNumbers(statistics(reason='a "quoted" \\ reason\nsplit'), {}, 0.0)])
    check_metrics(text)
    assert r'reactor_connections_closed_total{reason="a \"quoted\" \\ reason\nsplit"} 6' in text


def test_each_worker_is_a_series_of_its_own_under_its_label() -> None:
    workers = [ReactorNumbers(statistics(7), {"auth_failures": 1}, 10.0, 1), ReactorNumbers(statistics(4), {}, 20.0, 2)]
    text = exposition(workers, 2)
    check_metrics(text)
    values = samples(text)
    assert values['reactor_requests_total{method="GET",status="2xx",worker="1"}'] == 5
    assert values['reactor_requests_total{method="GET",status="2xx",worker="2"}'] == 2
    assert values['reactor_start_time_seconds{worker="2"}'] == 20.0
    assert values['reactor_auth_failures_total{worker="1"}'] == 1
    assert values["reactor_workers"] == 2
    assert not any(series.startswith("reactor_requests_total") and "worker=" not in series for series in values)
