"""Every registered reproduction runs with ``--quick`` through the CLI and its claims hold.

Each experiment raises when one of its paper's claims fails, so exit status 0 already
means "claims reproduced"; on top of that, every run must leave a summary, a figure
or data, and a ``results.json``, and the claims it reports must all be true. The sawtooth
and serra-counting numbers are re-checked here against formulas written in this file.
"""

from __future__ import annotations

import csv
import json
from math import comb
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import reluscope as rs
from reluscope.cli import cli
from reluscope.experiments import EXPERIMENTS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _claims(obj):
    """Every ``claims``-like dict of booleans in a result (any nesting)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.startswith("claim") and isinstance(v, dict) and all(isinstance(b, bool) for b in v.values()):
                yield from v.items()
            elif k.startswith("claim") and isinstance(v, bool):
                yield k, v
            else:
                yield from _claims(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _claims(v)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_repro_quick(name, tmp_path):
    out = tmp_path / name
    r = CliRunner().invoke(cli, ["repro", name, "--quick", "-o", str(out)])
    assert r.exit_code == 0, f"{name} failed:\n{r.output}\n{r.exception!r}"
    files = {p.name: p for p in out.iterdir()}
    assert "summary.md" in files and files["summary.md"].read_text().strip()
    assert all(p.read_bytes()[:8] == PNG_MAGIC for n, p in files.items() if n.endswith(".png"))
    assert any(n.endswith((".csv", ".png")) for n in files)  # data or a figure besides the summary
    result = json.loads(files["results.json"].read_text())
    failed = [k for k, ok in _claims(result) if not ok]
    assert not failed, f"{name}: claims reported false: {failed}"
    assert not any(n.startswith(".") for n in files)  # no temporary files left
    if name in _SPECIFIC:
        _SPECIFIC[name](out)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _pieces_by_sampling(net, lo: float, hi: float, n: int) -> int:
    """Linear pieces of a 1-D function by finite differences on a grid that contains every kink."""
    x = np.linspace(lo, hi, n)
    y = net(x[:, None])[:, 0]
    slope = np.diff(y) / np.diff(x)
    return 1 + int(np.count_nonzero(np.abs(np.diff(slope)) > 1e-6 * np.abs(slope).max()))


def _check_sawtooth(out: Path) -> None:
    from reluscope import build

    rows = _read_csv(out / "sawtooth.csv")
    assert [int(row["L"]) for row in rows] == list(range(1, 11))
    for row in rows:
        L, n = int(row["L"]), int(row["units"])
        assert n == 2 * L
        assert int(row["deep_pieces"]) == int(row["deep_pieces_R"]) == 2**L
        assert int(row["shallow_best"]) == n + 1 >= int(row["shallow_random_max_R"])
        assert float(row["shallow_random_mean_interval"]) <= n + 1
        assert int(row["shallow_units_to_equal"]) == 2**L
        if L <= 7:  # independent of the region engine: finite differences on a grid through the kinks
            assert _pieces_by_sampling(build.sawtooth(L), -2.0, 2.0, 2**L * 8 + 1) == 2**L


def _check_serra_counting(out: Path) -> None:
    rows = _read_csv(out / "counts.csv")
    assert sorted({int(row["n1"]) for row in rows}) == [1, 11]
    for row in rows:
        n1, n2 = int(row["n1"]), int(row["n2"])
        assert n1 + n2 == 22
        # Serra et al. 2018, Thm 1 for two layers with n0 = 64 >= n1, n2 (formula written out here)
        thm1 = sum(comb(n1, j1) * comb(n2, j2) for j1 in range(n1 + 1) for j2 in range(min(n1 - j1, n2) + 1))
        assert int(row["serra2018"]) == thm1
        count = int(row["count"])
        assert int(row["data_patterns"]) >= 1 and count <= thm1
        if row["count_status"] == "exact":
            assert count >= int(row["data_patterns"])
        if n1 == 1:
            assert row["count_status"] == "exact" and count <= 1 + 21 + 1
        # the search counts every network too; a count that finished bounds the other from above
        found = int(row["enumerated"])
        assert found <= thm1
        if row["enum_status"] == "exact":
            assert found >= count and found >= int(row["data_patterns"])
            assert row["count_status"] != "exact" or found == count
        regions = int(row["regions"])
        assert regions == max(count, found) and (row["regions_status"] == "exact") == (
            "exact" in (row["enum_status"], row["count_status"]))
        assert 0.0 <= float(row["test_accuracy"]) <= 1.0


#: extra checks of particular experiments' outputs against formulas written here
_SPECIFIC = {"sawtooth": _check_sawtooth, "serra-counting": _check_serra_counting}


def test_repro_list_and_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["repro", "--list"])
    assert r.exit_code == 0
    listed = [line.split()[0] for line in r.output.strip().splitlines()]
    assert listed == list(EXPERIMENTS)
    r = CliRunner().invoke(cli, ["repro", "no-such-experiment"])
    assert r.exit_code == 1 and r.output.startswith("error: Unknown experiment")
    r = CliRunner().invoke(cli, ["repro"])
    assert r.exit_code == 1 and "NAME" in r.output
    assert list(tmp_path.iterdir()) == []


def test_a_failed_claim_is_a_reluscope_error(tmp_path):
    from reluscope.experiments._output import raise_failed

    raise_failed("demo", {"holds": True}, tmp_path)  # nothing to report
    with pytest.raises(rs.ClaimNotReproducedError, match="demo: claims not reproduced: breaks") as info:
        raise_failed("demo", {"holds": True, "breaks": False}, tmp_path)
    assert isinstance(info.value, rs.ReluscopeError) and isinstance(info.value, AssertionError)
