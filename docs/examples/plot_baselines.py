"""
Baselines with and without T-JEPA embeddings
============================================

:mod:`sklearn_tjepa.baselines` holds the supervised models that T-JEPA is compared with: the deep
models of Gorishniy et al. (2021), trained with skorch, and gradient-boosted trees.
:func:`~sklearn_tjepa.baselines.with_tjepa` puts a :class:`~sklearn_tjepa.TJEPATransformer` in
front of any of them, so the same model is trained on the embeddings instead of the raw table.

``sklearn_tjepa.baselines.MLPClassifier`` is the tabular MLP of that benchmark (categorical
embeddings, missing values, early stopping), not :class:`sklearn.neural_network.MLPClassifier`.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt

from sklearn_tjepa import load_benchmark

adult = load_benchmark("adult")
train, test = adult.splits["train"][:2000], adult.splits["test"][:2000]
X_train, y_train = adult.frame.iloc[train], adult.target.iloc[train]
X_test, y_test = adult.frame.iloc[test], adult.target.iloc[test]

# %%
# Four models
# -----------
# Scikit-learn's histogram gradient boosting (no extra dependency; XGBoost, LightGBM and
# CatBoost work the same way with their extras) and the benchmark's MLP, each on the raw table
# and on T-JEPA embeddings. Small sizes and few epochs keep the example fast.
from sklearn_tjepa.baselines import MLPClassifier, make_gbdt, with_tjepa

tjepa_params = dict(d_model=16, n_layers=1, n_heads=2, ffn_dim=32, max_epochs=4, device="cpu", random_state=0)


def gbdt():
    return make_gbdt("hist_gradient_boosting", task="classification", random_state=0)


def mlp():
    return MLPClassifier(n_blocks=2, d_block=64, max_epochs=8, device="cpu", random_state=0)


models = {
    "GBDT": gbdt(),
    "GBDT + T-JEPA": with_tjepa(gbdt(), **tjepa_params),
    "MLP": mlp(),
    "MLP + T-JEPA": with_tjepa(mlp(), **tjepa_params),
}
scores = {}
for name, model in models.items():
    scores[name] = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name:>14}: test accuracy {scores[name]:.4f}")

# %%
# Results
# -------
# Test accuracy is the share of the 2,000 test rows classified correctly. The bars start at 0 so
# that their lengths compare; the error bars are one standard error of an accuracy on 2,000 rows
# (``sqrt(p (1 - p) / n)``), and the dashed line is the score of always predicting the majority
# class. With 2,000 training rows, tiny settings and one seed, the differences say little:
# :doc:`/benchmarks` compares the full-size models over seeds.
import numpy as np

accuracies = np.array(list(scores.values()))
majority = max(y_test.mean(), 1 - y_test.mean())
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.barh(
    list(scores), accuracies, xerr=np.sqrt(accuracies * (1 - accuracies) / len(y_test)), capsize=4,
    color=["#4c72b0", "#dd8452"] * 2,
)
ax.axvline(majority, color="black", linestyle="--", label="majority class")
ax.set_xlim(0, 1)
ax.set_xlabel(f"test accuracy (fraction correct of {len(y_test)} rows, one seed)")
ax.invert_yaxis()
ax.legend(loc="lower right");
