"""Write a large synthetic mixed-type table as Parquet, chunk by chunk (memory does not grow with rows).

The table has ``--numerical`` float32 columns ``num_0 ..`` and ``--categorical`` string columns
``cat_0 ..`` (dictionary-encoded in the files), with structure for T-JEPA to learn: each row draws
8 latent factors ``z ~ N(0, 1)``; a numerical column is ``z @ w + 0.5 * noise`` and a categorical
column of ``K`` categories (``K`` from 3 to 48) takes the category of the largest of
``z @ V + Gumbel noise`` (so columns predict one another). Then ``--missing-share`` of the values
of every column are blanked (NaN or null). The weights come from ``--seed``; the rows are made and
written one row group at a time, row group ``i`` (counted over all files) from
``SeedSequence(seed, spawn_key=(i,))``, so memory holds one row group and the table depends only on
the arguments.

Usage::

    python benchmarks/make_large_table.py --rows 10000000 --out data/large   # 10 files of 1M rows
    python benchmarks/make_large_table.py --rows 5000 --files 2 --row-group-rows 1000 --out /tmp/t

Writes ``--files`` files ``part-00000.parquet ..`` into the folder ``--out`` (row groups of
``--row-group-rows`` rows) and prints a JSON summary (rows, files, row groups, bytes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

N_FACTORS = 8


def _weights(seed: int, n_numerical: int, n_categorical: int):
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    numerical = rng.normal(size=(N_FACTORS, n_numerical)) / np.sqrt(N_FACTORS)
    cardinalities = rng.integers(3, 49, size=n_categorical)
    categorical = [rng.normal(size=(N_FACTORS, k)) for k in cardinalities]
    return numerical, categorical


def make_chunk(index: int, n_rows: int, *, seed: int, n_numerical: int, n_categorical: int, missing_share: float) -> pa.Table:
    """Rows of chunk ``index`` (``n_rows`` of them) as an Arrow table."""
    numerical_weights, categorical_weights = _weights(seed, n_numerical, n_categorical)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    z = rng.normal(size=(n_rows, N_FACTORS))
    columns = {}
    numbers = (z @ numerical_weights + 0.5 * rng.normal(size=(n_rows, n_numerical))).astype(np.float32)
    numbers[rng.random(numbers.shape) < missing_share] = np.nan
    for j in range(n_numerical):
        columns[f"num_{j}"] = pa.array(numbers[:, j], from_pandas=True)
    for j, weights in enumerate(categorical_weights):
        codes = np.argmax(z @ weights + rng.gumbel(size=(n_rows, weights.shape[1])), axis=1).astype(np.int32)
        mask = rng.random(n_rows) < missing_share
        dictionary = pa.array([f"c{j}_{k}" for k in range(weights.shape[1])])
        columns[f"cat_{j}"] = pa.DictionaryArray.from_arrays(pa.array(codes, mask=mask), dictionary)
    return pa.table(columns)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="rows in all files")
    parser.add_argument("--out", type=Path, required=True, help="folder of the files (created)")
    parser.add_argument("--files", type=int, default=10, help="files to split the rows over (default 10)")
    parser.add_argument("--row-group-rows", type=int, default=100_000, help="rows per row group (default 100,000)")
    parser.add_argument("--numerical", type=int, default=40)
    parser.add_argument("--categorical", type=int, default=10)
    parser.add_argument("--missing-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, args.rows, args.files + 1).astype(np.int64)
    chunk = 0
    row_groups = 0
    for number, (first, last) in enumerate(zip(bounds[:-1], bounds[1:])):
        path = args.out / f"part-{number:05d}.parquet"
        writer = None
        try:
            for start in range(int(first), int(last), args.row_group_rows):
                table = make_chunk(
                    chunk, min(args.row_group_rows, int(last) - start), seed=args.seed, n_numerical=args.numerical,
                    n_categorical=args.categorical, missing_share=args.missing_share,
                )
                chunk += 1
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table, row_group_size=args.row_group_rows)
        finally:
            if writer is not None:
                writer.close()
        if writer is not None:
            row_groups += pq.ParquetFile(path).metadata.num_row_groups
    files = sorted(args.out.glob("part-*.parquet"))
    summary = {
        "rows": args.rows, "files": len(files), "row_groups": row_groups,
        "bytes": sum(f.stat().st_size for f in files), "numerical": args.numerical,
        "categorical": args.categorical, "missing_share": args.missing_share, "seed": args.seed,
        "row_group_rows": args.row_group_rows, "out": str(args.out),
    }
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
