"""
Saving and loading a fitted pipeline with joblib
================================================

A fitted :class:`~sklearn_tjepa.TJEPATransformer` pickles like any scikit-learn estimator. Its
weights are stored as CPU tensors, so a model fitted on a GPU loads on a machine without one.

.. warning::
   Pickle and joblib files run code when they are loaded. Load them only from sources you trust.
"""

# %%
# Fit a small pipeline
# --------------------
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import TJEPATransformer, load_benchmark

adult = load_benchmark("adult")
train, test = adult.splits["train"][:2000], adult.splits["test"][:1000]
X_train, y_train = adult.frame.iloc[train], adult.target.iloc[train]
X_test, y_test = adult.frame.iloc[test], adult.target.iloc[test]

tjepa = TJEPATransformer(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, max_epochs=3, device="cpu", random_state=0
)
model = make_pipeline(tjepa, StandardScaler(), LogisticRegression(max_iter=2000))
model.fit(X_train, y_train);

# %%
# Dump, load, compare
# -------------------
# The reloaded pipeline gives the same embeddings and predictions. Record the versions of torch,
# scikit-learn and sklearn-tjepa next to the file: load it with the same versions.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "tjepa_probe.joblib"
    joblib.dump(model, path)
    print(f"file size: {path.stat().st_size / 1024:.0f} KiB")
    loaded = joblib.load(path)

same_embeddings = np.array_equal(model[0].transform(X_test), loaded[0].transform(X_test))
same_predictions = np.array_equal(model.predict(X_test), loaded.predict(X_test))
print(f"identical embeddings: {same_embeddings}, identical predictions: {same_predictions}")
print(f"test accuracy after reloading: {loaded.score(X_test, y_test):.4f}")
