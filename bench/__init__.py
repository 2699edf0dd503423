"""Benchmarks (BENCHMARKS.md): each reports a ratio to a baseline measured in the same run.

    python -m bench --size S|M|L [names…]

See bench/README.md. Each benchmark module registers itself with `bench.core.benchmark`;
`MODULES` lists the ones the runner imports, in the order they run.
"""

MODULES = ["bench.http_floor", "bench.proposals", "bench.allocation", "bench.schedule", "bench.reports"]
