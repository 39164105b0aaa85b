"""``python -m benchmarks run|report``: the benchmark suite (see ``sklearn_tjepa.bench``).

The code lives in the package, :mod:`sklearn_tjepa.bench`, so that the console script
``sklearn-tjepa-bench`` works after a wheel install too.
"""

from sklearn_tjepa.bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
