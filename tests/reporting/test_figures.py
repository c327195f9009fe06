"""Figures: labels are drawn as written."""

import matplotlib.pyplot as plt
import pytest

from subrational.evaluation.records import Analysis, Curve
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
