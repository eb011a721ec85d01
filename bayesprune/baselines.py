"""Reference models that method A's classification results are compared against."""

from __future__ import annotations

import numpy as np


def random_forest_probs(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, n_classes: int, seed: int
) -> np.ndarray:
    """Test-set class probabilities ``(N, n_classes)`` of a seeded random forest (50 trees, depth 10)."""
    from sklearn.ensemble import RandomForestClassifier

    x_tr = np.asarray(X_train).reshape(len(X_train), -1)
    x_te = np.asarray(X_test).reshape(len(X_test), -1)
    rf = RandomForestClassifier(n_estimators=50, max_depth=10, random_state=seed, n_jobs=1)
    rf.fit(x_tr, np.asarray(y_train, dtype=np.int64))
    probs = np.zeros((x_te.shape[0], n_classes))
    probs[:, rf.classes_.astype(np.int64)] = rf.predict_proba(x_te)
    return probs
