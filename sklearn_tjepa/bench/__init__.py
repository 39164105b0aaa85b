"""The benchmark suite: ``python -m benchmarks run|report`` (console script ``sklearn-tjepa-bench``).

- :mod:`~sklearn_tjepa.bench.budgets`: the named ``smoke``, ``cpu`` and ``paper`` budgets.
- :mod:`~sklearn_tjepa.bench.data`: the benchmark splits, budget subsets and labelled fractions.
- :mod:`~sklearn_tjepa.bench.pretrain`: T-JEPA pretraining and embeddings, cached on disk.
- :mod:`~sklearn_tjepa.bench.models`: the downstream models by name, ``linear`` and ``finetune``
  included.
- :mod:`~sklearn_tjepa.bench.inputs`: what each model reads (raw, tokens, raw + tokens).
- :mod:`~sklearn_tjepa.bench.fits`: how each fit ended (epochs or rounds run, cap, early stopping).
- :mod:`~sklearn_tjepa.bench.grids`: the cells of a run (grids A, B, evidence) in run order.
- :mod:`~sklearn_tjepa.bench.results`: output paths, metrics, environment, summaries.
- :mod:`~sklearn_tjepa.bench.runner`: the grid, run resumably with a progress bar.
- :mod:`~sklearn_tjepa.bench.planning`: ``run --plan``, the cells with their estimated minutes.
- :mod:`~sklearn_tjepa.bench.paired`: paired differences over seeds and their verdict.
- :mod:`~sklearn_tjepa.bench.plots`: the report's plots.
- :mod:`~sklearn_tjepa.bench.report`: ``docs/benchmarks.md``, its verdict table and plots.
- :mod:`~sklearn_tjepa.bench.reference`: the published figures the report compares with.
"""
