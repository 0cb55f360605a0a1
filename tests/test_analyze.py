"""``reluscope analyze``: the report folder, its numbers against independent computations, bad input.

The bundled network is analysed once (``--quick``) and shared by the tests of this
module; small zoo networks with hand-derived region counts check the sections' numbers.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from math import comb
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from reluscope import Network
from reluscope.cli import cli
from reluscope.data import bundled_network
from zoo import always_on, lines_general_position

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _invoke(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def bundled_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("analyze") / "report"
    r = _invoke(["analyze", "--quick", "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out, r, json.loads((out / "results.json").read_text())


def _serra_thm1(n0, widths):
    """Serra et al. 2018, Thm 1, by brute force over the index set J (independent of reluscope.bounds)."""
    total = 0

    def rec(l, cap, prod):
        nonlocal total
        if l == len(widths):
            total += prod
            return
        n = widths[l]
        for j in range(0, min(cap, n) + 1):
            rec(l + 1, min(cap, n - j), prod * comb(n, j))

    rec(0, n0, 1)
    return total


def _png_ok(data: bytes) -> tuple[int, int]:
    import matplotlib.image as mpimg

    assert data[:8] == PNG_MAGIC
    import io

    img = mpimg.imread(io.BytesIO(data), format="png")
    return img.shape[1], img.shape[0]


# ---------------------------------------------------------------------- the bundled network


def test_report_folder_complete(bundled_report):
    out, _, res = bundled_report
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "results.json", "summary.txt"} <= names
    figures = [f for s in res["sections"].values() for f in s["figures"]]
    assert figures and set(figures) <= names
    assert {"fig-segments.png", "fig-plane-1.png", "fig-counts.png"} <= set(
        figures
    )  # plane 2: if time allows
    for f in figures:
        w, h = _png_ok((out / f).read_bytes())
        assert w > 100 and h > 100
    # nothing left over next to the report
    assert [p.name for p in out.parent.iterdir()] == ["report"]


def test_html_is_self_contained(bundled_report):
    out, _, res = bundled_report
    page = (out / "index.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<img [^>]*src="([^"]+)"', page)
    files = [f for s in res["sections"].values() for f in s["figures"]]
    assert len(srcs) == len(files)
    for src, f in zip(srcs, files, strict=True):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (out / f).read_bytes()
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from a network
    for s in res["sections"].values():
        assert s["title"] in page


def test_summary_fits_one_screen(bundled_report):
    out, r, res = bundled_report
    lines = r.stdout.strip().splitlines()
    assert 8 <= len(lines) <= 24 and max(map(len, lines)) <= 100
    assert lines[-1] == f"report: {out / 'index.html'}"
    assert (out / "summary.txt").read_text().strip().splitlines() == lines[:-1]
    for key in res["sections"]:
        assert any(line.strip().startswith(key) for line in lines)


def test_architecture_and_bounds(bundled_report):
    _, _, res = bundled_report
    arch = res["sections"]["architecture"]["data"]
    net = bundled_network()
    assert arch["widths"] == [64, 16, 16, 10]
    assert arch["n_params"] == sum(w.size + b.size for w, b in ((la.weight, la.bias) for la in net.layers))
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    _, xte, _, yte = train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    assert arch["n_points"] == len(xte) and arch["n_points_in_domain"] == len(xte)
    assert arch["accuracy"] == pytest.approx(np.mean(net(xte).argmax(1) == yte))
    rows = {r["name"]: r for r in res["sections"]["bounds"]["data"]["rows"]}
    assert rows["serra2018"]["value"] == _serra_thm1(64, [16, 16])
    assert rows["trivial"]["value"] == 2**32


def _sampled_pieces(net, a, b, n=20001):
    t = np.linspace(0.0, 1.0, n)
    pats = net.pattern(a + t[:, None] * (b - a))
    return 1 + int(np.count_nonzero(np.any(pats[1:] != pats[:-1], axis=1)))


def test_segments_against_dense_sampling(bundled_report):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    _, _, res = bundled_report
    seg = res["sections"]["segments"]["data"]
    x, y = load_digits(return_X_y=True)
    _, xte, _, _ = train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    pts = xte[:201]
    assert seg["n_segments"] == 200
    lengths = np.linalg.norm(pts[1:] - pts[:-1], axis=1)
    assert np.allclose(seg["lengths"], lengths)
    counts = np.array(seg["activation_regions"])
    assert seg["density_per_unit_length"] == pytest.approx(counts.sum() / lengths.sum())
    net = bundled_network()
    sampled = np.array([_sampled_pieces(net, pts[i], pts[i + 1]) for i in range(12)])
    assert np.all(sampled <= counts[:12])  # sampling can only miss pieces
    assert np.sum(sampled == counts[:12]) >= 10  # and at this resolution rarely does
    assert np.all(np.array(seg["linear_regions"]) <= counts)


def test_planes_against_grid_sampling(bundled_report):
    _, _, res = bundled_report
    planes = res["sections"]["planes"]["data"]["planes"]
    assert 1 <= len(planes) <= 2  # the second plane only if the section's time budget allows
    from reluscope.datasets import load_digits

    d = load_digits()
    net = bundled_network()
    rec = planes[0]
    i, j, m = rec["points"]
    assert len(set(rec["labels"])) == 3 and rec["labels"] == [int(d.y_test[k]) for k in (i, j, m)]
    p0, p1, p2 = d.x_test[i], d.x_test[j], d.x_test[m]
    # an orthonormal frame of the same plane, built here; the view square is centred at the centroid
    c = (p0 + p1 + p2) / 3
    u = (p1 - p0) / np.linalg.norm(p1 - p0)
    v = (p2 - p0) - ((p2 - p0) @ u) * u
    v /= np.linalg.norm(v)
    s0, s1, t0, t1 = rec["view"]
    ss, tt = np.meshgrid(np.linspace(s0, s1, 320), np.linspace(t0, t1, 320))
    pts = c + ss.reshape(-1, 1) * u + tt.reshape(-1, 1) * v
    seen = np.unique(net.pattern(pts), axis=0).shape[0]
    assert seen <= rec["view_activation_regions"] <= seen * 1.3 + 5
    assert rec["domain_activation_regions"] <= rec["view_activation_regions"]
    assert rec["whole_plane_regions"] >= rec["view_activation_regions"]


def test_counts_are_consistent(bundled_report):
    _, _, res = bundled_report
    milp = res["sections"]["milp"]["data"]
    rows = {r["name"]: r for r in res["sections"]["bounds"]["data"]["rows"]}
    x = bundled_network().pattern(np.asarray(_digits_test()))
    assert milp["data_patterns"] == np.unique(x, axis=0).shape[0]
    count = milp["milp_count"]["count"]
    assert count <= rows["serra2018"]["value"]
    assert count <= milp["weight_bound"]["bound"] <= rows["serra2018"]["value"]
    if milp["milp_count"]["status"] == "exact":
        assert count >= milp["data_patterns"]
    stab = res["sections"]["stability"]["data"]
    assert stab["units_after"] <= stab["units_before"] == 32
    assert stab["max_abs_diff_on_data"] < 1e-8


def _digits_test():
    from reluscope.datasets import load_digits

    return load_digits().x_test


@pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="needs Chromium (apt-get install -y chromium)",
)
def test_report_renders_in_chromium(bundled_report, tmp_path):
    out, _, res = bundled_report
    n_figures = sum(len(s["figures"]) for s in res["sections"].values())
    shot = tmp_path / "shot.png"
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_report_html.py"), str(out), "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"OK: all {n_figures} images loaded" in r.stdout
    assert shot.read_bytes()[:8] == PNG_MAGIC


# ---------------------------------------------------------------------- small networks, hand counts


def test_small_model_hand_counts_and_replacement(tmp_path):
    """always_on on [0, 1]^2: 1 unit always on, 1 always off, 2 regions in the box; on the whole
    plane its lines x0 = -1, x0 = 0.5 (parallel) and x0 + x1 = -1 make 3 + 3 = 6 regions."""
    z = always_on()
    model = tmp_path / "m.npz"
    z.net.save(model)
    out = tmp_path / "rep"
    out.mkdir()
    (out / "results.json").write_text("{}")  # an earlier report
    (out / "old.txt").write_text("previous report")
    r = _invoke(["analyze", str(model), "--domain", "box:0,1", "--quick", "--no-progress", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / "old.txt").exists() and (out / "index.html").exists()  # replaced as a whole
    res = json.loads((out / "results.json").read_text())
    sec = res["sections"]
    assert all(s["status"] == "ok" for s in sec.values()), {k: s["summary"] for k, s in sec.items()}
    assert [p["whole_plane_regions"] for p in sec["planes"]["data"]["planes"]] == [6, 6]
    assert sec["stability"]["data"]["stably_active"] == 1 and sec["stability"]["data"]["stably_inactive"] == 1
    mc = sec["milp"]["data"]["milp_count"]
    assert (mc["count"], mc["status"]) == (2, "exact")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "rep"]


def test_given_data_and_general_position_lines(tmp_path):
    z = lines_general_position(4)
    model, data = tmp_path / "lines.npz", tmp_path / "pts.npz"
    z.net.save(model)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(7, 2))
    np.savez(data, x=x, y=np.array([0, 1, 2, 0, 1, 2, 0]))
    r = _invoke(
        [
            "analyze",
            str(model),
            "--data",
            str(data),
            "--domain",
            "box:-1,1",
            "--quick",
            "--no-progress",
            "-o",
            str(tmp_path / "rep"),
        ]
    )
    assert r.exit_code == 0, r.output
    sec = json.loads((tmp_path / "rep" / "results.json").read_text())["sections"]
    assert sec["architecture"]["data"]["n_points"] == 7
    assert sec["segments"]["data"]["n_segments"] == 6
    planes = sec["planes"]["data"]["planes"]
    assert 1 <= len(planes) <= 2  # two disjoint triples with three different labels among 7 points
    assert all(p["whole_plane_regions"] == 1 + 4 + comb(4, 2) for p in planes)  # Zaslavsky


# ---------------------------------------------------------------------- bad input


def _bad_npy(tmp_path):
    p = tmp_path / "wide.npy"
    np.save(p, np.zeros((5, 10)))
    return p


def _bad_csv(tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text("0,1,2\n3,4,5\n6,7,8\n")
    return p


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.npz"], "No such model file"),
        (["model.txt"], "Unknown model file type"),
        (["--domain", "box:1"], "--domain must look like box:LO,HI"),
        (["--domain", "ball:0,1"], "--domain must look like box:LO,HI"),
        (["--domain", "box:a,b"], "--domain must look like box:LO,HI"),
        (["--domain", "box:1,0"], "--domain needs LO < HI"),
        (["--domain", "box:0,inf"], "finite"),
        (["--data", "WIDE_NPY"], "--data has rows of 10 numbers; the model takes 64 inputs"),
        (["--data", "WIDE_CSV"], "--data has rows of 3 numbers; the model takes 64 inputs"),
        (["--data", "nofile.npy"], "--data: no such file"),
    ],
)
def test_bad_input_one_line_exit_1_nothing_written(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.txt").write_text("not a model")
    args = [
        str(_bad_npy(tmp_path)) if a == "WIDE_NPY" else str(_bad_csv(tmp_path)) if a == "WIDE_CSV" else a
        for a in args
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    r = CliRunner().invoke(cli, ["analyze", *args, "-o", "out/report"])
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder, no temp folder


def test_output_path_is_a_file(tmp_path):
    f = tmp_path / "taken"
    f.write_text("x")
    r = CliRunner().invoke(cli, ["analyze", "--quick", "-o", str(f)])
    assert r.exit_code == 1 and "not a folder" in r.output
    assert f.read_text() == "x"


@pytest.mark.parametrize("target", [".", "..", "mine"])
def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path, monkeypatch, target):
    work = tmp_path / "work"
    (work / "mine").mkdir(parents=True)
    (work / "mine" / "notes.txt").write_text("keep")
    (work / "data.txt").write_text("keep")
    monkeypatch.chdir(work)
    r = CliRunner().invoke(cli, ["analyze", "--quick", "-o", target])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1, r.output
    assert (work / "mine" / "notes.txt").read_text() == "keep" and (work / "data.txt").read_text() == "keep"
    assert sorted(p.name for p in work.iterdir()) == ["data.txt", "mine"]


def test_interrupt_keeps_old_report_and_leaves_no_temp(tmp_path, monkeypatch):
    from reluscope.report import _sections

    out = tmp_path / "rep"
    out.mkdir()
    (out / "index.html").write_text("old")
    model = tmp_path / "m.npz"
    Network.random([2, 4, 2], seed=0).save(model)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_sections, "planes", boom)
    r = CliRunner().invoke(cli, ["analyze", str(model), "--quick", "--no-progress", "-o", str(out)])
    assert r.exit_code == 130 and "interrupted" in r.output
    assert (out / "index.html").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "rep"]


def test_interrupt_while_writing(tmp_path, monkeypatch):
    from reluscope.report import _write
    from reluscope.report._model import Report, Section

    out = tmp_path / "rep"
    out.mkdir()
    (out / "index.html").write_text("old")
    rep = Report("t", {}, (Section("a", "A"),), 0.0)

    def boom(report):
        raise KeyboardInterrupt

    monkeypatch.setattr(_write, "render_html", boom)
    with pytest.raises(KeyboardInterrupt):
        _write.write_report(rep, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]
    assert [p.name for p in out.iterdir()] == ["index.html"] and (out / "index.html").read_text() == "old"


# ---------------------------------------------------------------------- pieces


def test_text_summary_is_bounded():
    from reluscope.report import text_summary
    from reluscope.report._model import Report, Section

    sections = tuple(Section(f"s{i}", f"S{i}", summary="word " * 60) for i in range(30))
    text = text_summary(Report("many", {}, sections, 1.0), "somewhere")
    lines = text.splitlines()
    assert len(lines) <= 24 and max(map(len, lines)) <= 100
    assert lines[-1] == "report: somewhere/index.html" and lines[-2].startswith("30 sections: 30 ok")


def test_geometry_polygon_matches_sampling():
    from reluscope.report._geometry import plane_box_polygon, plane_frame

    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 1, size=(3, 5))
    o, u, v, coords = plane_frame(*pts)
    view = (-2.0, 2.0, -2.0, 2.0)
    poly = plane_box_polygon(o, u, v, np.zeros(5), np.ones(5), view)
    g = rng.uniform(-2, 2, size=(20000, 2))
    inside_box = np.all(
        (o + g[:, :1] * u + g[:, 1:] * v >= 0) & (o + g[:, :1] * u + g[:, 1:] * v <= 1), axis=1
    )
    # point-in-convex-polygon by edge cross products
    e = np.roll(poly, -1, axis=0) - poly
    rel = g[:, None, :] - poly[None]
    inside_poly = np.all(e[None, :, 0] * rel[..., 1] - e[None, :, 1] * rel[..., 0] >= -1e-12, axis=1)
    assert np.array_equal(inside_box, inside_poly)
    assert np.all(np.abs(o + coords[:, :1] * u + coords[:, 1:] * v - pts) < 1e-12)
