"""Compare `pruning.unit: chain` with `pruning.unit: replicate` from two runs' pruning tables.

Usage (each results folder from a run of the same config, one per unit):

    .venv/bin/python benchmarks/pruning_unit.py CHAIN_RESULTS REPLICATE_RESULTS

Prints, per dataset, criterion and rate, the mean over runs of the pruned and resampled
network's train and test error at the masked posterior mean (point) and of the posterior
predictive, for both units side by side (Markdown). The choice between units is made on the
training columns; the test columns are reported, never used to choose.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def _error_columns(table: pd.DataFrame) -> list[str]:
    regression = "point_rmse_test" in table and table["point_rmse_test"].notna().any()
    metric = "rmse" if regression else "acc"
    return [
        f"{est}_{metric}_{part}" for est in ("point", "predictive") for part in ("train", "test")
    ]


def summary(results: Path) -> pd.DataFrame:
    table = pd.read_csv(results / "tables" / "pruning.csv")
    frames = []
    for dataset, sub in table.groupby("dataset", sort=False):
        cols = _error_columns(sub)
        sub = sub[sub["stage"] != "full"]
        agg = sub.groupby(["criterion", "rate", "stage"], sort=True)[cols].mean().reset_index()
        agg.columns = [c.replace("_rmse", "").replace("_acc", "") for c in agg.columns]
        frames.append(agg.assign(dataset=dataset, metric=cols[0].split("_")[1]))
    return pd.concat(frames, ignore_index=True)


def main(chain_dir: str, replicate_dir: str) -> None:
    a = summary(Path(chain_dir)).set_index(["dataset", "metric", "criterion", "rate", "stage"])
    b = summary(Path(replicate_dir)).set_index(["dataset", "metric", "criterion", "rate", "stage"])
    both = a.join(b, lsuffix=" chain", rsuffix=" replicate").reset_index()
    cols = list(both.columns)
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for row in both.itertuples(index=False):
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")
    train = [c for c in cols if "_train" in c]
    print()
    for dataset, sub in both.groupby("dataset", sort=False):
        sign = -1.0 if sub["metric"].iloc[0] == "acc" else 1.0  # lower is better after the sign
        for est in ("point", "predictive"):
            c, r = f"{est}_train chain", f"{est}_train replicate"
            if c in train and r in train:
                better = (sign * sub[c] < sign * sub[r]).mean()
                print(
                    f"{dataset} {est}: chain better on training data in "
                    f"{100 * better:.0f}% of (criterion, rate, stage) cells"
                )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
