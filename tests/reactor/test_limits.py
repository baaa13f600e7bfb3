"""The rule that turns descriptors into connections, for the default limit and the select() cap."""

from __future__ import annotations

import resource

import pytest

from reactor.limits import Limits, default_max_connections, descriptor_limit
from reactor.loop.eventloop import SELECT_MAX_FD


def test_two_descriptors_per_connection_and_sixteen_spare() -> None:
    assert default_max_connections(SELECT_MAX_FD) == 504, "the --selector select cap of docs/selectors.md"
    assert default_max_connections(20) == 2
    assert default_max_connections(16) == 1, "never below one connection"


def test_by_default_the_limit_follows_the_process_descriptor_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (216, hard))
    try:
        assert descriptor_limit() == 216
        assert default_max_connections() == 100
        assert Limits().max_connections == 100, "read when the limits are made, not when the module loads"
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_an_unlimited_descriptor_limit_counts_as_65536(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel caps RLIMIT_NOFILE below infinity (fs.nr_open), so only a stand-in reports it.
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert descriptor_limit() == 65536
    assert default_max_connections() == 32760
