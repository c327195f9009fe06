"""``subrational run --model openai:...`` against a real OpenAI-compatible HTTP server."""

import json
import re

import numpy as np
from scipy.special import expit

from openai_server import FakeOpenAIServer
from subrational.cli import main
from subrational.studies.marshmallow.wording import elapsed

UNFAIR = "fair persona rejects the most unfair offers more often than not"


def human_like(messages):
    """Next-token distribution of a 'capable' model: rejects low offers like people do."""
    offer = float(re.search(r"offers you \$(\d+\.\d\d)", messages[-1]["content"]).group(1)) / 10
    fair = "fairness" in messages[0]["content"]
    p_reject = float(expit((4.5 - 15 * offer) if fair else (1.59 - 10.42 * offer)))
    return {"Accept": 0.97 * (1 - p_reject), "Reject": 0.97 * p_reject, "I": 0.03}


def test_run_on_an_openai_compatible_server_reproduces_the_finding(tmp_path, capsys, monkeypatch,
                                                                  isolated_cache):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-123")
    with FakeOpenAIServer(human_like, require_key="sk-test-secret-123", fail_first=2) as srv:
        code = main(["run", "ultimatum", "--model", "openai:capable", "--base-url", srv.base_url,
                     "--persona", "fair", "--persona", "typical", "--paraphrases", "1",
                     "--no-progress", "--out", str(tmp_path / "r")])
        assert code == 0, capsys.readouterr().err
        assert srv.requests == 84 + 2  # 2 personas x 21 offers x 2 orders, plus two 429s
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    exp = summary["experiments"]["ultimatum-v2"]
    paper = {(f["claim"], f["source"]): f["reproduced"] for f in exp["findings"]}
    assert paper[(UNFAIR, "demonstrations")] is True
    assert exp["diagnostics"]["option_mass_mean"] == __import__("pytest").approx(0.97, abs=1e-6)
    for name in ("summary.json", "manifest.json", "report.html"):
        assert "sk-test-secret-123" not in (tmp_path / "r" / name).read_text()
    for path in isolated_cache.rglob("*"):
        if path.is_file():
            assert b"sk-test-secret-123" not in path.read_bytes(), path
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["model"]["base_url"] == srv.base_url


def test_offline_replay_of_an_api_run_needs_no_key_and_no_server(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    args = ["run", "ultimatum", "--model", "openai:capable", "--persona", "fair", "--no-progress",
            "--paraphrases", "2"]
    with FakeOpenAIServer(human_like) as srv:
        assert main([*args, "--base-url", srv.base_url, "--out", str(tmp_path / "a")]) == 0
        url = srv.base_url
    monkeypatch.delenv("OPENAI_API_KEY")
    assert main([*args, "--base-url", url, "--offline", "--out", str(tmp_path / "b")]) == 0
    assert re.search(r"^0 model calls \(.*\), 84 from the cache", capsys.readouterr().out, re.M)


def test_server_without_logprobs_falls_back_to_sampling(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(human_like, logprobs_supported=False) as srv:
        code = main(["run", "ultimatum", "--model", "openai:plain", "--base-url", srv.base_url,
                     "--persona", "typical", "--samples", "3", "--paraphrases", "1",
                     "--no-progress", "--out", str(tmp_path / "r")])
    assert code == 0, capsys.readouterr().err
    exp = json.loads((tmp_path / "r" / "summary.json").read_text())["experiments"]["ultimatum-v2"]
    assert exp["method"] == "sample"
    assert exp["diagnostics"]["draws"] == 21 * 2 * 3
    assert any("fell back to the sample method" in n for n in exp["notes"])


FELT_MINUTE = {elapsed(m): m for m in range(30)}


def _number(pattern, text):
    return float(re.search(pattern, text).group(1).replace(",", ""))


def people_like(messages):
    """A 'capable' model that answers all four studies as people do (by construction)."""
    system, user = messages[0]["content"], messages[-1]["content"]
    options = ("Accept", "Reject")
    if "marshmallow" in system:  # version 2: the wait felt in words, the adult kept her word?
        age = _number(r"a (\d+)-year-old", system)
        minute = FELT_MINUTE[re.search(r"Now the adult (.+?)\. The", user).group(1)]
        broken = 2.5 if "came back without" in user else 0.0
        p, options = float(expit(3.0 - 1.6 * age - 0.3 * minute + broken)), ("Ring", "Wait")
    elif "double-or-nothing" in system or "double or nothing" in system:
        # the money at stake: "you now have $W", or in the loss frame "give back $W"
        money = _number(r"(?:you now have|give back) \$([\d,]+)", user)
        reflect = 1.5 if "for sure" in user else 0.0  # more risk seeking told as losses
        p = float(expit(-1.0 - 0.4 * (np.log10(money) - 1) + reflect))
        options = ("Gamble", "Keep")
    elif "GPA" in system:
        gpa, day = _number(r"GPA of (\d\.\d)", system), _number(r"It is day (\d+)", user)
        day -= _number(r"It is day \d+ of (\d+)", user) - 7  # the last week, as in v1
        spaced = 1.5 if "evenly spaced deadlines" in user else 0.0
        p = float(expit(-4.0 + 1.2 * (gpa - 3.0) + 0.8 * day + spaced))
        options = ("Work", "Postpone")
    else:
        return human_like(messages)
    return {options[0]: 0.97 * p, options[1]: 0.97 * (1 - p), "I": 0.03}


def test_all_four_studies_on_a_capable_server_reproduce_the_paper(tmp_path, capsys):
    with FakeOpenAIServer(people_like) as srv:
        # The four studies by name: other tests register their own games in this process.
        code = main(["run", "ultimatum", "marshmallow", "double_or_nothing", "procrastination",
                     "--model", "openai:capable", "--base-url", srv.base_url,
                     "--paraphrases", "1", "--episodes", "500", "--bootstrap", "20",
                     "--no-progress", "--out", str(tmp_path / "r")])
        assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert len(summary["experiments"]) == 4
    for vid, exp in summary["experiments"].items():
        paper = [f for f in exp["findings"] if f["kind"] == "paper"
                 and f["source"] in ("demonstrations", "policy")]
        assert paper and all(f["reproduced"] for f in paper), (vid, paper)
        assert exp["scorecard"]["verdict"] != "not human-like", vid
