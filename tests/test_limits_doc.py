"""docs/limits.md against the code: every Limits field in its table, with its default and its flag."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from reactor.__main__ import build_parser
from reactor.arguments import LIMIT_FLAGS, limits_from_args
from reactor.limits import Limits, default_max_connections

DOC = Path(__file__).resolve().parents[1] / "docs" / "limits.md"
UNITS = {"": 1, "KiB": 1024, "MiB": 1024 * 1024, "s": 1}


def table() -> dict[str, dict[str, str]]:
    """The rows of the table, keyed by field name."""
    lines = DOC.read_text().splitlines()
    start = lines.index("| field | default | flag | nginx directive it mirrors | at the limit |")
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        field, default, flag, nginx, at_limit = (cell.strip() for cell in line.strip("|").split("|"))
        rows[field.strip("`")] = {"default": default, "flag": flag.strip("`"), "nginx": nginx, "at": at_limit}
    return rows


def parse_default(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+) ?(KiB|MiB|s|)", text)
    assert match is not None, f"cannot read the default {text!r}"
    return float(match.group(1)) * UNITS[match.group(2)]


def test_every_field_is_in_the_table_once_and_nothing_else() -> None:
    assert list(table()) == [field.name for field in dataclasses.fields(Limits)]


@pytest.mark.parametrize("field", [field.name for field in dataclasses.fields(Limits)])
def test_the_table_gives_the_default_of_the_code(field: str) -> None:
    row = table()[field]
    if field == "max_connections":
        assert "RLIMIT_NOFILE" in row["default"]
        assert Limits().max_connections == default_max_connections()
    else:
        assert parse_default(row["default"]) == getattr(Limits(), field)
    assert row["nginx"] and row["at"], "every row says what nginx does and what happens at the limit"


def test_the_flag_column_is_the_command_line() -> None:
    documented = {field: row["flag"] for field, row in table().items() if row["flag"] != "—"}
    assert documented == {field: flag for flag, field, *_ in LIMIT_FLAGS}


@pytest.mark.parametrize(
    ("flag", "field", "text", "value"),
    [
        ("--header-timeout", "header_timeout", "2.5", 2.5),
        ("--keepalive-timeout", "keepalive_timeout", "500ms", 0.5),
        ("--body-timeout", "body_timeout", "1m", 60.0),
        ("--send-timeout", "send_timeout", "30s", 30.0),
        ("--handshake-timeout", "handshake_timeout", "250ms", 0.25),
        ("--proxy-timeout", "proxy_timeout", "5s", 5.0),
        ("--max-body", "max_body", "64k", 65536),
        ("--max-body", "max_body", "0", 0),
        ("--max-connections", "max_connections", "500", 500),
        ("--grace", "grace", "0", 0.0),
    ],
)
def test_each_flag_sets_its_field_and_only_it(flag: str, field: str, text: str, value: float) -> None:
    limits = limits_from_args(build_parser().parse_args([flag, text]))
    assert getattr(limits, field) == value
    assert dataclasses.replace(limits, **{field: getattr(Limits(), field)}) == Limits()


@pytest.mark.parametrize(
    ("flag", "text"),
    [
        ("--header-timeout", "0"),
        ("--header-timeout", "-1"),
        ("--header-timeout", "1_0"),  # float() would take these
        ("--keepalive-timeout", "inf"),
        ("--body-timeout", "nan"),
        ("--send-timeout", " 5"),
        ("--send-timeout", "\u0665"),
        ("--send-timeout", "5x"),
        ("--grace", "-1"),
        ("--proxy-timeout", "0"),
        ("--max-body", "1.5m"),
        ("--max-body", "-1"),
        ("--max-body", "+5"),
        ("--max-body", "1 m"),
        ("--max-connections", "0"),
        ("--max-connections", "1k"),
        ("--max-connections", "many"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_code_2(flag: str, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([flag, text])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and flag in error and repr(text) in error
