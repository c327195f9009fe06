"""report.html and compare.html in a real headless browser (chromium): they render, every
figure loads, nothing logs an error, and every file they link to exists.

The page is copied with a probe script first in its <head>: it records console errors and
failed loads, and on ``load`` writes what it saw (images, broken ones, errors, text length) into
the DOM, which ``chromium --dump-dom`` prints. Chromium's own console log (stderr) is read too.
Skipped, saying why, where no chromium is on PATH (CI installs it: .ci/run).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.config import RunConfig
from subrational.pipeline import run
from subrational.reporting.compare import write_comparison
from support import human_logistic

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not sys.platform.startswith("linux"),
    reason="no chromium on PATH (install it: apt-get install -y chromium) to check the report "
           "in a real browser")

PROBE = """<script>(function(){var errors=[];
var oe=console.error;console.error=function(){errors.push(Array.from(arguments).join(" "));
oe.apply(console,arguments);};
window.addEventListener("error",function(e){errors.push((e.target&&e.target.src)||e.message);},
true);
window.addEventListener("load",function(){var imgs=Array.from(document.images);
var out=document.createElement("pre");out.id="browser-check";
out.textContent=JSON.stringify({images:imgs.length,
broken:imgs.filter(function(i){return !(i.complete&&i.naturalWidth>0);}).map(function(i){
return i.alt;}),errors:errors,text:document.body.innerText.length});
document.body.appendChild(out);});})();</script>"""


def _mixed(persona, state, experiment):
    """Known answers: the human curve for the ultimatum game, fixed per-cell ones elsewhere."""
    if experiment.name == "ultimatum":
        return human_logistic(persona, state)
    p = 0.2 + 0.6 * (zlib.crc32(repr((persona.name, state)).encode()) % 100) / 100
    return [p, 1 - p]


def browse(page: Path, tmp: Path) -> dict:
    """What the probe saw of ``page``, plus chromium's console errors."""
    probed = page.with_name(f"_probe-{page.name}")
    html = page.read_text(encoding="utf-8")
    probed.write_text(html.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           f"--user-data-dir={tmp / 'chromium'}", "--enable-logging=stderr",
                           "--v=0", "--virtual-time-budget=5000", "--dump-dom",
                           probed.as_uri()], capture_output=True, text=True, timeout=120)
    probed.unlink()
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading: {done.stderr[-2000:]}"
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    seen["console"] = [line for line in done.stderr.splitlines()
                       if "CONSOLE" in line and probed.name in line]
    return seen


def _linked_files(page: Path) -> list[str]:
    hrefs = re.findall(r'href="([^"#:]+)"', page.read_text(encoding="utf-8"))
    return [h for h in hrefs if not (page.parent / h).is_file()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    out = []
    for seed in (0, 1):
        config = RunConfig(experiments=["ultimatum", "marshmallow"], seed=seed,
                           personas=["fair", "typical", "age-2", "age-5"], model="scripted:mixed",
                           paraphrases=1, bootstrap=20, out=root / f"run{seed}")
        run(config, backend=ScriptedBackend("mixed", probs_fn=_mixed))
        out.append(root / f"run{seed}")
    return out


def test_the_report_renders_with_every_figure_and_no_error(runs, tmp_path):
    page = runs[0] / "report.html"
    seen = browse(page, tmp_path)
    assert seen["images"] == len(list((runs[0] / "figures").glob("*.png"))) >= 3
    assert seen["broken"] == [] and seen["errors"] == [] and seen["console"] == []
    assert seen["text"] > 5000
    assert _linked_files(page) == []  # SVG, CSV, methods.md, references.bib are all there


def test_the_comparison_renders_with_every_figure_and_no_error(runs, tmp_path):
    page = write_comparison(runs, tmp_path / "cmp" / "compare.html")
    seen = browse(page, tmp_path)
    assert seen["images"] >= 2 and seen["broken"] == []
    assert seen["errors"] == [] and seen["console"] == []
    assert _linked_files(page) == []


def test_the_probe_sees_a_broken_figure_and_a_console_error(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><head></head><body><img src="missing.png" alt="lost">'
                    '<script>console.error("boom")</script></body></html>')
    seen = browse(page, tmp_path)
    assert seen["broken"] == ["lost"]
    assert any("boom" in e for e in seen["errors"]) and seen["console"]


def test_a_screenshot_of_the_report_is_not_blank(runs, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1300,3000",
                    f"--screenshot={shot}", (runs[0] / "report.html").as_uri()],
                   capture_output=True, timeout=120)
    from PIL import Image

    pixels = Image.open(shot).convert("L")
    low, high = pixels.getextrema()
    assert pixels.size == (1300, 3000) and high - low > 100  # text on a white page
