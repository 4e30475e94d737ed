"""Run every benchmark in turn: `python -m bench` (what `make bench` calls)."""

from __future__ import annotations

import importlib
import sys

# Each module exposes main() -> None and prints its figures; order is cheapest first.
MODULES = [
    "bench.bench_classify",
    "bench.bench_similarity",
    "bench.bench_intake",
    "bench.bench_limits",
    "bench.bench_desk",
]


def main() -> int:
    only = sys.argv[1:]
    for name in MODULES:
        if only and not any(part in name for part in only):
            continue
        print(f"== {name}", flush=True)
        importlib.import_module(name).main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
