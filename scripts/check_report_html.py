"""Render a report's ``index.html`` in headless Chromium and check that every figure loaded.

Usage::

    python scripts/check_report_html.py reluscope-report/index.html [--screenshot shot.png]

It (1) loads a copy of the page with a small script added that, after the load
event, records for every ``<img>`` whether it is complete with ``naturalWidth > 0``,
and reads that record back from Chromium's ``--dump-dom`` output; (2) takes a
full-page screenshot of the original page. The page is opened from a file URL with
the network disabled, so anything not embedded would fail.

Exit status: 0 when every image loaded, 1 when one did not (or the page has none),
2 when Chromium is not installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var rec = imgs.map(function (im, i) {
    return {index: i, alt: im.alt, complete: im.complete, width: im.naturalWidth, height: im.naturalHeight,
            src: im.src.slice(0, 40)};
  });
  var pre = document.createElement("pre");
  pre.id = "__reluscope_imgcheck";
  pre.textContent = JSON.stringify(rec);
  document.body.appendChild(pre);
});
</script>
"""

_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium(explicit: str | None = None) -> str | None:
    """Path of a Chromium executable, or None."""
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).exists() else None)
    for name in _CHROMIUMS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium_args(exe: str, profile: str) -> list[str]:
    return [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-extensions",
        "--mute-audio",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ]  # any network fetch fails


def check_images(page: Path, exe: str, timeout: float = 90.0) -> list[dict]:
    """Per ``<img>`` of ``page``: ``complete``, ``width``, ``height`` as seen by Chromium."""
    text = page.read_text(encoding="utf-8")
    probe = text.replace("</body>", _PROBE + "</body>") if "</body>" in text else text + _PROBE
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "probe.html"
        copy.write_text(probe, encoding="utf-8")
        args = _chromium_args(exe, str(Path(tmp) / "profile"))
        args += ["--virtual-time-budget=15000", "--dump-dom", copy.as_uri()]
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    m = re.search(r'<pre id="__reluscope_imgcheck">(.*?)</pre>', out.stdout, re.S)
    if m is None:
        raise RuntimeError(
            f"Chromium did not run the probe (exit {out.returncode}): {out.stderr.strip()[-500:]}"
        )
    return json.loads(html.unescape(m.group(1)))


def screenshot(
    page: Path, exe: str, dest: Path, width: int = 1280, height: int = 6000, timeout: float = 90.0
) -> Path:
    """A PNG screenshot of ``page`` (``width`` x ``height`` pixels)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = _chromium_args(exe, str(Path(tmp) / "profile"))
        args += [
            f"--screenshot={dest.resolve()}",
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            page.resolve().as_uri(),
        ]
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if not dest.exists():
        raise RuntimeError(
            f"Chromium wrote no screenshot (exit {out.returncode}): {out.stderr.strip()[-500:]}"
        )
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, help="index.html of a report (or its folder)")
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="where to write the screenshot PNG "
        "(default: screenshot.png in a temporary folder, path printed)",
    )
    parser.add_argument("--chromium", default=None, help="Chromium executable (default: found on PATH)")
    args = parser.parse_args(argv)
    page = args.page / "index.html" if args.page.is_dir() else args.page
    if not page.is_file():
        print(f"error: no such page: {page}", file=sys.stderr)
        return 1
    exe = find_chromium(args.chromium)
    if exe is None:
        print("error: Chromium not found (apt-get install -y chromium)", file=sys.stderr)
        return 2
    n_declared = len(re.findall(r"<img\b", page.read_text(encoding="utf-8")))
    images = check_images(page, exe)
    bad = [im for im in images if not (im["complete"] and im["width"] > 0 and im["height"] > 0)]
    for im in images:
        state = "ok " if im not in bad else "BAD"
        print(f"{state} img {im['index']}: {im['width']}x{im['height']}  {im['alt'][:70]}")
    shot = args.screenshot or Path(tempfile.mkdtemp()) / "screenshot.png"
    screenshot(page, exe, shot)
    print(f"screenshot: {shot}")
    if not images or len(images) != n_declared:
        print(
            f"FAIL: the page declares {n_declared} <img> elements, Chromium saw {len(images)}",
            file=sys.stderr,
        )
        return 1
    if bad:
        print(f"FAIL: {len(bad)} of {len(images)} images did not load", file=sys.stderr)
        return 1
    print(f"OK: all {len(images)} images loaded (naturalWidth > 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
