"""``python -m tests.simulation``: run seeds, print the failing ones, or replay one with a trace."""

from __future__ import annotations

import argparse
import collections
import sys
import time

from tests.simulation.site import site_root
from tests.simulation.world import SEEN, Simulation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__)
    parser.add_argument("--seeds", type=int, default=1000, metavar="N", help="how many seeds to run (default: 1000)")
    parser.add_argument("--from", type=int, default=0, dest="first", metavar="K", help="the first seed (default: 0)")
    parser.add_argument("--seed", type=int, metavar="S", help="run this one seed and print what it found")
    parser.add_argument("--trace", action="store_true", help="with --seed: print the run's trace on stdout")
    args = parser.parse_args(argv)
    simulation = Simulation(site_root())
    if args.seed is not None:
        result = simulation.run(args.seed, sys.stdout if args.trace else None)
        print(
            f"seed {result.seed}: steps={result.steps} requests={result.requests} responses={result.responses} "
            f"closes={result.closes} transcript={result.transcript[:16]}"
        )
        for violation in result.violations:
            print(f"  {violation}")
        return 0 if result.ok else 1
    if args.trace:
        parser.error("--trace replays one seed: add --seed S")
    started = time.perf_counter()
    failed = []
    seen: collections.Counter[str] = collections.Counter()
    for seed in range(args.first, args.first + args.seeds):
        result = simulation.run(seed)
        seen += result.seen
        if not result.ok:
            failed.append(seed)
            print(f"seed {seed} FAILED: {result.violations[0]}", flush=True)
    elapsed = time.perf_counter() - started
    print("reached: " + ", ".join(f"{part} {seen[part]}" for part in SEEN))
    print(
        f"{args.seeds} seeds from {args.first} in {elapsed:.1f} s ({1000 * elapsed / max(1, args.seeds):.1f} ms/seed): "
        f"{len(failed)} failed" + (f": {' '.join(map(str, failed))}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
