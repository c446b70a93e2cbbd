"""Adam's passes in cache-sized blocks: the block size is chosen from the L2 cache and
changes no number."""

import numpy as np
import pytest

import numvae as nv
from numvae.optim import MIN_ADAM_BLOCK, adam_block


@pytest.mark.parametrize(("l2_bytes", "block"), [
    (2 * 1024 * 1024, 131072),  # Intel Sapphire Rapids: 3 * 4 * 131072 bytes = 1.5 MiB fit
    (1280 * 1024, 65536),  # 1.25 MiB (Ice Lake server): 109226 fit, 65536 the power of two
    (1024 * 1024, 65536),
    (512 * 1024, None),  # AMD Zen 3: 43690 fit, under MIN_ADAM_BLOCK: no blocks
    (0, None),  # the C library could not say
])
def test_block_is_the_largest_power_of_two_whose_pass_fits_in_l2(l2_bytes, block):
    assert adam_block(l2_bytes) == block
    if block is not None:
        assert block >= MIN_ADAM_BLOCK and 3 * 4 * block <= l2_bytes < 3 * 4 * 2 * block


@pytest.mark.parametrize("block", [1, 1000, 4096, None])
def test_blocked_update_gives_the_same_bits_as_one_pass_over_the_model(block):
    rng = np.random.default_rng(3)
    start = {"W": rng.standard_normal((64, 100)).astype(np.float32),
             "b": rng.standard_normal(100).astype(np.float32)}
    whole, blocked = nv.Adam(lr=1e-2, block=6500), nv.Adam(lr=1e-2, block=block)  # 6500 > 6400 + 100
    runs = []
    for optimizer in (whole, blocked):
        params = nv.ParamDict.from_arrays({k: v.copy() for k, v in start.items()})
        grads, state = params.zeros_like(), optimizer.init(params)
        draws = np.random.default_rng(4)
        for _ in range(20):
            grads.flat[:] = draws.standard_normal(grads.flat.size).astype(np.float32)
            optimizer.step(params, grads, state)
        runs.append((params.flat.copy(), state["m"].copy(), state["v"].copy()))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][0], np.concatenate([start["W"].ravel(), start["b"]]))


def test_l2_size_is_read_from_the_cache_listing_linux_gives(tmp_path):
    for index, (level, size) in enumerate([("1", "32K"), ("1", "32K"), ("2", "2048K"), ("3", "32M")]):
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        (folder / "level").write_text(level + "\n")
        (folder / "size").write_text(size + "\n")
    assert nv.optim.l2_cache_bytes(tmp_path) == 2 * 1024 * 1024
    assert nv.optim.l2_cache_bytes(tmp_path / "absent") == 0
    (tmp_path / "index2" / "size").write_text("lots\n")
    assert nv.optim.l2_cache_bytes(tmp_path) == 0
