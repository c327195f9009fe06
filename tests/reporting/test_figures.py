"""Figures: labels are drawn as written."""

import matplotlib.pyplot as plt
import pytest

from subrational.evaluation.records import POPULATION_MEAN, Analysis, Curve
from subrational.reporting.figures import plain_text, plot_analysis

# Parsed as mathtext this label is an error ("\frac" needs arguments): drawn plainly it is text.
LABEL = r"stake $10 \frac or $100"


def _analysis(label):
    return Analysis(curves=[Curve(f"P(gamble) at {label}", label, "demonstrations", "stake-10",
                                  [0, 1], [0.2, 0.3], xlabel="$ won", ylabel="P")])


def test_dollar_signs_in_labels_are_dollars_not_mathtext(tmp_path):
    paths = plot_analysis(_analysis(LABEL), tmp_path, "x")
    assert all(p.stat().st_size > 1000 for p in paths.values())
    assert plt.rcParams["text.parse_math"] is True  # the user's setting is left as it was


def test_the_same_label_fails_when_parsed_as_mathtext():
    fig, ax = plt.subplots()
    ax.set_title(LABEL)
    with pytest.raises(ValueError):
        fig.canvas.draw()
    plt.close(fig)


def test_plain_text_applies_only_inside_the_call():
    seen = plain_text(lambda: plt.rcParams["text.parse_math"])()
    assert seen is False and plt.rcParams["text.parse_math"] is True


def _people(n, given_mean=None):
    """n personas' curves from both sources, a human curve, person k at P = k / n; with
    ``given_mean`` the study's own population-mean curve of the LLM's answers at that value."""
    curves = [Curve("Acceptance curve", "humans", "human", "", [0, 1], [0.1, 0.9])]
    if given_mean is not None:
        curves.append(Curve("Acceptance curve", "mean", "demonstrations", POPULATION_MEAN,
                            [0, 1], [given_mean] * 2))
    for k in range(n):
        for source in ("demonstrations", "policy"):
            curves.append(Curve("Acceptance curve", f"p{k:03d} ({source})", source, f"p{k:03d}",
                                [0, 1], [k / n, k / n], xlabel="offer", ylabel="P"))
    return Analysis(curves=curves)


def _drawn(monkeypatch, analysis, tmp_path):
    """The figure's legend labels, its PNG's size in pixels and its caption."""
    from subrational.reporting import figures

    seen = {}
    real = figures.save_figure

    def keep(fig, path, **kwargs):
        ax = fig.axes[0]
        seen["labels"] = [t.get_text() for t in ax.get_legend().get_texts()]
        seen["means"] = [ln.get_ydata().tolist() for ln in ax.get_lines() if ln.get_lw() > 2]
        return real(fig, path, **kwargs)

    monkeypatch.setattr(figures, "save_figure", keep)
    (png,) = plot_analysis(analysis, tmp_path, "u").values()
    seen["pixels"] = plt.imread(png).shape[:2]
    seen["caption"] = figures.caption("Acceptance curve", analysis.curves)
    return seen


def test_a_population_is_drawn_as_thin_lines_and_their_mean_not_800_legend_entries(
        tmp_path, monkeypatch):
    crowd = _drawn(monkeypatch, _people(200), tmp_path)
    assert crowd["labels"] == ["humans", "LLM's answers: mean of 200 personas",
                               "learned policy: mean of 200 personas"]
    assert crowd["means"] == [[pytest.approx(199 / 400)] * 2] * 2  # mean of k / 200
    assert max(crowd["pixels"]) < 1200  # was a 6,893-pixel-tall legend at 800 personas
    assert "200 personas: a thin line each, their mean bold" in crowd["caption"]
    assert "p007" not in crowd["caption"]
    few = _drawn(monkeypatch, _people(3), tmp_path / "few")
    assert [label for label in few["labels"] if label.startswith("p")] == [
        f"p{k:03d} ({s})" for k in range(3) for s in ("demonstrations", "policy")]
    assert "p000, p001, p002" in few["caption"]
    # A study's own population-mean curve is drawn as given, not counted as a person.
    own = _drawn(monkeypatch, _people(200, given_mean=0.25), tmp_path / "own")
    assert own["labels"][1] == "LLM's answers: mean of 200 personas"
    assert own["means"][0] == [0.25, 0.25] and own["means"][1] == [pytest.approx(199 / 400)] * 2
