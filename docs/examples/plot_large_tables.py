"""
Tables larger than memory: Parquet, partial_fit and transform_dataset
=====================================================================

A table too large for a DataFrame is pretrained on straight from Parquet files, or chunk by chunk
with ``partial_fit``, and embedded into a Parquet file with
:func:`~sklearn_tjepa.transform_dataset`. Here the table is small and generated, so that the page
builds in seconds; the code does not change with the size of the table (see
:doc:`/user_guide/large_tables`).
"""

# %%
# A table in several Parquet files
# --------------------------------
# Six files of 1,000 rows, each in row groups of 250 rows: four numerical columns that depend on
# one another, a categorical column, some missing values, and an id that is not a feature.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sklearn_tjepa import TJEPATransformer, transform_dataset

folder = Path(tempfile.mkdtemp())
(folder / "table").mkdir()
rng = np.random.default_rng(0)
for part in range(6):
    z = rng.normal(size=1000)
    frame = pd.DataFrame({
        "user_id": np.arange(part * 1000, (part + 1) * 1000),
        "a": z, "b": 2 * z + rng.normal(scale=0.3, size=1000), "c": np.exp(z / 2), "d": rng.normal(size=1000),
        "kind": pd.Categorical(np.where(z > 0.5, "high", np.where(z < -0.5, "low", "mid"))),
    })
    frame.loc[rng.random(1000) < 0.05, "b"] = np.nan
    frame.to_parquet(folder / "table" / f"part-{part}.parquet", row_group_size=250, index=False)

params = dict(d_model=16, n_layers=1, n_heads=2, ffn_dim=32, predictor_d_model=16, predictor_n_layers=1,
              max_epochs=3, batch_size=128, device="cpu", random_state=0)

# %%
# Fit from the files
# ------------------
# A ``pyarrow.dataset.Dataset`` whose schema lists the features leaves ``user_id`` out. The
# preprocessing is fitted on a random sample of 2,000 rows; each epoch reads the row groups in a
# new order, in windows of 1,024 rows shuffled in memory one at a time.
import pyarrow as pa
import pyarrow.dataset as ds

features = pa.schema([("a", pa.float64()), ("b", pa.float64()), ("c", pa.float64()), ("d", pa.float64()),
                      ("kind", pa.string())])
dataset = ds.dataset(folder / "table", format="parquet", schema=features)
streamed = TJEPATransformer(preprocessing_sample_rows=2000, shuffle_buffer_rows=1024, **params).fit(dataset)
print("features:", list(streamed.feature_names_in_))

# %%
# Embed the files into a Parquet file
# -----------------------------------
# The output keeps the order of the rows and the id next to each embedding.
out = transform_dataset(streamed, dataset, folder / "embeddings.parquet", batch_rows=2000, id_column="user_id")
embeddings = pq.read_table(out).to_pandas()
print(embeddings.shape, embeddings.columns[:3].tolist())
whole = pd.read_parquet(folder / "table")
same = np.array_equal(embeddings.drop(columns="user_id").to_numpy(), streamed.transform(whole.drop(columns="user_id")))
print("equal to transform on the whole table:", same)

# %%
# Chunk by chunk with partial_fit
# -------------------------------
# ``fit_preprocessing`` on a sample first; then one ``partial_fit`` per chunk of 500 rows, three
# passes over the data. ``partial_fit_rows`` (the rows of one pass) sets the length of the
# learning-rate and momentum schedules: three epochs of 6,000 rows, as ``fit`` would have.
incremental = TJEPATransformer(partial_fit_rows=6000, **params)
incremental.fit_preprocessing(whole.drop(columns="user_id").sample(2000, random_state=0))
for epoch in range(3):
    for path in sorted((folder / "table").glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=500, columns=list(features.names)):
            incremental.partial_fit(batch.to_pandas())
print(f"rows seen: {incremental.n_rows_seen_}, steps: {incremental.n_steps_}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot([r["loss"] for r in incremental.history_], label="partial_fit (one point per chunk)")
calls_per_epoch = len(incremental.history_) / 3
ax.plot(np.arange(1, 4) * calls_per_epoch - 1, [r["loss"] for r in streamed.history_], "o-", label="fit from Parquet (per epoch)")
ax.set(xlabel="partial_fit call", ylabel="JEPA training loss")
ax.legend()
fig.tight_layout();
