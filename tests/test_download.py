"""fetch(): mirror first, downloads with retries, sha256 verified, nothing partial left behind.

Downloads are served by a local HTTP server on 127.0.0.1 (a thread, shut down after each
test); no test touches the internet.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bayesprune.data.download import fetch, fetch_dataset
from bayesprune.data.errors import ChecksumError, DataError, DownloadError

PAYLOAD = b"0123456789abcdef" * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_SHA = "0" * 64


@dataclass
class Server:
    base: str
    files: dict[str, bytes] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)  # path -> 503s before success
    truncate_first: dict[str, int] = field(default_factory=dict)  # path -> truncated replies
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(base="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            path = self.path.lstrip("/")
            with lock:
                state.hits[path] = state.hits.get(path, 0) + 1
                failing = state.fail_first.get(path, 0) > 0
                if failing:
                    state.fail_first[path] -= 1
                truncating = not failing and state.truncate_first.get(path, 0) > 0
                if truncating:
                    state.truncate_first[path] -= 1
            if path not in state.files:
                self.send_error(404, "not found")
                return
            if failing:
                self.send_error(503, "try again")
                return
            body = state.files[path]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if truncating else body)
            if truncating:
                self.close_connection = True

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _closed_port_url(path: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _spec(url: str, sha: str = SHA, path: str = "sub/file.bin") -> dict[str, str]:
    return {"url": url, "sha256": sha, "path": path}


def test_download_succeeds_and_verifies(server: Server, tmp_path: Path) -> None:
    server.files["file.bin"] = PAYLOAD
    raw = tmp_path / "raw"
    out = fetch(_spec(server.url("file.bin")), raw, retries=0, timeout=5, dataset="toy")
    assert out == raw / "sub" / "file.bin"
    assert out.read_bytes() == PAYLOAD
    assert _files_under(raw) == ["sub/file.bin"]  # no temp file left
    # Present and valid: no second request.
    fetch(_spec(server.url("file.bin")), raw, retries=0, timeout=5)
    assert server.hits["file.bin"] == 1


def test_checksum_mismatch_fails_and_leaves_nothing(server: Server, tmp_path: Path) -> None:
    server.files["file.bin"] = PAYLOAD
    raw = tmp_path / "raw"
    with pytest.raises(ChecksumError) as info:
        fetch(
            _spec(server.url("file.bin"), sha=WRONG_SHA),
            raw,
            retries=2,
            timeout=5,
            dataset="toy",
            role="data",
            backoff=0,
        )
    msg = str(info.value)
    assert "toy" in msg and "'data'" in msg and WRONG_SHA in msg and SHA in msg
    assert server.hits["file.bin"] == 1  # a wrong file is not retried
    assert _files_under(tmp_path) == []


def test_mirror_is_used_when_url_unreachable(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "sub").mkdir(parents=True)
    (mirror / "sub" / "file.bin").write_bytes(PAYLOAD)
    raw = tmp_path / "raw"
    out = fetch(_spec(_closed_port_url("file.bin")), raw, mirror=mirror, retries=0, timeout=2)
    assert out == raw / "sub" / "file.bin"
    assert out.read_bytes() == PAYLOAD
    assert _files_under(raw) == ["sub/file.bin"]


def test_bad_mirror_file_is_rejected(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "sub").mkdir(parents=True)
    (mirror / "sub" / "file.bin").write_bytes(PAYLOAD + b"x")
    raw = tmp_path / "raw"
    with pytest.raises(ChecksumError, match="mirror file"):
        fetch(_spec(_closed_port_url("f")), raw, mirror=mirror, retries=0, dataset="toy")
    assert not raw.exists() or _files_under(raw) == []


def test_retries_after_transient_failure(server: Server, tmp_path: Path) -> None:
    server.files["file.bin"] = PAYLOAD
    server.fail_first["file.bin"] = 1
    out = fetch(_spec(server.url("file.bin")), tmp_path, retries=2, timeout=5, backoff=0)
    assert out.read_bytes() == PAYLOAD
    assert server.hits["file.bin"] == 2


def test_retries_after_truncated_transfer(server: Server, tmp_path: Path) -> None:
    server.files["file.bin"] = PAYLOAD
    server.truncate_first["file.bin"] = 1
    out = fetch(_spec(server.url("file.bin")), tmp_path, retries=1, timeout=5, backoff=0)
    assert out.read_bytes() == PAYLOAD
    assert server.hits["file.bin"] == 2
    assert _files_under(tmp_path) == ["sub/file.bin"]


def test_gives_up_after_retries(server: Server, tmp_path: Path) -> None:
    server.files["file.bin"] = PAYLOAD
    server.fail_first["file.bin"] = 10
    with pytest.raises(DownloadError, match="3 attempt") as info:
        fetch(
            _spec(server.url("file.bin")),
            tmp_path,
            mirror=tmp_path / "no-mirror",
            retries=2,
            timeout=5,
            dataset="toy",
            backoff=0,
        )
    assert "toy" in str(info.value) and "mirror" in str(info.value)
    assert server.hits["file.bin"] == 3
    assert _files_under(tmp_path) == []


def test_not_found_is_not_retried(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="404"):
        fetch(_spec(server.url("missing.bin")), tmp_path, retries=3, timeout=5, backoff=0)
    assert server.hits["missing.bin"] == 1
    assert _files_under(tmp_path) == []


def test_unreachable_without_mirror_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="toy"):
        fetch(
            _spec(_closed_port_url("x")), tmp_path, retries=1, timeout=2, dataset="toy", backoff=0
        )
    assert _files_under(tmp_path) == []


def test_corrupt_existing_file_is_replaced(server: Server, tmp_path: Path) -> None:
    server.files["file.bin"] = PAYLOAD
    dest = tmp_path / "sub" / "file.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"garbage")
    fetch(_spec(server.url("file.bin")), tmp_path, retries=0, timeout=5)
    assert dest.read_bytes() == PAYLOAD


def test_url_without_checksum_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="sha256"):
        fetch({"url": "http://127.0.0.1:9/x", "path": "x"}, tmp_path)
    entry = {
        "task": "regression",
        "source": {"kind": "url", "files": {"data": {"url": "http://127.0.0.1:9/x", "path": "x"}}},
    }
    with pytest.raises(DataError, match="without a sha256"):
        fetch_dataset("toy", entry, tmp_path)


def test_path_may_not_escape_raw_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="relative"):
        fetch(_spec("http://127.0.0.1:9/x", path="../evil"), tmp_path / "raw")


def test_local_files_are_verified(tmp_path: Path) -> None:
    local = tmp_path / "local.bin"
    local.write_bytes(PAYLOAD)
    assert fetch({"path": str(local), "sha256": SHA}, tmp_path, kind="local") == local
    assert fetch({"path": str(local)}, tmp_path, kind="local") == local
    with pytest.raises(ChecksumError, match="toy"):
        fetch({"path": str(local), "sha256": WRONG_SHA}, tmp_path, kind="local", dataset="toy")
    with pytest.raises(DataError, match="does not exist"):
        fetch({"path": str(tmp_path / "nope")}, tmp_path, kind="local")


def test_fetch_dataset_fetches_shared_file_once(server: Server, tmp_path: Path) -> None:
    server.files["a.zip"] = PAYLOAD
    spec = {"url": server.url("a.zip"), "sha256": SHA, "path": "a.zip"}
    entry = {
        "task": "classification",
        "source": {
            "kind": "url",
            "files": {"data": {**spec, "member": "x.csv"}, "archive": dict(spec)},
        },
    }
    files = fetch_dataset("toy", entry, tmp_path, retries=0, timeout=5)
    assert files == {"data": tmp_path / "a.zip", "archive": tmp_path / "a.zip"}
    assert server.hits["a.zip"] == 1
    sk = {"task": "classification", "source": {"kind": "sklearn", "name": "iris"}}
    assert fetch_dataset("iris", sk, tmp_path) == {}


def test_real_mirror_files_copy_and_verify(
    paper_config: dict, shared_datasets: Path, tmp_path: Path
) -> None:
    """Every part-A file and the offline MNIST test set come from the shared mirror."""
    for name in ("iris", "mnist_test"):
        entry = paper_config["datasets"][name]
        files = fetch_dataset(name, entry, tmp_path, mirror=shared_datasets, retries=0)
        for role, path in files.items():
            spec = entry["source"]["files"][role]
            assert path == tmp_path / spec["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == spec["sha256"]
