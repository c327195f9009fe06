"""What a paper needs from a run: methods, bibliography, figure files, folded fits, a prompt."""

import csv
import re

import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.config import RunConfig
from subrational.elicitation.prompts import render
from subrational.pipeline import run
from subrational.reporting.bibliography import Bibliography
from subrational.reporting.html import fit_rows
from support import human_logistic


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper") / "run"
    config = RunConfig(experiments=["ultimatum"], personas=["fair", "typical"], seed=7,
                       model="scripted:human", paraphrases=1, bootstrap=20, out=out)
    return run(config, backend=ScriptedBackend("human", probs_fn=human_logistic))


def test_the_methods_paragraph_states_what_the_run_did(result):
    text = (result.out / "methods.md").read_text()
    html = (result.out / "report.html").read_text()
    n_boot = {f["n_boot"] for f in result.summary["experiments"]["ultimatum-v2"]["findings"]
              if f["source"] == "demonstrations"}
    assert "scripted:human" in text and "2 personas (fair, typical) x 21 states" in text
    assert "1 wording x 2 option orders" in text and "84 model calls" in text
    assert f"from {n_boot.pop()} bootstrap replicates" in text
    assert "resampling wording x option-order blocks" in text and "Holm's (1979)" in text
    assert "Run seed 7" in text and "under sample" not in text.lower()
    assert text.split("\n\n")[1][:40] in html  # shown on the page too


def test_every_source_on_the_page_is_in_the_bibliography_and_linked(result):
    html = (result.out / "report.html").read_text()
    bib = (result.out / "references.bib").read_text()
    keys = re.findall(r"^@\w+\{(\w[\w-]*),", bib, re.M)
    assert {"coletta2024", "heffner2022", "oosterbeek2004", "cameron1999"} <= set(keys)
    for key in keys:
        assert f'id="ref-{key}"' in html and f'href="#ref-{key}"' in html


def test_citations_match_first_author_and_year():
    bib = Bibliography()
    assert [e.work.key for e in bib.cite("Tversky & Kahneman 1992; Kahneman & Tversky 1979")] \
        == ["tversky1992", "kahneman1979"]
    assert bib.cite("computed from the data") == []
    own = bib.cite("Smith (2020), J. Things 3:4")
    assert own[0].work.kind == "misc" and "Smith (2020)" in bib.bibtex()


def test_each_figure_has_its_svg_and_its_data(result):
    pngs = sorted((result.out / "figures").glob("*.png"))
    assert pngs
    curves = result.summary["experiments"]["ultimatum-v2"]["curves"]
    for png in pngs:
        assert png.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
        rows = list(csv.DictReader(png.with_suffix(".csv").open()))
        human = [r for r in rows if r["source"] == "human"]
        truth = next(c for c in curves if c["source"] == "human")
        assert [float(r["y"]) for r in human] == pytest.approx(truth["y"], abs=1e-6)
        assert len(rows) == sum(len(c["x"]) for c in curves if c["panel"] == rows[0]["panel"])


def test_rows_that_say_nothing_are_folded_with_a_count():
    fits = [{"model": "m", "source": "demonstrations", "persona": "p", "estimates": [
        {"name": "a", "value": 0.3, "at_bound": False}, {"name": "b", "value": None},
        {"name": "c", "value": 5.0, "at_bound": True}]}]
    rows = fit_rows(fits)
    assert [r["e"]["name"] for r in rows["shown"]] == ["a"]
    assert [r["e"]["name"] for r in rows["folded"]] == ["b", "c"]


def test_one_prompt_per_study_is_shown_verbatim(result):
    html = (result.out / "report.html").read_text()
    game = result.results[0].experiment
    persona = game.persona("fair")
    prompt = render(game, persona, game.states()[0], (0, 1), method="choice-probs")
    from markupsafe import escape

    for message in prompt.messages:
        assert str(escape(message.content)) in html
