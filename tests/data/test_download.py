"""Downloads against a local HTTP server on 127.0.0.1 serving generated IDX files."""

import functools
import gzip
import hashlib
import http.server
import socket
import threading
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.data.datasets import FASHION_MNIST, IdxDatasetSpec
from benchmarks.data.download import RemoteFile, download_file, verified_content
from benchmarks.data.idx import encode_idx, unwrap
from benchmarks.errors import DataError, DownloadError


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def generated_files(tmp_path):
    """Four small IDX files (gzip) and their official-style checksums."""
    rng = np.random.default_rng(1)
    arrays = {
        "train_images": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(20) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(10) % 10).astype(np.uint8),
    }
    served = tmp_path / "served"
    served.mkdir()
    files = {}
    for role, array in arrays.items():
        remote = FASHION_MNIST.files[role]
        raw = encode_idx(array)
        packed = gzip.compress(raw, mtime=0)
        (served / remote.name).write_bytes(packed)
        files[role] = RemoteFile(remote.name, md5(packed), md5(raw))
    return served, files, arrays


@pytest.fixture
def server(generated_files):
    served, _, _ = generated_files
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_and_load_a_whole_dataset(tmp_path, server, generated_files):
    _, files, arrays = generated_files
    spec = replace(FASHION_MNIST, mirrors=(server,), files=files)
    dataset = spec.load(tmp_path / "cache")
    np.testing.assert_array_equal(dataset.train_images, arrays["train_images"])
    np.testing.assert_array_equal(dataset.test_labels, arrays["test_labels"])
    stored = sorted(path.name for path in (tmp_path / "cache" / "fashion-mnist").iterdir())
    assert stored == sorted(remote.name for remote in files.values())  # no .part left behind
    # a second load reads the cache: the server is not needed any more
    again = replace(spec, mirrors=(closed_port_url(),)).load(tmp_path / "cache")
    np.testing.assert_array_equal(again.train_labels, arrays["train_labels"])


def test_bad_checksum_is_rejected_and_removed(tmp_path, server, generated_files):
    _, files, _ = generated_files
    remote = replace(files["train_labels"], gz_md5="0" * 32, raw_md5="1" * 32)
    with pytest.raises(DownloadError, match=r"MD5 [0-9a-f]{32} is not the official 0{32}.*removed"):
        download_file(remote, (server,), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_first_mirror_down_second_used(tmp_path, server, generated_files):
    _, files, _ = generated_files
    path = download_file(files["test_labels"], (closed_port_url(), server), tmp_path)
    assert path.name == "t10k-labels-idx1-ubyte.gz"


def test_no_network_says_where_to_put_the_files(tmp_path, generated_files):
    _, files, _ = generated_files
    spec = IdxDatasetSpec("fashion-mnist", FASHION_MNIST.class_names, (closed_port_url(),), files)
    with pytest.raises(DownloadError) as caught:
        spec.load(tmp_path / "empty")
    message = str(caught.value)
    assert str(tmp_path / "empty" / "fashion-mnist") in message
    assert "--dataset digits" in message
    assert "\n" not in message


def test_rewrapped_gzip_is_accepted_by_its_decompressed_md5(tmp_path, generated_files):
    served, files, _ = generated_files
    remote = files["train_images"]
    raw = gzip.decompress((served / remote.name).read_bytes())
    rewrapped = tmp_path / remote.name
    rewrapped.write_bytes(gzip.compress(raw, compresslevel=1, mtime=12345))
    assert md5(rewrapped.read_bytes()) != remote.gz_md5
    assert verified_content(rewrapped, remote, unwrap) == raw


def test_tampered_file_names_file_and_checksums(tmp_path, generated_files):
    served, files, _ = generated_files
    remote = files["train_labels"]
    raw = bytearray(gzip.decompress((served / remote.name).read_bytes()))
    raw[-1] ^= 0xFF
    tampered = tmp_path / remote.name
    tampered.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError) as caught:
        verified_content(tampered, remote, unwrap)
    message = str(caught.value)
    assert str(tampered) in message
    assert md5(tampered.read_bytes()) in message and remote.gz_md5 in message


def test_truncated_cached_file_is_reported_with_its_checksum(tmp_path, generated_files):
    served, files, _ = generated_files
    remote = files["test_images"]
    truncated = tmp_path / remote.name
    truncated.write_bytes((served / remote.name).read_bytes()[:-40])
    expected = rf"{remote.name}: corrupt or truncated.*MD5 [0-9a-f]{{32}}"
    with pytest.raises(DataError, match=expected):
        verified_content(truncated, remote, unwrap)
