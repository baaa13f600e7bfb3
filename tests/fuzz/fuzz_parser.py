"""Coverage-guided fuzzing of the request parser with atheris (libFuzzer), from the repository root:

    python -m pip install atheris
    mkdir -p /tmp/corpus
    python -m tests.fuzz.fuzz_parser /tmp/corpus tests/fuzz/corpus -max_total_time=600

New inputs go to the first directory; the committed seed corpus (second) is only read. A failing
input is written as ./crash-<sha1>; replay it with ``python -m tests.fuzz.fuzz_parser crash-<sha1>``.
"""

from __future__ import annotations

import sys

import atheris

# Only the protocol core is instrumented for coverage: that is where the fuzzer should dig.
with atheris.instrument_imports(include=["reactor.http"]):
    from tests.fuzz.target import check


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
