"""Readers on the real dataset files, clear errors on bad data, split + scaling, schema."""

from __future__ import annotations

import copy
import io
import pickle
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bayesprune.config import SCHEMA_DIR
from bayesprune.data.download import fetch_dataset
from bayesprune.data.entry import DEFAULTS, FILE_ROLES, resolve_entry
from bayesprune.data.errors import DataError
from bayesprune.data.raw import RawDataset
from bayesprune.data.reader_sklearn import SKLEARN_DATASETS
from bayesprune.data.readers import READERS, read_dataset
from bayesprune.data.splits import load_split, prepare_split, save_split

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

PART_A_ROWS = {
    "lazer": (498, 4),
    "sunspot": (1631, 4),
    "abalone": (4177, 8),
    "abalone_class": (4177, 8),
    "iris": (150, 4),
    "ionosphere": (351, 34),
    "reef310": (1586, 3),
    "reef325": (3852, 3),
}
N_CLASSES = {"abalone_class": 4, "iris": 3, "ionosphere": 2, "reef310": 6, "reef325": 6}

SPLIT_KEYS = {
    "dataset",
    "task",
    "n_features",
    "n_outputs",
    "feature_names",
    "class_names",
    "n_train",
    "n_test",
    "feature_scaler",
    "target_scaler",
    "source_sha256",
    "split_seed",
}


def _entry(paper_config: dict[str, Any], name: str) -> dict[str, Any]:
    return copy.deepcopy(paper_config["datasets"][name])


def _mirror_files(entry: dict[str, Any], datasets_dir: Path) -> dict[str, Path]:
    return {r: datasets_dir / s["path"] for r, s in entry["source"]["files"].items()}


@pytest.fixture(scope="module")
def raw_part_a(paper_config: dict[str, Any], data_zip: Path) -> dict[str, RawDataset]:
    return {
        name: read_dataset(name, _entry(paper_config, name), {"data": data_zip})
        for name in PART_A_ROWS
    }


# ------------------------------------------------------------------------- real files


@pytest.mark.parametrize("name", sorted(PART_A_ROWS))
def test_part_a_readers_on_real_files(
    name: str, raw_part_a: dict[str, RawDataset], data_zip: Path
) -> None:
    raw = raw_part_a[name]
    assert raw.X.shape == PART_A_ROWS[name]
    assert raw.X.dtype == np.float32 and np.isfinite(raw.X).all()
    assert raw.y.shape == (raw.X.shape[0],)
    assert len(raw.feature_names) == raw.X.shape[1]
    assert set(raw.source_sha256) == {"data"}
    if name in N_CLASSES:
        assert raw.task == "classification" and raw.y.dtype == np.int64
        assert len(raw.class_names) == N_CLASSES[name]
        assert set(np.unique(raw.y)) == set(range(N_CLASSES[name]))
    else:
        assert raw.task == "regression" and np.isfinite(raw.y).all()


def test_real_file_details(raw_part_a: dict[str, RawDataset], data_zip: Path) -> None:
    # Lazer windows reproduce the authors' Lazer_processed.csv row for row.
    with zipfile.ZipFile(data_zip) as zf:
        text = zf.read("data/Lazer/Lazer_processed.csv").decode()
    processed = np.array([[float(v) for v in line.split(",")] for line in text.split()])
    lazer = raw_part_a["lazer"]
    np.testing.assert_array_equal(lazer.X, processed[:, :4])
    np.testing.assert_array_equal(lazer.y, processed[:, 4])
    # Abalone: sex coded M=1, F=2, I=3; rings 1..29; classes by bins.
    ab = raw_part_a["abalone"]
    assert ab.feature_names[0] == "sex" and set(np.unique(ab.X[:, 0])) == {1.0, 2.0, 3.0}
    assert ab.y.min() == 1 and ab.y.max() == 29
    np.testing.assert_array_equal(np.bincount(raw_part_a["abalone_class"].y), [448, 3239, 454, 36])
    # Iris classes 1..3 -> 0..2, 50 each; ionosphere b -> 0, g -> 1.
    assert raw_part_a["iris"].class_names == ["1", "2", "3"]
    np.testing.assert_array_equal(np.bincount(raw_part_a["iris"].y), [50, 50, 50])
    assert raw_part_a["ionosphere"].class_names == ["b", "g"]
    np.testing.assert_array_equal(np.bincount(raw_part_a["ionosphere"].y), [126, 225])
    # Reef files (CR-only line endings): named columns, 6 species.
    r310 = raw_part_a["reef310"]
    assert r310.feature_names == ["Bulk", "Porosity", "Resistivity"]
    assert r310.class_names == ["CorAlg", "EncrCoral", "MassCoral", "Microbialite", "Sand", "Silt"]
    np.testing.assert_allclose(r310.X[0], [2.46, 12, 0.74], rtol=1e-6)
    np.testing.assert_array_equal(
        np.bincount(raw_part_a["reef325"].y), [305, 112, 680, 463, 2004, 288]
    )


def test_idx_reader_on_real_mnist_test_set(
    paper_config: dict[str, Any], shared_datasets: Path, mnist_dir: Path
) -> None:
    entry = _entry(paper_config, "mnist_test")
    raw = read_dataset("mnist_test", entry, _mirror_files(entry, shared_datasets))
    assert raw.X.shape == (10000, 1, 28, 28) and raw.X.dtype == np.float32
    assert raw.X.min() == 0.0 and raw.X.max() == 1.0
    assert raw.y.dtype == np.int64 and set(np.unique(raw.y)) == set(range(10))
    assert raw.X_test is None  # test files only: split by test_fraction
    assert raw.source_sha256["test_images"] == entry["source"]["files"]["test_images"]["sha256"]
    arrays, meta = prepare_split("mnist_test", entry, raw, 0)
    assert (meta["n_train"], meta["n_test"]) == (8000, 2000)
    assert meta["n_features"] == [1, 28, 28] and meta["n_outputs"] == 10
    assert arrays["X_train"].shape == (8000, 1, 28, 28)
    assert 0.0 <= arrays["X_test"].min() and arrays["X_test"].max() <= 1.0
    # Stratified: class proportions agree to within one image per class.
    train_frac = np.bincount(arrays["y_train"], minlength=10) / 8000
    test_frac = np.bincount(arrays["y_test"], minlength=10) / 2000
    np.testing.assert_allclose(train_frac, test_frac, atol=1e-3)


def test_idx_reader_given_test_set_and_bad_magic(mnist_dir: Path, tmp_path: Path) -> None:
    images, labels = (
        mnist_dir / "t10k-images-idx3-ubyte.gz",
        mnist_dir / "t10k-labels-idx1-ubyte.gz",
    )
    files = {
        "train_images": images,
        "train_labels": labels,
        "test_images": images,
        "test_labels": labels,
    }
    entry = {
        "task": "classification",
        "source": {"kind": "local", "files": {r: {"path": str(p)} for r, p in files.items()}},
        "reader": {"kind": "idx"},
        "preprocessing": {"features": "none"},
    }
    raw = read_dataset("twice", entry, files)
    assert raw.X_test is not None and raw.X_test.shape == (10000, 1, 28, 28)
    arrays, meta = prepare_split("twice", entry, raw, 0)
    assert (meta["n_train"], meta["n_test"]) == (10000, 10000)  # the given test set is used
    swapped = {**files, "train_images": labels}
    with pytest.raises(DataError, match=r"swapped.*train_images.*magic"):
        read_dataset("swapped", entry, swapped)
    truncated = tmp_path / "short.idx"
    truncated.write_bytes(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(DataError, match="truncated"):
        read_dataset("short", entry, {**files, "train_labels": truncated})


def _cifar_tarball(path: Path, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Write a small tarball in the real CIFAR-10 python format; return all images/labels."""
    rng = np.random.default_rng(0)
    all_x, all_y = [], []
    with tarfile.open(path, "w:gz") as tf:

        def add(name: str, obj: Any) -> None:
            blob = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))

        for b in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
            x = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
            y = [int(v) for v in rng.integers(0, 10, size=n)]
            if b == "data_batch_1":
                y[:2] = [0, 1]  # at least two classes
            add(b, {b"batch_label": b.encode(), b"labels": y, b"data": x, b"filenames": [b"a"] * n})
            all_x.append(x)
            all_y.append(y)
        names = [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ]
        add("batches.meta", {b"label_names": [s.encode() for s in names], b"num_vis": 3072})
    return np.concatenate(all_x), np.concatenate(all_y)


def test_cifar_reader_on_small_real_format_tarball(tmp_path: Path) -> None:
    tarball = tmp_path / "cifar-10-python.tar.gz"
    xs, ys = _cifar_tarball(tarball)
    entry = {
        "task": "classification",
        "source": {"kind": "local", "files": {"archive": {"path": str(tarball)}}},
        "reader": {"kind": "cifar"},
        "preprocessing": {"features": "none"},
    }
    raw = read_dataset("cifar_small", entry, {"archive": tarball})
    assert raw.X.shape == (20, 3, 32, 32) and raw.X_test is not None
    assert raw.X_test.shape == (4, 3, 32, 32)
    # Row layout: 1024 red, then green, then blue values, each row-major 32x32.
    np.testing.assert_allclose(raw.X[0, 0].ravel(), xs[0, :1024] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(raw.X[0, 2, 0, 5], xs[0, 2048 + 5] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(raw.y, ys[:20])
    np.testing.assert_array_equal(raw.y_test, ys[20:])
    assert raw.class_names[0] == "airplane" and raw.feature_names == ["red", "green", "blue"]
    arrays, meta = prepare_split("cifar_small", entry, raw, 0)
    assert meta["n_features"] == [3, 32, 32] and (meta["n_train"], meta["n_test"]) == (20, 4)
    # Standard scaling of images is per channel.
    entry["preprocessing"]["features"] = "standard"
    arrays, meta = prepare_split("cifar_small", entry, raw, 0)
    assert len(meta["feature_scaler"]["center"]) == 3
    np.testing.assert_allclose(arrays["X_train"].mean(axis=(0, 2, 3)), 0, atol=1e-5)


def test_cifar_reader_rejects_code_in_pickles(tmp_path: Path) -> None:
    tarball = tmp_path / "evil.tar.gz"
    with tarfile.open(tarball, "w:gz") as tf:
        for b in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
            blob = pickle.dumps({"data": Path("x"), "labels": []})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{b}")
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    entry = {
        "task": "classification",
        "source": {"kind": "local", "files": {"archive": {"path": str(tarball)}}},
        "reader": {"kind": "cifar"},
    }
    with pytest.raises(DataError, match="refusing"):
        read_dataset("evil", entry, {"archive": tarball})


def test_sklearn_readers() -> None:
    for name, shape in {"iris": (150, 4), "wine": (178, 13), "breast_cancer": (569, 30)}.items():
        raw = read_dataset(
            name, {"task": "classification", "source": {"kind": "sklearn", "name": name}}, {}
        )
        assert raw.X.shape == shape and raw.X.dtype == np.float32
    diabetes = read_dataset(
        "d", {"task": "regression", "source": {"kind": "sklearn", "name": "diabetes"}}, {}
    )
    assert diabetes.X.shape == (442, 10) and diabetes.task == "regression"
    digits = {
        "task": "classification",
        "source": {"kind": "sklearn", "name": "digits"},
        "reader": {"images": True},
    }
    raw = read_dataset("digits", digits, {})
    assert raw.X.shape == (1797, 1, 8, 8) and raw.X.min() == 0.0 and raw.X.max() == 1.0
    with pytest.raises(DataError, match="regression"):
        read_dataset(
            "d", {"task": "classification", "source": {"kind": "sklearn", "name": "diabetes"}}, {}
        )


# ------------------------------------------------------------------------- bad data


def _csv_entry(path: Path, task: str = "classification", **reader: Any) -> dict[str, Any]:
    return {
        "task": task,
        "source": {"kind": "local", "files": {"data": {"path": str(path)}}},
        "reader": {"kind": "csv", "target": -1, **reader},
    }


BAD_FILES = {
    "nan": ("1,2,a\n3,nan,b\n", {}, "missing value 'nan' in column 'col1' at line 2"),
    "blank_cell": ("1,2,a\n3,,b\n", {}, "missing value '' in column 'col1' at line 2"),
    "non_numeric": ("1,2,a\n3,x7,b\n", {}, "non-numeric value 'x7' in column 'col1' at line 2"),
    "single_class": ("1,2,a\n3,4,a\n", {}, "only one class"),
    "empty": ("", {}, "empty"),
    "blank_lines_only": ("\r\n\r\n", {}, "empty"),
    "header_only": ("p,q,c\n", {"header": True}, "empty"),
    "missing_target": (
        "p,q,c\n1,2,a\n3,4,b\n",
        {"header": True, "target": "label"},
        "'label' not found",
    ),
    "missing_feature": ("1,2,a\n3,4,b\n", {"features": [0, 7]}, "out of range"),
    "ragged": ("1,2,a\n3,b\n", {}, "line 2 has 2 cells, expected 3"),
    "unknown_label": (
        "1,2,a\n3,4,b\n5,6,c\n",
        {"label_map": {"a": 0, "b": 1}},
        "label 'c' at line 3 is not in reader.label_map",
    ),
    "outside_bins": (
        "1,2,3\n3,4,9\n5,6,30\n",
        {"class_bins": [[1, 5], [6, 10]]},
        "'30' at line 3 lies outside",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_data_gives_clear_error(case: str, tmp_path: Path) -> None:
    text, reader, expected = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_dataset(f"ds_{case}", _csv_entry(path, **reader), {"data": path})
    msg = str(info.value)
    assert f"ds_{case}" in msg and path.name in msg and expected in msg, msg


def test_bad_regression_target_and_zip_member(data_zip: Path, tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text("1;2;3.5\n2;3;?\n")
    with pytest.raises(DataError, match=r"reg\.csv: missing value '\?' in column 'col2' at line 2"):
        read_dataset("reg", _csv_entry(path, "regression", delimiter=";"), {"data": path})
    entry = _csv_entry(data_zip)
    entry["source"]["files"]["data"]["member"] = "data/nope.csv"
    with pytest.raises(DataError, match="no member 'data/nope.csv'"):
        read_dataset("zipped", entry, {"data": data_zip})


def test_cr_only_line_endings_and_header(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b"a,b,Species\r1,2,x\r3,4,y\r5,6,x")
    raw = read_dataset("cr", _csv_entry(path, header=True, target="Species"), {"data": path})
    assert (
        raw.X.shape == (3, 2) and raw.feature_names == ["a", "b"] and raw.class_names == ["x", "y"]
    )


# ------------------------------------------------------------------------- split + scaling


def _toy(n: int = 200, task: str = "classification") -> RawDataset:
    rng = np.random.default_rng(3)
    X = rng.normal(5.0, 3.0, size=(n, 3)).astype(np.float32)
    X[:, 2] = 7.0  # a constant column
    if task == "classification":
        y = np.r_[np.zeros(n - n // 5, dtype=np.int64), np.ones(n // 5, dtype=np.int64)]
        return RawDataset("toy", task, X, y, ["a", "b", "c"], ["neg", "pos"])
    y = rng.uniform(10, 20, size=n)
    return RawDataset("toy", task, X, y, ["a", "b", "c"], [])


def _toy_entry(task: str = "classification", **split: Any) -> dict[str, Any]:
    return {
        "task": task,
        "source": {"kind": "sklearn", "name": "iris"},
        "split": {"test_fraction": 0.4, "seed": 5, "replicates": 3, **split},
        "preprocessing": {"features": "standard", "target": "minmax"},
    }


def test_scalers_fitted_on_training_rows_only() -> None:
    raw = _toy(task="regression")
    arrays, meta = prepare_split("toy", _toy_entry("regression"), raw, 0)
    assert set(meta) == SPLIT_KEYS
    Xtr, Xte = arrays["X_train"], arrays["X_test"]
    assert Xtr.dtype == np.float32 and arrays["y_train"].dtype == np.float32
    np.testing.assert_allclose(Xtr[:, :2].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Xtr[:, :2].std(axis=0), 1, atol=1e-5)
    assert np.abs(Xte[:, :2].mean(axis=0)).max() > 1e-3  # the test rows did not shape the scaler
    fs = meta["feature_scaler"]
    assert fs["kind"] == "standard" and fs["scale"][2] == 1.0  # constant column: shift only
    # original = scaled * scale + center, recovering exactly the raw training rows
    orig = Xtr * np.array(fs["scale"]) + np.array(fs["center"])
    rows = {tuple(np.round(r, 4)) for r in raw.X.astype(np.float64)}
    assert all(tuple(np.round(r, 4)) in rows for r in orig)
    ts = meta["target_scaler"]
    assert ts["kind"] == "minmax"
    assert arrays["y_train"].min() == 0.0 and arrays["y_train"].max() == 1.0
    y_back = arrays["y_train"].astype(np.float64) * ts["scale"][0] + ts["center"][0]
    assert y_back.min() == pytest.approx(ts["center"][0], rel=1e-6)
    assert set(np.round(y_back, 3)) <= set(np.round(raw.y, 3))
    assert meta["n_outputs"] == 1 and meta["n_features"] == 3 and meta["class_names"] == []
    assert (meta["n_train"], meta["n_test"]) == (120, 80)


def test_split_is_seeded_and_stratified() -> None:
    raw = _toy()
    entry = _toy_entry()
    a0, m0 = prepare_split("toy", entry, raw, 0)
    a0b, _ = prepare_split("toy", entry, raw, 0)
    a1, m1 = prepare_split("toy", entry, raw, 1)
    for k in a0:
        np.testing.assert_array_equal(a0[k], a0b[k])  # deterministic
        np.testing.assert_array_equal(a0[k], a1[k])  # reshuffle false: replicates share a split
    assert m0["split_seed"] == m1["split_seed"] == 5
    assert np.bincount(a0["y_train"]).tolist() == [96, 24]  # 20% positives in both parts
    assert np.bincount(a0["y_test"]).tolist() == [64, 16]
    assert a0["y_train"].dtype == np.int64 and m0["n_outputs"] == 2
    assert m0["target_scaler"]["kind"] == "none"
    entry = _toy_entry(reshuffle=True)
    r1, m1 = prepare_split("toy", entry, raw, 1)
    r2, m2 = prepare_split("toy", entry, raw, 2)
    assert (m1["split_seed"], m2["split_seed"]) == (6, 7)
    assert not np.array_equal(r1["X_test"], r2["X_test"])
    with pytest.raises(DataError, match="replicate must be >= 0"):
        prepare_split("toy", entry, raw, -1)


def test_minmax_features_and_unsplittable_classes() -> None:
    raw = _toy()
    entry = _toy_entry()
    entry["preprocessing"]["features"] = "minmax"
    arrays, meta = prepare_split("toy", entry, raw, 0)
    assert arrays["X_train"][:, :2].min() == 0.0 and arrays["X_train"][
        :, :2
    ].max() == pytest.approx(1.0)
    raw.y[:] = 0
    raw.y[0] = 1  # a class with one member cannot be stratified
    with pytest.raises(DataError, match="stratify"):
        prepare_split("toy", _toy_entry(), raw, 0)


def test_save_and_load_split(tmp_path: Path) -> None:
    arrays, meta = prepare_split("toy", _toy_entry(), _toy(), 0)
    npz, js = tmp_path / "toy" / "rep0.npz", tmp_path / "toy" / "rep0.json"
    save_split(npz, js, arrays, meta)
    back, meta_back = load_split(npz, js)
    assert meta_back == meta
    for k in arrays:
        np.testing.assert_array_equal(back[k], arrays[k])
        assert back[k].dtype == arrays[k].dtype
    assert sorted(p.name for p in (tmp_path / "toy").iterdir()) == ["rep0.json", "rep0.npz"]


def test_paper_datasets_end_to_end(
    paper_config: dict[str, Any], shared_datasets: Path, tmp_path: Path
) -> None:
    """Mirror -> raw -> read -> split for every part-A dataset, as the workflow runs it."""
    raw_dir = tmp_path / "raw"
    for name in PART_A_ROWS:
        entry = _entry(paper_config, name)
        files = fetch_dataset(name, entry, raw_dir, mirror=shared_datasets, retries=0)
        assert files == {"data": raw_dir / entry["source"]["files"]["data"]["path"]}
        raw = read_dataset(name, entry, files)
        arrays, meta = prepare_split(name, entry, raw, entry["split"]["replicates"] - 1)
        n = PART_A_ROWS[name][0]
        assert meta["n_test"] == round(0.4 * n) or meta["n_test"] == int(np.ceil(0.4 * n))
        assert meta["n_train"] + meta["n_test"] == n
        assert meta["source_sha256"] == {"data": entry["source"]["files"]["data"]["sha256"]}
        if name in ("abalone", "lazer", "sunspot"):
            assert meta["target_scaler"]["kind"] == "minmax"
            assert arrays["y_train"].min() == 0.0 and arrays["y_train"].max() == 1.0
    assert sorted(p.name for p in raw_dir.iterdir()) == ["bayes_prun_data.zip"]


# ------------------------------------------------------------------------- schema + config


def _schema_validator() -> jsonschema.protocols.Validator:
    contents = yaml.safe_load((SCHEMA_DIR / "dataset.schema.yaml").read_text())
    resource = Resource.from_contents(contents, default_specification=DRAFT202012)
    registry = Registry().with_resource("dataset.schema.yaml", resource)
    jsonschema.Draft202012Validator.check_schema(contents)
    return jsonschema.Draft202012Validator(contents, registry=registry)


def _schema_defaults(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v["default"] for k, v in node["properties"].items() if "default" in v}


def test_schema_defaults_match_package_defaults() -> None:
    schema = yaml.safe_load((SCHEMA_DIR / "dataset.schema.yaml").read_text())
    defs = schema["$defs"]
    for section in ("reader", "preprocessing", "split", "network"):
        assert _schema_defaults(defs[section]) == DEFAULTS[section], section
    assert schema["$defs"]["source"]["properties"]["name"]["enum"] == list(SKLEARN_DATASETS)
    roles = schema["$defs"]["source"]["properties"]["files"]["propertyNames"]["enum"]
    assert roles == list(FILE_ROLES)
    # every reader.kind the schema allows has its reader, and no reader is unreachable
    assert set(defs["reader"]["properties"]["kind"]["enum"]) == set(READERS)


def test_configs_validate_against_dataset_schema(
    paper_config: dict[str, Any], default_config: dict[str, Any]
) -> None:
    validator = _schema_validator()
    for cfg in (paper_config, default_config):
        for name, entry in cfg["datasets"].items():
            errors = [e.message for e in validator.iter_errors(entry)]
            assert not errors, (name, errors)
            resolve_entry(name, entry)
    assert set(PART_A_ROWS) | {"mnist", "fashion_mnist", "cifar10", "mnist_test"} == set(
        paper_config["datasets"]
    )
    assert paper_config["mirror"] == "../shared/datasets"


def test_schema_rejects_bad_entries(paper_config: dict[str, Any]) -> None:
    validator = _schema_validator()
    good = _entry(paper_config, "iris")
    no_sha = copy.deepcopy(good)
    del no_sha["source"]["files"]["data"]["sha256"]
    extra = copy.deepcopy(good)
    extra["reader"]["delimeter"] = ";"
    bad_role = copy.deepcopy(good)
    bad_role["source"]["files"]["csv"] = bad_role["source"]["files"].pop("data")
    sk_no_name = {"task": "classification", "source": {"kind": "sklearn"}}
    bad_enum = copy.deepcopy(good)
    bad_enum["network"]["hidden_activation"] = "gelu"
    for bad in (no_sha, extra, bad_role, sk_no_name, bad_enum):
        assert list(validator.iter_errors(bad)), bad
    with pytest.raises(DataError, match="without a sha256"):
        resolve_entry("iris", no_sha)
