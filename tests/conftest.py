import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# By default hypothesis explores a fixed set of examples, so that a red build is reproducible
# and CI runs the README's plain `python -m pytest`; HYPOTHESIS_PROFILE=dev draws new examples
# on every run and keeps finding new degenerate networks.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
os.environ.setdefault("MPLBACKEND", "Agg")  # no plot windows, before anything imports matplotlib


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _no_plot_windows(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
