import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)

from hypothesis import settings  # noqa: E402

# Deterministic property tests: the same examples on every run and machine, no deadline
# (a 2-core CI machine can be slow on the first call).
settings.register_profile("numvae", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("numvae")
