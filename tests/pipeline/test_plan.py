"""``subrational plan``: the calls a run makes and what they cost, with no chat request sent."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("openai")

from test_openai_run import people_like  # noqa: E402

from openai_server import FakeOpenAIServer  # noqa: E402
from subrational.backends.capabilities import DEFAULT_REASONING_BUDGET  # noqa: E402
from subrational.backends.prices import lookup_price, usage_cost  # noqa: E402
from subrational.cli import main  # noqa: E402
from subrational.config import build_config  # noqa: E402
from subrational.plan import make_plan  # noqa: E402

SMALL = ["--paraphrases", "1", "--episodes", "300", "--bootstrap", "20", "--no-progress"]


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _config(srv, model, study, persona, *extra):
    args = {"experiments": [study], "personas": [persona], "model": f"openai:{model}",
            "base_url": srv.base_url, "paraphrases": 1}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[flag] = value
    return build_config(args)


def _run(srv, out, model, study, persona, *extra):
    return main(["run", study, "--persona", persona, "--model", f"openai:{model}",
                 "--base-url", srv.base_url, *extra, *SMALL, "--out", str(out)])


@pytest.mark.parametrize(("method", "samples", "expected"), [
    ("choice-probs", 10, 42),  # 21 offers x 2 option orders
    ("sample", 3, 126),  # x 3 draws
])
def test_the_plan_counts_the_calls_the_run_then_makes_and_none_once_cached(
        tmp_path, capsys, method, samples, expected):
    extra = ("method", method, "samples", samples)
    with FakeOpenAIServer(people_like) as srv:
        before = make_plan(_config(srv, "gpt-4o", "ultimatum", "fair", *extra))
        assert srv.requests == 0  # no chat request: the plan called no model
        code = _run(srv, tmp_path / "r", "gpt-4o", "ultimatum", "fair", "--method", method,
                    "--samples", str(samples))
        assert code == 0, capsys.readouterr().err
        made = srv.requests
        after = make_plan(_config(srv, "gpt-4o", "ultimatum", "fair", *extra))
        assert srv.requests == made
    [study] = before.studies
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert study.exact and study.new == (expected, expected) and study.cached == 0
    assert manifest["calls"]["model_calls"] == made == expected
    [cached] = after.studies
    assert cached.new == (0, 0) and cached.cached == expected and after.total_cost() == (0, 0)


def test_a_sequential_study_sampled_gets_a_range_that_holds_the_run_and_none_once_cached(
        tmp_path, capsys):
    extra = ("method", "sample", "samples", 2)
    with FakeOpenAIServer(people_like) as srv:
        [before] = make_plan(_config(srv, "gpt-4o", "marshmallow", "age-4", *extra)).studies
        code = _run(srv, tmp_path / "r", "gpt-4o", "marshmallow", "age-4", "--method", "sample",
                    "--samples", "2")
        assert code == 0, capsys.readouterr().err
        made = srv.requests
        [after] = make_plan(_config(srv, "gpt-4o", "marshmallow", "age-4", *extra)).studies
    assert not before.exact
    # 1 persona x 1 wording x 2 orders x 2 samples: 4 episodes over marshmallow-v2's 20 states
    # (10 minutes x 2 adults; the plan's bound counts every state, though an episode meets one
    # adult), with up to 3 attempts a state (3 % of the people-like answers are "I").
    assert before.new == (4, 4 * 20 * 3) and before.new[0] <= made <= before.new[1]
    assert after.new == (0, 0) and after.cached == made  # every episode replays from the cache


def test_the_cli_prints_the_plan_and_exits_0_without_a_chat_request(tmp_path, capsys):
    with FakeOpenAIServer(people_like) as srv:
        code = main(["plan", "ultimatum", "--persona", "fair", "--model", "openai:gpt-4o",
                     "--base-url", srv.base_url, "--method", "sample", "--samples", "3",
                     "--paraphrases", "1"])
        assert srv.requests == 0
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^ultimatum-v2\s+sample\s+126\s+0\s+126\s", out, re.M), out
    assert "price: $2.50 input, $1.25 cached input, $10.00 output per million tokens ('gpt-4o', " \
           "shipped prices as of" in out
    assert "The cost is a range" in out


def test_the_cost_range_is_the_input_plus_the_shortest_and_the_longest_answers():
    with FakeOpenAIServer(people_like) as srv:
        plan = make_plan(_config(srv, "gpt-4o", "ultimatum", "fair", "method", "sample",
                                 "samples", 2, "max_tokens", 100))
    [study] = plan.studies
    price = lookup_price("gpt-4o").price
    n = study.new[0]
    assert study.output_tokens[1] == n * 100  # every answer using its whole budget
    assert study.output_tokens[0] == n * 3  # "Answer: Accept" is 3 tokens in o200k_base
    low = usage_cost({"input_tokens": study.input_tokens[0],
                      "output_tokens": study.output_tokens[0]}, price)
    high = usage_cost({"input_tokens": study.input_tokens[1],
                       "output_tokens": study.output_tokens[1]}, price)
    assert study.cost == pytest.approx((low, high))
    assert study.cost[1] - study.cost[0] == pytest.approx(n * 97 * 10 / 1e6)


def test_a_reasoning_model_is_planned_sampled_with_its_reasoning_budget(tmp_path):
    with FakeOpenAIServer(people_like, reasoning=True) as srv:
        plan = make_plan(_config(srv, "o3-mini", "ultimatum", "fair"))  # default: choice-probs
        assert srv.requests == 0
    [study] = plan.studies
    assert study.method == "sample" and study.new == (420, 420)  # 42 cells x 10 draws
    assert study.output_tokens[1] == 420 * (160 + DEFAULT_REASONING_BUDGET)
    assert any("fell back to the sample method" in note for note in study.notes)
    assert any("reasons in hidden tokens billed as output: up to 8,192 a call" in note
               for note in plan.notes)


def test_an_unknown_price_is_unknown_and_max_cost_without_one_is_refused(tmp_path, capsys):
    with FakeOpenAIServer(people_like) as srv:
        plan = make_plan(_config(srv, "acme-llm", "ultimatum", "fair"))
        assert plan.price is None and plan.total_cost() is None
        assert plan.studies[0].cost is None
        code = main(["plan", "ultimatum", "--model", "openai:acme-llm", "--base-url",
                     srv.base_url, "--max-cost", "5"])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, err
        code = main(["run", "ultimatum", "--model", "openai:acme-llm", "--base-url",
                     srv.base_url, "--max-cost", "5", *SMALL, "--out", str(tmp_path / "r")])
        assert srv.requests == 0
    run_err = capsys.readouterr().err
    assert code == 2 and run_err == err
    assert err.startswith("subrational: error: --max-cost 5: there is no price for 'acme-llm'")
    assert not (tmp_path / "r").exists()  # refused before the run directory was claimed


def test_a_price_in_the_config_file_prices_the_plan(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[prices."acme-*"]\ninput = 1.0\noutput = 2.0\nas_of = "2026-01"\n')
    with FakeOpenAIServer(people_like) as srv:
        code = main(["plan", "ultimatum", "--persona", "fair", "--model", "openai:acme-llm",
                     "--base-url", srv.base_url, "--config", str(config), "--paraphrases", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "$1.00 input, $1.00 cached input, $2.00 output per million tokens ('acme-*', config " \
           "prices as of 2026-01)" in out


def test_a_claude_model_is_planned_sampled_at_its_price_without_a_request(monkeypatch, capsys):
    pytest.importorskip("anthropic")
    from anthropic_server import FakeAnthropicServer

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-plan")
    with FakeAnthropicServer(people_like, api_key="sk-ant-plan") as srv:
        code = main(["plan", "ultimatum", "--persona", "fair", "--model",
                     "anthropic:claude-sonnet-4-5", "--base-url", srv.base_url,
                     "--paraphrases", "1"])
        assert srv.requests == 0
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^ultimatum-v2\s+sample\s+420\s+0\s+420\s", out, re.M), out
    assert "('claude-sonnet-4-5*', shipped prices" in out
    assert "input tokens: estimated as characters / 4" in out
