import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# CI explores a fixed set of examples (a red build must be reproducible); local runs draw new
# ones each time and keep finding new degenerate networks. HYPOTHESIS_PROFILE=ci selects it.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _no_plot_windows(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
