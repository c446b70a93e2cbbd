"""The whole download path, for real: a local HTTP server on 127.0.0.1 serves small IDX files.

The registry's MNIST entry is swapped for a tiny one whose mirrors point at that server
(or at a closed port, or at a folder that answers 404), and whose checksums are those of
the files generated here. The cache goes to a temporary XDG_CACHE_HOME.
"""

import dataclasses
import functools
import hashlib
import http.server
import socket
import threading

import numpy as np
import pytest
from test_data_idx import write_idx

import numvae as nv
from numvae.data import registry
from numvae.data.registry import RemoteFile

SHAPE = (4, 3)
SIZES = {"train": 6, "test": 2}
NAMES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requested: list  # set per server: the paths asked for, in order

    def log_message(self, format, *args):
        self.requested.append(self.path)


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Serve tmp_path/www over HTTP on 127.0.0.1; yields (base URL, list of requested paths)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    requested = []
    handler = type("Handler", (QuietHandler,), {"requested": requested})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requested
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("NUMVAE_DATA_DIR", raising=False)
    return tmp_path / "xdg-cache" / "numvae" / "mnist"


def publish(folder, seed=0):
    """Write a tiny MNIST (both splits) into ``folder``; return {split: (images, labels)}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in SIZES.items():
        images = rng.integers(0, 256, (n, *SHAPE), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(folder / NAMES[split][0], images)
        write_idx(folder / NAMES[split][1], labels)
        arrays[split] = images, labels
    return arrays


def tiny_mnist(monkeypatch, mirrors, checksums_of):
    """Register a tiny 'mnist' with these mirrors and the SHA-256s of the files in ``checksums_of``."""
    def remote(name):
        return RemoteFile(name, hashlib.sha256((checksums_of / name).read_bytes()).hexdigest())
    files = {split: {"images": remote(i), "labels": remote(lab)} for split, (i, lab) in NAMES.items()}
    source = dataclasses.replace(registry.MNIST, files=files, sizes=SIZES, image_shape=SHAPE,
                                 mirrors=tuple(mirrors), system_folders=())
    monkeypatch.setitem(registry.REGISTRY, "mnist", source)


def assert_is(ds, images, labels):
    np.testing.assert_array_equal(ds.x, images.reshape(len(images), -1).astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.y, labels)


def test_good_download_lands_in_the_cache_checked(server, cache, monkeypatch, tmp_path, closed_port_url):
    base, requested = server
    arrays = publish(tmp_path / "www" / "mnist")
    tiny_mnist(monkeypatch, [base + "/mnist/"], checksums_of=tmp_path / "www" / "mnist")
    assert_is(nv.load_dataset("mnist", "train"), *arrays["train"])
    assert requested == ["/mnist/train-images-idx3-ubyte.gz", "/mnist/train-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES["train"])

    # Offline now (the only mirror refuses connections): the cache serves the files.
    tiny_mnist(monkeypatch, [closed_port_url], checksums_of=tmp_path / "www" / "mnist")
    assert_is(nv.load_dataset("mnist", "train"), *arrays["train"])
    assert len(requested) == 2


def test_checksum_mismatch_is_an_error_and_keeps_nothing(server, cache, monkeypatch, tmp_path):
    base, _ = server
    publish(tmp_path / "www" / "mnist", seed=0)
    publish(tmp_path / "expected", seed=1)  # the checksums the registry believes in
    tiny_mnist(monkeypatch, [base + "/mnist/"], checksums_of=tmp_path / "expected")
    with pytest.raises(ValueError, match=r"checksum mismatch: train-images-idx3-ubyte\.gz downloaded "
                                         rf"from {base}/mnist/train-images-idx3-ubyte\.gz"):
        nv.load_dataset("mnist", "train")
    assert list(cache.iterdir()) == []  # neither the bad file nor a temporary one


def test_checksum_mismatch_does_not_fall_over_to_a_good_mirror(server, cache, monkeypatch, tmp_path):
    base, requested = server
    publish(tmp_path / "www" / "bad", seed=1)
    publish(tmp_path / "www" / "good", seed=0)
    tiny_mnist(monkeypatch, [base + "/bad/", base + "/good/"], checksums_of=tmp_path / "www" / "good")
    with pytest.raises(ValueError, match="checksum mismatch"):
        nv.load_dataset("mnist", "test")
    assert requested == ["/bad/t10k-images-idx3-ubyte.gz"]


@pytest.mark.parametrize("dead", ["404", "closed port"])
def test_dead_first_mirror_falls_over_to_the_second(server, cache, monkeypatch, tmp_path, dead,
                                                    closed_port_url):
    base, requested = server
    arrays = publish(tmp_path / "www" / "good")
    first = base + "/nothing-here/" if dead == "404" else closed_port_url
    tiny_mnist(monkeypatch, [first, base + "/good/"], checksums_of=tmp_path / "www" / "good")
    assert_is(nv.load_dataset("mnist", "test"), *arrays["test"])
    served = [p for p in requested if p.startswith("/good/")]
    assert served == ["/good/t10k-images-idx3-ubyte.gz", "/good/t10k-labels-idx1-ubyte.gz"]
    if dead == "404":
        assert requested[0] == "/nothing-here/t10k-images-idx3-ubyte.gz"


def test_all_mirrors_dead_says_what_is_missing_and_how_to_provide_it(server, cache, monkeypatch,
                                                                     tmp_path, closed_port_url):
    base, _ = server
    publish(tmp_path / "expected")
    tiny_mnist(monkeypatch, [base + "/nothing-here/", closed_port_url], checksums_of=tmp_path / "expected")
    with pytest.raises(FileNotFoundError) as info:
        nv.load_dataset("mnist", "test")
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz" in message
    assert f"{base}/nothing-here/t10k-images-idx3-ubyte.gz: HTTPError" in message
    assert f"{closed_port_url}t10k-images-idx3-ubyte.gz: ConnectionError" in message
    for way in ("data_dir=FOLDER", "NUMVAE_DATA_DIR=FOLDER", "download=True"):
        assert way in message
    assert not any(cache.iterdir())


def test_only_the_missing_file_is_downloaded(server, cache, monkeypatch, tmp_path):
    base, requested = server
    arrays = publish(tmp_path / "www" / "mnist")
    cache.mkdir(parents=True)
    (cache / NAMES["test"][1]).write_bytes((tmp_path / "www" / "mnist" / NAMES["test"][1]).read_bytes())
    tiny_mnist(monkeypatch, [base + "/mnist/"], checksums_of=tmp_path / "www" / "mnist")
    assert_is(nv.load_dataset("mnist", "test"), *arrays["test"])
    assert requested == ["/mnist/t10k-images-idx3-ubyte.gz"]
