"""The benchmark suite: ``python -m benchmarks run|report`` (console script ``sklearn-tjepa-bench``).

- :mod:`~sklearn_tjepa.bench.budgets`: the named ``smoke``, ``cpu`` and ``paper`` budgets.
- :mod:`~sklearn_tjepa.bench.data`: the benchmark splits, budget subsets and labelled fractions.
- :mod:`~sklearn_tjepa.bench.pretrain`: T-JEPA pretraining and embeddings, cached on disk.
- :mod:`~sklearn_tjepa.bench.models`: the downstream models by name, ``linear`` included.
- :mod:`~sklearn_tjepa.bench.results`: output paths, metrics, environment, summaries.
- :mod:`~sklearn_tjepa.bench.runner`: the grid, run resumably with a progress bar.
- :mod:`~sklearn_tjepa.bench.report`: ``docs/benchmarks.md`` and its plots from the results.
- :mod:`~sklearn_tjepa.bench.reference`: the published figures the report compares with.
"""
