"""--factor through the run and the plan: exact counts, stored cells, the report, bad flags."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from subrational.backends.scripted import ScriptedBackend
from subrational.cli import main
from subrational.config import RunConfig
from subrational.experiments import make
from subrational.factors import check_factors
from subrational.pipeline import run
from subrational.plan import make_plan
from support import human_logistic

SMALL = {"experiments": ["ultimatum"], "options": {"ultimatum": {"step": 0.25}},
         "paraphrases": 1, "bootstrap": 20, "episodes": 50, "model": "scripted:x"}
CELLS = 5 * 3 * 2  # states x personas x option orders, first wording only


def _calls(tmp_path, name, **settings):
    backend = ScriptedBackend("x", probs_fn=human_logistic)
    config = RunConfig(**{**SMALL, **settings}, out=tmp_path / name)
    run(config, out=tmp_path / name, backend=backend)
    return backend.calls, config


def test_plan_counts_exactly_the_calls_the_factors_add(tmp_path):
    without, _ = _calls(tmp_path, "plain")
    factors = ["placement", "reasoning", "temperature"]
    with_factors, config = _calls(tmp_path, "factors", factors=factors)
    # scored: the user placement (the system one is the run's own; the temperatures are
    # applied to it, not asked); sampled: cot at 2 placements x 2 temperatures x 10 draws
    assert with_factors - without == CELLS + 2 * 2 * CELLS * 10
    plan = make_plan(config, backend=ScriptedBackend("x", probs_fn=human_logistic))
    rows = {s.experiment: s for s in plan.studies}
    assert set(rows) == {"ultimatum-v2", "ultimatum-v2 factors"}
    assert rows["ultimatum-v2 factors"].new == (with_factors - without,) * 2
    assert check_factors([make("ultimatum", step=0.25)], config) == with_factors - without


def test_the_sample_method_pays_only_for_the_cells_it_does_not_share_with_the_run(tmp_path):
    without, _ = _calls(tmp_path, "plain", method="sample", samples=3)
    with_factors, config = _calls(tmp_path, "factors", method="sample", samples=3,
                                  factors=["temperature", "placement"])
    # (T, placement): (1.0, system) is the run's own; the other three are drawn
    assert with_factors - without == 3 * CELLS * 3
    plan = make_plan(config, backend=ScriptedBackend("x", probs_fn=human_logistic))
    assert {s.experiment: s.new for s in plan.studies}["ultimatum-v2 factors"] == (
        with_factors - without,) * 2


def test_a_cli_run_with_placement_and_reasoning_writes_the_block_the_cells_and_the_table(
        tmp_path):
    out = tmp_path / "u"
    code = main(["run", "ultimatum", "--model", "scripted:human-logistic", "--factor",
                 "placement", "--factor", "reasoning", "--option", "ultimatum.step=0.25",
                 "--paraphrases", "1", "--bootstrap", "20", "--episodes", "50", "--out",
                 str(out), "--no-progress"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["factors"] == {"run": True, "version": 1,
                                  "factors": ["placement", "reasoning"],
                                  "levels": {"placement": ["system", "user"],
                                             "reasoning": ["direct", "cot"]}}
    block = summary["experiments"]["ultimatum-v2"]["factors"]
    assert list(block["factors"]) == ["placement", "reasoning"] and block["cells"] == 4
    # the scripted model is placement-blind and answers both placements with the same draws
    assert block["factors"]["placement"]["share"] == 0.0
    reasoning = block["factors"]["reasoning"]
    assert 0 <= reasoning["interval"][0] <= reasoning["share"] <= reasoning["interval"][1]
    assert "also changes the method" in block["caveats"]["reasoning"]
    assert block["n_rows"] == 4 * CELLS and block["residual_df"] > 0
    stored = pd.read_parquet(out / "ultimatum" / "factors" / "demonstrations.parquet")
    assert len(stored) == 4 * CELLS
    assert set(zip(stored["placement"], stored["reasoning"], stored["asked_by"],
                   strict=True)) == {
        ("system", "direct", "choice-probs"), ("user", "direct", "choice-probs"),
        ("system", "cot", "sample"), ("user", "cot", "sample")}
    html = (out / "report.html").read_text()
    assert "Design factors: share of the variance of logit P(first action) (ω²)" in html
    assert "placement <span" in html and "reasoning <span" in html


def test_without_factors_the_summary_and_the_report_say_how_to_run_them(tmp_path):
    _calls(tmp_path, "plain")
    summary = json.loads((tmp_path / "plain" / "summary.json").read_text())
    block = summary["experiments"]["ultimatum-v2"]["factors"]
    assert block == summary["factors"] and block["run"] is False
    assert "--factor" in block["note"]
    html = (tmp_path / "plain" / "report.html").read_text()
    assert "Design factors: not run — add <code>--factor temperature</code>" in html


@pytest.mark.parametrize("args, expected", [
    (["--factor", "nonsense"], "unknown factor 'nonsense' (choose from: placement, reasoning, "
                               "temperature)"),
    (["--factor", "placment"], "unknown factor 'placment'; did you mean 'placement'?"),
    (["--factor", "placement", "--factor", "placement"], "--factor placement given twice"),
    (["--factor", "reasoning", "--method", "sample", "--answers", "structured"],
     "--factor reasoning compares a one-word answer with a reasoned one"),
])
@pytest.mark.parametrize("command", ["run", "plan"])
def test_bad_factor_flags_are_one_line_exit_2(tmp_path, capsys, command, args, expected):
    extra = ["--out", str(tmp_path / "x"), "--no-progress"] if command == "run" else []
    code = main([command, "ultimatum", "--model", "scripted:uniform", *extra, *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and len(err.splitlines()) == 1
    assert "Traceback" not in err and not (tmp_path / "x").exists()


def test_factors_in_a_config_file_are_a_list_of_known_names(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('factors = ["placement", "temprature"]\n')
    code = main(["plan", "ultimatum", "--model", "scripted:uniform", "--config", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "did you mean 'temperature'" in err and len(err.splitlines()) == 1
    path.write_text('factors = ["placement"]\nparaphrases = 1\n')
    assert main(["plan", "ultimatum", "--model", "scripted:uniform", "--config",
                 str(path)]) == 0
    assert "ultimatum-v2 factors" in capsys.readouterr().out


def test_an_offline_replay_gives_the_same_factors_from_the_cache_alone(tmp_path):
    from support import CacheableScripted

    settings = {**SMALL, "factors": ["placement", "reasoning"], "samples": 3}
    first = CacheableScripted.make(human_logistic)
    run(RunConfig(**settings, out=tmp_path / "a"), out=tmp_path / "a", backend=first)
    replay = CacheableScripted.make(human_logistic)
    run(RunConfig(**settings, offline=True, out=tmp_path / "b"), out=tmp_path / "b",
        backend=replay)
    assert first.calls > 0 and replay.calls == 0

    def block(name):
        return json.loads((tmp_path / name / "summary.json").read_text())["experiments"][
            "ultimatum-v2"]["factors"]

    assert block("a") == block("b") and block("a")["factors"]["reasoning"]["share"] is not None
    methods = (tmp_path / "a" / "report.html").read_text()
    assert "As design factors, the persona in the system vs the user message" in methods


def test_a_sequential_study_sampled_moves_the_persona_in_every_episode_step(tmp_path):
    from subrational.cache import CachedBackend
    from subrational.elicitation import SampleSettings, elicit
    from subrational.factors import run_factors

    seen = []

    class Recording(ScriptedBackend):
        def generate(self, requests):
            seen.extend((r.prompt.meta["persona"].text in r.prompt.messages[1].content,
                         r.prompt.meta["state"]) for r in requests)
            return super().generate(requests)

    exp = make("double_or_nothing")
    personas = [exp.persona(n) for n in exp.default_personas[:2]]
    backend = CachedBackend(Recording("x", probs_fn=lambda persona, state: [0.3, 0.7]), None)
    config = RunConfig(experiments=["double_or_nothing"], method="sample", samples=2,
                       factors=["placement"], bootstrap=20)
    own = elicit(exp, personas, backend, method="sample", paraphrases=1,
                 settings=SampleSettings(2, 1.0, 160))
    seen.clear()
    block = run_factors(exp, personas, backend, config, method="sample", rows=own,
                        folder=tmp_path, provenance={})
    moved = [state for user, state in seen if user]
    assert moved and len(moved) == len(seen)  # only the user placement is asked again
    assert len({str(s) for s in moved}) > 1  # episodes went past their first state, moved
    assert block["factors"]["placement"]["share"] is not None and block["n_rows"] > 0
    stored = pd.read_parquet(tmp_path / "factors" / "demonstrations.parquet")
    assert set(stored["placement"]) == {"system", "user"}


def test_a_run_without_factors_keeps_the_config_digest_it_had_before_them(tmp_path):
    from subrational.rundir import config_digest

    _, config = _calls(tmp_path, "plain")
    marker = json.loads((tmp_path / "plain" / "run.json").read_text())
    settings = json.loads(config.model_dump_json())
    assert settings.pop("factors") == []
    assert config_digest(settings) in json.dumps(marker)  # an unfinished older run resumes
    _, with_factors = _calls(tmp_path, "factors", factors=["placement"])
    marker = json.loads((tmp_path / "factors" / "run.json").read_text())
    assert config_digest(json.loads(with_factors.model_dump_json())) in json.dumps(marker)


def test_list_names_the_factors_and_their_levels(capsys):
    assert main(["list"]) == 0
    assert ("design factors (--factor NAME): temperature (0.5 vs 1.0); reasoning (direct vs "
            "cot); placement (system vs user)") in capsys.readouterr().out
