"""
A linear probe on T-JEPA embeddings
===================================

The usual way to judge self-supervised embeddings: pretrain :class:`~sklearn_tjepa.TJEPATransformer`
on the rows (it ignores the labels), then train a linear model on the frozen embeddings. Everything
is one scikit-learn ``Pipeline``, compared here with the same probe on an untrained encoder and
with the same logistic regression on one-hot encoded raw features.
"""

# %%
# Data: a few thousand rows of Adult
# ----------------------------------
# Adult (is the income above 50K?) ships with the package, with its published train/test split.
# Eight of its 14 columns are categorical strings; the transformer encodes them itself.
from sklearn_tjepa import load_benchmark

adult = load_benchmark("adult")
X, y = adult.frame, adult.target
train, test = adult.splits["train"][:3000], adult.splits["test"][:2000]
X_train, y_train, X_test, y_test = X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]
X_train.head()

# %%
# The probe
# ---------
# A small encoder (width 16, one layer) trained for 5 epochs keeps this example fast; the
# defaults are larger (:doc:`/user_guide/parameters`).
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import TJEPATransformer

tjepa = TJEPATransformer(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, max_epochs=5, device="cpu", random_state=0
)
probe = Pipeline(
    [("tjepa", tjepa), ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))]
)
probe.fit(X_train, y_train)
n_columns = probe[:-2].transform(X_test.iloc[:1]).shape[1]
print(f"embedding columns: {n_columns}")

# %%
# The embedding has one token per column plus one CLS token, each ``d_model`` wide: here
# (14 + 1) x 16 = 240 columns, which the logistic regression reads after standardisation.
#
# Two controls
# ------------
# A probe score means little alone. The same probe on an **untrained** encoder
# (``max_epochs=0``: same architecture, random weights) shows what pretraining added, and the
# same logistic regression on the one-hot encoded raw features shows what the encoder added.
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder

untrained = clone(probe).set_params(tjepa__max_epochs=0).fit(X_train, y_train)
raw = Pipeline(
    [
        (
            "encode",
            make_column_transformer(
                (OneHotEncoder(handle_unknown="ignore"), adult.categorical_features),
                remainder=StandardScaler(),
            ),
        ),
        ("clf", LogisticRegression(max_iter=2000)),
    ]
)
raw.fit(X_train, y_train);

# %%
# What the numbers mean
# ---------------------
# Each score is the test accuracy: the share of the 2,000 test rows whose income class
# (above 50K or not) the pipeline predicts correctly. Two reference points read it:
#
# - about three rows in four earn at most 50K, so always answering "<=50K" already scores the
#   share of that class;
# - with ``n`` test rows the standard error of an accuracy ``p`` is ``sqrt(p (1 - p) / n)``, at
#   most 0.011 for 2,000 rows: differences of one or two hundredths between pipelines on this
#   one split and one seed are within noise. :doc:`/pretraining` has comparisons over seeds on
#   the full table.
import numpy as np

scores = {
    "raw one-hot features": raw.score(X_test, y_test),
    "untrained encoder": untrained.score(X_test, y_test),
    "T-JEPA pretrained": probe.score(X_test, y_test),
}
majority = max(y_test.mean(), 1 - y_test.mean())
n_test = len(y_test)
for name, accuracy in scores.items():
    error = np.sqrt(accuracy * (1 - accuracy) / n_test)
    print(f"{name:>21}: test accuracy {accuracy:.4f} (standard error {error:.4f})")
print(f"{'always <=50K':>21}: test accuracy {majority:.4f}")

# %%
# The same figures as bars, which start at 0 so that their lengths compare; the error bars are
# one standard error, the dashed line is the majority class.
import matplotlib.pyplot as plt

accuracies = np.array(list(scores.values()))
fig, ax = plt.subplots(figsize=(6, 2.8), layout="constrained")
ax.barh(list(scores), accuracies, xerr=np.sqrt(accuracies * (1 - accuracies) / n_test), capsize=4)
ax.axvline(majority, color="black", linestyle="--", label="always <=50K")
ax.set_xlim(0, 1)
ax.set_xlabel(f"test accuracy (fraction correct of {n_test} rows, one seed)")
ax.invert_yaxis()
ax.legend(loc="lower right");

# %%
# The training loss
# -----------------
# ``history_`` holds one record per epoch. The loss is the mean squared error between the
# predicted and the target tokens, each target standardised per feature and dimension across the
# batch (``target_norm="batch"``): predicting the batch mean scores about 1, so a loss below 1
# means that the visible features predict the row-specific part of the hidden ones.
for record in probe.named_steps["tjepa"].history_:
    print(f"epoch {record['epoch']}: loss {record['loss']:.3f}")
