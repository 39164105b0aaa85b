"""
A linear probe on T-JEPA embeddings
===================================

The usual way to judge self-supervised embeddings: pretrain :class:`~sklearn_tjepa.TJEPATransformer`
on the rows (it ignores the labels), then train a linear model on the frozen embeddings. Everything
is one scikit-learn ``Pipeline``, compared here with the same logistic regression on one-hot
encoded raw features.
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
print(f"T-JEPA + logistic regression, test accuracy: {probe.score(X_test, y_test):.4f}")
print(f"embedding columns: {probe[:-2].transform(X_test.iloc[:1]).shape[1]}")

# %%
# The same probe on raw features
# ------------------------------
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder

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
raw.fit(X_train, y_train)
print(f"raw one-hot features + logistic regression, test accuracy: {raw.score(X_test, y_test):.4f}")

# %%
# The loss of each epoch is in the transformer's ``history_``:
for record in probe.named_steps["tjepa"].history_:
    print(f"epoch {record['epoch']}: loss {record['loss']:.3f}")
