"""The rule that turns descriptors into connections, for the default limit and the select() cap."""

from __future__ import annotations

from reactor.limits import default_max_connections, descriptor_limit
from reactor.loop import SELECT_MAX_FD


def test_two_descriptors_per_connection_and_sixteen_spare() -> None:
    assert default_max_connections(SELECT_MAX_FD) == 504, "the --selector select cap of docs/selectors.md"
    assert default_max_connections(20) == 2
    assert default_max_connections(16) == 1, "never below one connection"
    assert default_max_connections() == default_max_connections(descriptor_limit())
