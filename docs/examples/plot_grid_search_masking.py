"""
Tuning the masks with GridSearchCV
==================================

The masking parameters decide how hard the pretext task is: each row's context set holds between
``mask_min_context_share`` and ``mask_max_context_share`` of its features, and each of its
``n_target_sets`` target sets between ``mask_min_target_share`` and ``mask_max_target_share``.
Inside a ``Pipeline`` they are ordinary hyper-parameters (``tjepa__<name>``), so
:class:`~sklearn.model_selection.GridSearchCV` tunes them on the downstream score, here a linear
probe's accuracy.
"""

# %%
# Data and pipeline
# -----------------
# 1,500 rows of Adult, a small encoder and three short pretraining epochs per fit keep the search
# short; a real search uses more rows and epochs (:doc:`/user_guide/parameters`).
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_tjepa import TJEPATransformer, load_benchmark

adult = load_benchmark("adult")
train, test = adult.splits["train"][:1500], adult.splits["test"][:1000]
X_train, y_train = adult.frame.iloc[train], adult.target.iloc[train]
X_test, y_test = adult.frame.iloc[test], adult.target.iloc[test]

tjepa = TJEPATransformer(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, predictor_d_model=16, predictor_n_layers=1,
    max_epochs=3, batch_size=64, warmup_epochs=0.5, device="cpu", random_state=0,
)
probe = Pipeline(
    [("tjepa", tjepa), ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))]
)

# %%
# The search
# ----------
# Two context sizes times two target sizes, each scored by 2-fold cross-validation. Every
# candidate pretrains its own clone of the transformer, so the search costs
# ``candidates x folds + 1`` pretrainings (9 here).
from sklearn.model_selection import GridSearchCV

grid = {
    "tjepa__mask_max_context_share": [0.3, 0.6],
    "tjepa__mask_max_target_share": [0.3, 0.6],
}
search = GridSearchCV(probe, grid, cv=2)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated accuracy: {search.best_score_:.4f}")
print(f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.4f}")

# %%
# The scores of the grid
# ----------------------
# ``cv_results_`` holds every candidate's fold scores. At this budget (a few dozen optimiser steps
# on 750 rows) the probe's accuracy barely depends on the masks: the differences are within the
# spread of the folds, and the search only shows how to tune them. Tune them on your own table
# with more rows and epochs than here. The bars start at 0 so that their lengths compare; the
# error bars are the standard deviation over the 2 folds.
import matplotlib.pyplot as plt
import pandas as pd

results = pd.DataFrame(search.cv_results_)
columns = ["param_tjepa__mask_max_context_share", "param_tjepa__mask_max_target_share",
           "mean_test_score", "std_test_score", "mean_fit_time"]
print(results[columns].to_string(index=False))

labels = [f"context {c}\ntarget {t}" for c, t in zip(results[columns[0]], results[columns[1]])]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(labels, results["mean_test_score"], yerr=results["std_test_score"], capsize=4)
ax.set_ylim(0, 1)
ax.set_xlabel("maximum share of the features in the context and in each target set")
ax.set_ylabel("accuracy (fraction correct),\nmean ± std over 2 folds")
ax.set_title("Linear-probe accuracy per maximum mask share")
fig.tight_layout();
