"""Issue 18: bad input and faults end in a clear error, never a wrong result, a traceback or a
file left behind. One test (or a few) per case of the issue, each making its bad file or config.

Cases: (1) values beyond float32; (2) non-UTF-8 bytes; (3) a corrupt MCMC checkpoint; (4) a url
path that climbs out of data/raw; (5) unreadable files (a zip with a bad CRC, a truncated
posterior.nc, a garbled metrics.json); (6) temp files of killed writers; (7) samplers keeping
too few draws; (8) a chain that never moves, an sklearn set with the wrong task, duplicated
column names, download requests on deterministic failures, the dataset in download errors.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from smk import ROOT, snakemake, tiny_args

from bayesprune.config import ConfigError, validate_config
from bayesprune.data.download import fetch
from bayesprune.data.entry import resolve_entry
from bayesprune.data.errors import DataError, DataFormatError
from bayesprune.data.raw import RawDataset
from bayesprune.data.readers import read_dataset
from bayesprune.data.splits import prepare_split
from bayesprune.io import (
    UnreadableFileError,
    atomic_path,
    load_npz,
    read_json,
    read_output,
    remove_stale_temps,
)
from bayesprune.likelihoods import MLPPosterior, PriorSettings
from bayesprune.mcmc import kernel as mh
from bayesprune.mcmc import runner, streams, trace
from bayesprune.mcmc.settings import SamplerSettings
from bayesprune.networks import MLPSpec
from bayesprune.posterior import load_posterior
from bayesprune.sampling import StuckChainsError, sample_network

PYTHON = sys.executable


def _tiny() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "tests/configs/tiny.yaml").read_text())


def _csv_entry(path: Path, task: str = "classification", **reader: Any) -> dict[str, Any]:
    return {
        "task": task,
        "source": {"kind": "local", "files": {"data": {"path": str(path)}}},
        "reader": {"kind": "csv", "target": -1, **reader},
    }


def _config_error(cfg: dict[str, Any], *names: str) -> str:
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    message = str(err.value)
    for name in names:
        assert name in message, message
    return message


def _killed_temp(dest: Path, size: int = 4096) -> Path:
    """Start an atomic write of ``dest`` in a child process and kill -9 it mid-write."""
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from bayesprune.io import atomic_path\n"
        "with atomic_path(Path(sys.argv[1])) as tmp:\n"
        "    tmp.write_bytes(b'x' * int(sys.argv[2]))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([PYTHON, "-c", code, str(dest), str(size)], cwd=ROOT, check=False)
    assert proc.returncode == -signal.SIGKILL
    temps = list(dest.parent.glob(f".{dest.name}.*.tmp"))
    assert len(temps) == 1 and temps[0].stat().st_size == size and not dest.exists()
    return temps[0]


# ------------------------------------------------------------------ (1) beyond float32


@pytest.mark.parametrize("value", ["1e39", "-1e300"])
def test_feature_beyond_float32_is_refused_with_line_and_column(tmp_path, value: str) -> None:
    path = tmp_path / "big.csv"
    path.write_text(f"1,2,a\n3,{value},b\n5,6,a\n")
    with pytest.raises(DataFormatError) as err:
        read_dataset("big", _csv_entry(path), {"data": path})
    msg = str(err.value)
    assert "'big'" in msg and "big.csv" in msg and "column 'col1' at line 2" in msg, msg
    assert "float32" in msg and "rescale" in msg


def test_regression_target_beyond_float32_is_refused(tmp_path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text("1,2,0.5\n3,4,1e39\n5,6,0.7\n")
    with pytest.raises(DataFormatError, match=r"'1e39' in column 'col2' at line 2"):
        read_dataset("reg", _csv_entry(path, "regression"), {"data": path})
    series = tmp_path / "series.csv"
    series.write_text("\n".join(["1.0"] * 8 + ["2e38", "3e38", "-4e38"]) + "\n")
    entry = _csv_entry(series, "regression", kind="series", window=3, stride=1)
    with pytest.raises(DataFormatError, match=r"'-4e38' in column 'col0' at line 11"):
        read_dataset("series", entry, {"data": series})


def test_split_whose_scaler_overflows_is_refused() -> None:
    # Values inside float64 but with a spread whose square overflows: the scaler would be
    # inf and the scaled targets 0 or NaN. The split checks every scaler and every cast.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)).astype(np.float32)
    y = np.where(np.arange(20) % 2 == 0, 1e300, -1e300)
    raw = RawDataset("huge", "regression", X, y, ["a", "b"], [])
    entry = {
        "task": "regression",
        "source": {"kind": "sklearn", "name": "diabetes"},
        "preprocessing": {"features": "standard", "target": "standard"},
    }
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(DataFormatError, match=r"'huge', replicate 0.*preprocessing.target"),
    ):
        prepare_split("huge", entry, raw, 0)
    entry["preprocessing"]["target"] = "none"  # the float32 cast itself overflows
    with pytest.raises(DataFormatError, match=r"y_train is not finite .* float32"):
        prepare_split("huge", entry, raw, 0)


# ------------------------------------------------------------------ (2) non-UTF-8 bytes


def test_latin1_bytes_are_an_error_not_a_merged_class(tmp_path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes("1,2,café\n3,4,cafè\n5,6,café\n7,8,cafè\n".encode("latin-1"))
    with pytest.raises(DataFormatError) as err:
        read_dataset("labels", _csv_entry(path), {"data": path})
    msg = str(err.value)
    assert "labels.csv" in msg and "line 1" in msg and "reader.encoding" in msg, msg
    # With the file's encoding named, the two labels stay two classes.
    raw = read_dataset("labels", _csv_entry(path, encoding="latin-1"), {"data": path})
    assert raw.class_names == ["cafè", "café"] and raw.y.tolist() == [1, 0, 1, 0]
    # UTF-8 (with or without a byte-order mark) reads as before.
    path.write_bytes("\ufeffp,q,c\n1,2,café\n3,4,cafè\n".encode())
    raw = read_dataset("labels", _csv_entry(path, header=True, target="c"), {"data": path})
    assert raw.feature_names == ["p", "q"] and raw.class_names == ["cafè", "café"]


def test_unknown_encoding_is_rejected_before_any_job() -> None:
    cfg = _tiny()
    cfg["datasets"]["iris"]["reader"]["encoding"] = "latin-99"
    _config_error(cfg, "datasets.iris", "reader.encoding", "latin-99")


# ------------------------------------------------------------------ (3) corrupt checkpoint


def _regression_posterior() -> MLPPosterior:
    rng = np.random.default_rng(17)
    X = rng.normal(size=(50, 3))
    y = np.tanh(X[:, 0]) + 0.1 * rng.normal(size=50)
    return MLPPosterior(MLPSpec((3, 4, 1)), X, y, "regression")


class _Kill(Exception):
    pass


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "garbage"])
def test_corrupt_checkpoint_is_replaced_and_the_run_is_exact(tmp_path, damage: str, caplog):
    post = _regression_posterior()
    x0 = streams.initial_positions(post, 3, seed=1)
    params = mh.kernel_params_for(post, 0.02, 0.1)
    kw = {"burn_in": 0.3, "thin": 3, "seed": 9}
    full = runner.run_chains(post, x0, params, 400, **kw)

    def killer(p: trace.Progress) -> None:
        if p.iteration == 290:
            raise _Kill

    ck = tmp_path / "full.pt"
    with pytest.raises(_Kill):
        runner.run_chains(
            post, x0, params, 400, checkpoint=ck, checkpoint_every=50,
            progress=killer, progress_every_s=0.0, **kw,
        )  # fmt: skip
    raw = ck.read_bytes()
    if damage == "truncate":
        ck.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip_byte":  # inside the stored draws: a bad CRC when read
        pos = raw.index(b"trace.position.npy") + 400
        ck.write_bytes(raw[:pos] + bytes([raw[pos] ^ 0xFF]) + raw[pos + 1 :])
    else:
        ck.write_bytes(b"PK\x03\x04 not really a zip")
    seen: list[int] = []
    with caplog.at_level(logging.WARNING):
        again = runner.run_chains(
            post, x0, params, 400, checkpoint=ck, checkpoint_every=50,
            progress=lambda p: seen.append(p.iteration), progress_every_s=0.0,
            logger=logging.getLogger("test"), **kw,
        )  # fmt: skip
    assert seen[0] == 1  # started over
    assert "ignoring unreadable checkpoint" in caplog.text and "another run" not in caplog.text
    for field in ("position", "logdensity", "loglik", "accepted", "kernel", "diverging"):
        np.testing.assert_array_equal(getattr(again, field), getattr(full, field))
    np.testing.assert_array_equal(again.acceptance_rate, full.acceptance_rate)
    # The next checkpoint written replaced the corrupt one: it resumes.
    resumed = runner.run_chains(post, x0, params, 400, checkpoint=ck, checkpoint_every=50, **kw)
    np.testing.assert_array_equal(resumed.position, full.position)


# ------------------------------------------------------------------ (4) path out of data/raw


@pytest.mark.parametrize("bad", ["../../../../x", "a/../../x", "/tmp/x", "C:\\x", "..\\x"])
def test_url_path_climbing_out_of_data_raw_is_rejected_by_the_config(bad: str) -> None:
    cfg = _tiny()
    cfg["datasets"]["iris"]["source"]["files"]["data"]["path"] = bad
    _config_error(cfg, "datasets.iris.source.files.data.path")
    entry = copy.deepcopy(cfg["datasets"]["iris"])
    with pytest.raises(DataError, match="must be relative and stay inside"):
        resolve_entry("iris", entry)


def test_url_path_climbing_out_stops_the_workflow_before_any_job(tmp_path) -> None:
    work = tmp_path / "a" / "b" / "c" / "work"
    work.mkdir(parents=True)
    cfg = _tiny()
    cfg["datasets"]["iris"]["source"]["files"]["data"]["path"] = "../../../../x"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    result = snakemake(work, "--configfile", str(bad))
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "datasets.iris.source.files.data.path" in out, out[-3000:]
    made = sorted(
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p.is_file() and ".snakemake" not in p.parts  # Snakemake's own run log
    )
    assert made == ["bad.yaml"], made  # no job log, no data, nothing outside the working folder
    assert "Traceback" not in out


# ------------------------------------------------------------------ (5) unreadable files


def test_zip_with_bad_crc_names_the_archive_and_the_remedy(tmp_path) -> None:
    archive = tmp_path / "data.zip"
    member = "data/t.csv"
    body = "".join(f"{i},{i % 3},{'ab'[i % 2]}\n" for i in range(200)).encode()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(member, body)
    raw = archive.read_bytes()
    pos = raw.index(body[:40]) + 100
    archive.write_bytes(raw[:pos] + b"9" + raw[pos + 1 :])  # same size, wrong CRC
    entry = _csv_entry(archive)
    entry["source"]["files"]["data"]["member"] = member
    with pytest.raises(DataFormatError) as err:
        read_dataset("zipped", entry, {"data": archive})
    msg = str(err.value)
    assert "'zipped'" in msg and "data.zip::data/t.csv" in msg and "corrupt" in msg, msg
    assert f"Delete {archive}" in msg


def test_unreadable_posterior_and_json_name_the_file_and_the_remedy(tmp_path) -> None:
    from bayesprune import posterior as pst

    post = _regression_posterior()
    x0 = streams.initial_positions(post, 2, seed=1)
    res = runner.run_chains(post, x0, mh.kernel_params_for(post, 0.02, 0.1), 40, seed=3)
    path = tmp_path / "posterior.nc"
    pst.save_posterior(path, pst.build_inference_data(res, post.spec, "regression"))
    assert load_posterior(path).posterior["theta"].shape[:2] == (2, 20)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UnreadableFileError) as err:
        load_posterior(path)
    msg = str(err.value)
    assert str(path) in msg and "posterior" in msg and "Delete it and run the workflow" in msg
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"point": {"rmse_test": 0.3')
    with pytest.raises(UnreadableFileError, match=r"metrics\.json: cannot read this JSON file"):
        read_json(metrics)
    with pytest.raises(UnreadableFileError, match="does not exist"):
        read_json(tmp_path / "nope.json")
    table = tmp_path / "curve.csv"
    table.write_text("")  # e.g. a copy cut short
    with pytest.raises(UnreadableFileError, match=r"curve\.csv: cannot read this CSV table"):
        read_output(table, pd.read_csv, "CSV table")
    npz = tmp_path / "predictive.npz"
    npz.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(UnreadableFileError, match=r"predictive\.npz: cannot read this npz"):
        load_npz(npz)


def test_workflow_reports_unreadable_outputs_by_name(tiny_run, tmp_path) -> None:
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True)
    shutil.rmtree(work / ".snakemake" / "locks", ignore_errors=True)
    metrics = work / "results/method_a/iris/rep0/unpruned/metrics.json"
    metrics.write_text("{ garbage")
    posterior = work / "results/method_a/diabetes/rep0/full/posterior.nc"
    posterior.write_bytes(posterior.read_bytes()[:5000])
    result = snakemake(
        work,
        *tiny_args(),
        "--keep-going",
        "results/tables/unpruned.csv",
        "results/method_a/diabetes/rep0/curve.csv",
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0
    for path in (metrics, posterior):
        rel = str(path.relative_to(work))
        assert f"ERROR: {rel}: cannot read this" in out, out[-6000:]
    assert "Delete it and run the workflow again" in out
    assert "Traceback" not in out, out[-6000:]
    for job_output in ("results/tables/unpruned.csv", "results/method_a/diabetes/rep0/curve.csv"):
        assert not (work / job_output).exists()  # the failed jobs' outputs are gone, not stale


# ------------------------------------------------------------------ (6) temps of killed writers


def test_stale_temps_go_and_live_ones_stay(tmp_path) -> None:
    dest = tmp_path / "sub" / "full.pt"
    dest.parent.mkdir()
    stale = _killed_temp(dest)
    host = stale.name.split(".")[-4]
    live = dest.parent / f".full.pt.{host}.{os.getppid()}.abcdefgh.tmp"  # the parent runs
    live.write_bytes(b"busy")
    foreign_new = dest.parent / ".full.pt.otherhost.1.abcdefgh.tmp"
    foreign_new.write_bytes(b"?")
    foreign_old = dest.parent / ".full.pt.otherhost.2.abcdefgh.tmp"
    foreign_old.write_bytes(b"?")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(foreign_old, (two_days_ago, two_days_ago))
    unrelated = dest.parent / ".notes.tmp"
    unrelated.write_text("mine")
    assert sorted(remove_stale_temps(tmp_path)) == sorted([stale, foreign_old])
    assert live.exists() and foreign_new.exists() and unrelated.exists()
    # This process's own pid (a reused pid): stale unless its write is under way.
    mine = dest.parent / f".full.pt.{host}.{os.getpid()}.abcdefgh.tmp"
    mine.write_bytes(b"old")
    with atomic_path(dest.parent / "busy.json") as busy:
        busy.write_text("{}")
        assert remove_stale_temps(tmp_path) == [mine] and busy.exists()
    # atomic_path cleans its own destination's stale temps before writing.
    dest = tmp_path / "sub" / "other.pt"
    stale = _killed_temp(dest)
    with atomic_path(dest) as tmp:
        tmp.write_bytes(b"done")
    assert not stale.exists() and dest.read_bytes() == b"done"


def test_kill_during_download_leaves_nothing_after_the_next_fetch(tmp_path) -> None:
    payload = os.urandom(4 << 20)  # half of it fills two read blocks
    sha = hashlib.sha256(payload).hexdigest()
    release = threading.Event()
    with _server({"slow.bin": payload}, stall=release) as base:
        raw_dir = tmp_path / "raw"
        code = (
            "import sys\nfrom bayesprune.data.download import fetch\n"
            "fetch({'url': sys.argv[1], 'sha256': sys.argv[2], 'path': 'slow.bin'}, sys.argv[3],"
            " retries=0, dataset='slowset', role='data')\n"
        )
        child = subprocess.Popen(
            [PYTHON, "-c", code, f"{base}/slow.bin", sha, str(raw_dir)], cwd=ROOT
        )
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                temps = [p for p in raw_dir.glob(".slow.bin.*.tmp") if p.stat().st_size > 0]
                if temps:
                    break
                time.sleep(0.05)
            assert temps, "the download never started"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL and temps[0].exists()
        release.set()
        got = fetch({"url": f"{base}/slow.bin", "sha256": sha, "path": "slow.bin"}, raw_dir)
    assert got.read_bytes() == payload
    assert sorted(p.name for p in raw_dir.iterdir()) == ["slow.bin"]


def test_killed_checkpoint_write_is_cleaned_by_the_sampler(tmp_path) -> None:
    post = _regression_posterior()
    x0 = streams.initial_positions(post, 2, seed=1)
    params = mh.kernel_params_for(post, 0.02, 0.1)
    ck = tmp_path / "checkpoints" / "full.pt"
    ck.parent.mkdir()
    stale = _killed_temp(ck, size=15 << 20)
    ref = runner.run_chains(post, x0, params, 120, seed=4)
    got = runner.run_chains(post, x0, params, 120, seed=4, checkpoint=ck, checkpoint_every=50)
    np.testing.assert_array_equal(got.position, ref.position)
    assert not stale.exists() and sorted(p.name for p in ck.parent.iterdir()) == ["full.pt"]


def test_workflow_start_removes_temps_of_killed_jobs(tmp_path) -> None:
    download = _killed_temp(tmp_path / "data" / "raw" / "bayes_prun_data.zip")
    checkpoint = _killed_temp(tmp_path / "results" / "checkpoints" / "iris" / "rep0" / "full.pt")
    result = snakemake(tmp_path, "data/processed/diabetes/rep0.npz", *tiny_args())
    assert result.returncode == 0, result.stderr[-4000:]
    assert not download.exists() and not checkpoint.exists()
    assert f"removed {download.relative_to(tmp_path)}, left by a killed job" in result.stderr


# ------------------------------------------------------------------ (7) too few draws


@pytest.mark.parametrize(
    "block, settings, needed",
    [
        ("sampler", {"samples": 2}, "at least 7"),
        ("sampler", {"samples": 300, "thin": 1000}, "at least 6001"),
        ("resample", {"samples": 10, "burn_in": 0.8}, "at least 19"),
    ],
)
def test_sampler_keeping_too_few_draws_is_rejected(block: str, settings: dict, needed: str):
    cfg = _tiny()
    cfg["method_a"][block].update(settings)
    msg = _config_error(cfg, f"method_a.{block}", "R-hat and ESS need at least 4", needed)
    assert "draw(s) per chain" in msg
    cfg["method_a"]["datasets"] = []  # method A not run: its sampler is not checked
    validate_config(cfg)


# ------------------------------------------------------------------ (8) minor


def test_chains_that_never_move_are_an_error_naming_the_step_size(tmp_path) -> None:
    defaults = validate_config(_tiny())["method_a"]
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 4))
    y = rng.integers(0, 3, 40)
    block = {**defaults["sampler"], "samples": 60, "chains": 2, "step_size": 50.0}
    block.update(init="prior", checkpoint_every=10)
    settings = SamplerSettings.from_params(block)
    ck = tmp_path / "full.pt"
    kw = {"prior": PriorSettings.from_params(defaults["prior"]), "seed": 5, "checkpoint": ck}
    with pytest.raises(StuckChainsError) as err:
        sample_network(MLPSpec((4, 5, 3)), "classification", X, y, settings=settings, **kw)
    msg = str(err.value)
    assert "chain(s) [0, 1] of 2 accepted none of their 30" in msg and "step_size 50.0" in msg
    assert "method_a.sampler" in msg and "adapt: true" in msg
    assert not ck.exists() and list(tmp_path.iterdir()) == []
    settings = replace(settings, step_size=0.01)
    idata = sample_network(MLPSpec((4, 5, 3)), "classification", X, y, settings=settings, **kw)
    assert idata.posterior["theta"].shape[:2] == (2, 30)


def test_sklearn_set_with_the_wrong_task_is_rejected_before_any_job() -> None:
    cfg = _tiny()
    cfg["datasets"]["diabetes"]["task"] = "classification"
    _config_error(cfg, "datasets.diabetes", "regression dataset", "task: regression")


def test_duplicated_column_names_are_an_error(tmp_path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("\n\na,b,a,c\n1,2,3,x\n4,5,6,y\n")
    with pytest.raises(DataFormatError) as err:
        read_dataset("dup", _csv_entry(path, header=True, target="c"), {"data": path})
    msg = str(err.value)
    assert "dup.csv" in msg and "header (line 3) repeats column name(s) 'a'" in msg, msg
    cfg = _tiny()
    cfg["datasets"]["iris"]["reader"]["names"] = ["s", "s", "p", "q", "kind"]
    _config_error(cfg, "datasets.iris.reader.names")
    entry = _csv_entry(path, names=["s", "s", "p", "kind"])
    with pytest.raises(DataError, match="reader.names repeats 's'"):
        resolve_entry("dup", entry)


@contextlib.contextmanager
def _server(
    files: dict[str, bytes],
    status: dict[str, int] | None = None,
    hits: dict[str, int] | None = None,
    stall: threading.Event | None = None,
) -> Iterator[str]:
    """A local HTTP server: ``files`` by path, ``status`` paths answered with that error code;
    with ``stall``, the first request of a file sends half of it and waits for the event."""
    status = status or {}
    hits = hits if hits is not None else {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            path = self.path.lstrip("/")
            with lock:
                hits[path] = hits.get(path, 0) + 1
                first = hits[path] == 1
            if path in status:
                self.send_error(status[path], "server says no")
                return
            if path not in files:
                self.send_error(404, "not found")
                return
            body = files[path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if stall is not None and first:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                stall.wait(60)
                self.close_connection = True
                return
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        if stall is not None:
            stall.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _url_config(tmp_path: Path, url: str, sha: str) -> Path:
    cfg = _tiny()
    cfg["mirror"] = None
    cfg["datasets"]["webset"] = {
        "task": "classification",
        "source": {"kind": "url", "files": {"data": {"url": url, "sha256": sha, "path": "w.csv"}}},
        "reader": {"kind": "csv", "target": -1},
    }
    cfg["method_a"]["datasets"] = ["webset"]
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("kind", ["checksum", "http500"])
def test_deterministic_download_failures_are_not_retried_and_name_the_dataset(
    tmp_path, kind: str
) -> None:
    hits: dict[str, int] = {}
    body = b"1,2,a\n3,4,b\n"
    with _server(
        {"w.csv": body}, status={"w.csv": 500} if kind == "http500" else {}, hits=hits
    ) as base:
        sha = "0" * 64 if kind == "checksum" else hashlib.sha256(body).hexdigest()
        work = tmp_path / "work"
        work.mkdir()
        config = _url_config(tmp_path, f"{base}/w.csv", sha)
        result = snakemake(
            work, "data/raw/w.csv", "--retries", "2", "--configfile", str(config), timeout=300
        )  # the Slurm profile's retries: not for downloads
    out = result.stdout + result.stderr
    assert result.returncode != 0
    # A checksum mismatch is deterministic: one request. A 5xx is retried by fetch (1 + 3
    # attempts), never again by Snakemake on top.
    assert hits == {"w.csv": 1 if kind == "checksum" else 4}, hits
    assert "ERROR: dataset 'webset', file 'w.csv'" in out, out[-4000:]
    assert ("sha256 mismatch" if kind == "checksum" else "HTTP 500") in out
    assert "Traceback" not in out
    raw = work / "data" / "raw"
    assert not raw.exists() or list(raw.iterdir()) == []
