"""A run against a faulty OpenAI-compatible server: the fault-free result, or one clear line."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("openai")

from test_openai_run import human_like  # noqa: E402

from openai_server import FAULTS, FakeOpenAIServer  # noqa: E402
from subrational.backends.openai_api import OpenAIBackend  # noqa: E402
from subrational.cli import main  # noqa: E402
from subrational.config import RunConfig  # noqa: E402
from subrational.pipeline import build_backend, run  # noqa: E402

SMALL = ["--persona", "fair", "--paraphrases", "1", "--episodes", "300", "--bootstrap", "20",
         "--no-progress"]


@pytest.fixture(autouse=True)
def no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _run_api(srv, out, cache_dir, monkeypatch, method="choice-probs"):
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(cache_dir))
    config = RunConfig(experiments=["ultimatum"], personas=["fair"], paraphrases=1,
                       model="openai:capable", base_url=srv.base_url, episodes=300,
                       bootstrap=20, method=method, samples=2, out=out)
    backend = OpenAIBackend("capable", base_url=srv.base_url, timeout=1.0, retry_backoff=0.01,
                            max_concurrency=16, notify=lambda line: None)
    return run(config, backend=backend)


@pytest.mark.parametrize("method", ["choice-probs", "sample"])
def test_a_run_at_30_percent_mixed_faults_equals_the_fault_free_run(tmp_path, monkeypatch,
                                                                    method):
    with FakeOpenAIServer(human_like) as srv:
        clean = _run_api(srv, tmp_path / "clean", tmp_path / "c1", monkeypatch, method)
    with FakeOpenAIServer(human_like, faults=FAULTS, fault_rate=0.3, fault_seed=7,
                          hang_seconds=1.5) as srv:
        faulty = _run_api(srv, tmp_path / "faulty", tmp_path / "c2", monkeypatch, method)
        injected = dict(srv.injected)
    assert (tmp_path / "faulty" / "summary.json").read_text() == \
        (tmp_path / "clean" / "summary.json").read_text()
    exp = faulty.summary["experiments"]["ultimatum-v2"]
    assert exp["method"] == method and not any("fell back" in n for n in exp["notes"])
    assert len(injected) >= 6 and sum(injected.values()) >= 10, injected  # ~42 x 0.3 + retries
    by_kind = faulty.manifest["calls"]["retries"]["by_kind"]
    # Every injected fault costs exactly one retry of its kind. A loaded machine may add
    # timeouts of its own (a client timeout of 1 s is short), so those are a lower bound.
    client_kind = {"nan-logprobs": "nan-logprob", "null-logprobs": "no-logprobs",
                   "html-body": "non-json-body", "hang": "timeout"}
    expected = {client_kind.get(k, k): n for k, n in injected.items()}
    assert {k: n for k, n in by_kind.items() if not k.endswith("timeout")} == \
        {k: n for k, n in expected.items() if k != "timeout"}
    assert by_kind.get("timeout", 0) >= expected.get("timeout", 0)
    assert faulty.manifest["calls"]["model_calls"] == clean.manifest["calls"]["model_calls"]
    assert clean.manifest["calls"]["retries"] == {"total": 0, "by_kind": {}}


@pytest.mark.parametrize(("url", "says"), [
    ("127.0.0.1:8000/v1", "has no http:// or https:// scheme"),
    ("http://[::1/v1", "is not a valid URL"),
    ("gopher://example.com/v1", "uses the scheme 'gopher'"),
    ("http://example.com:70000/v1", "is not a valid URL"),
])
def test_a_bad_base_url_is_one_line_and_exit_2(tmp_path, capsys, url, says):
    code = main(["run", "ultimatum", "--model", "openai:m", "--base-url", url, *SMALL,
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("subrational: error: ") and says in err, err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


@pytest.mark.parametrize(("timeout", "says"), [("0", "more than 0"), ("-1", "more than 0"),
                                               ("7200", "at most 3600")])
def test_the_timeout_is_checked(tmp_path, capsys, timeout, says):
    code = main(["run", "ultimatum", "--model", "openai:m", "--base-url", "http://h/v1",
                 "--timeout", timeout, *SMALL, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and says in err and err.count("\n") == 1, err


def test_the_timeout_setting_reaches_the_backend(tmp_path):
    config = RunConfig(model="openai:m", base_url="http://127.0.0.1:9/v1", timeout=7.5)
    assert build_backend(config).timeout == 7.5
    toml = tmp_path / "run.toml"
    toml.write_text('timeout = 2.5\n')
    from subrational.config import build_config, read_config_file

    assert build_config(read_config_file(toml)).timeout == 2.5


def test_a_cli_run_with_a_password_a_timeout_and_faults(tmp_path, capsys, monkeypatch):
    with FakeOpenAIServer(human_like, faults=["hang", "http-503", "html-body"], fault_first=3,
                          hang_seconds=2.0) as srv:
        url = srv.base_url.replace("http://", "http://alice:s3cret-pw@")
        code = main(["run", "ultimatum", "--model", "openai:capable", "--base-url", url,
                     "--timeout", "0.8", *SMALL, "--out", str(tmp_path / "r")])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert set(srv.authorizations) == {"Basic YWxpY2U6czNjcmV0LXB3"}  # alice:s3cret-pw
    for name in ("manifest.json", "report.html", "summary.json"):
        text = (tmp_path / "r" / name).read_text()
        assert "s3cret-pw" not in text and "alice" not in text, name
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["config"]["base_url"] == srv.base_url
    assert manifest["config"]["timeout"] == 0.8
    retries = manifest["calls"]["retries"]
    assert retries["by_kind"]["http-503"] == retries["by_kind"]["non-json-body"] == 1
    assert retries["by_kind"]["timeout"] >= 1  # the hang (a loaded machine may add some)
    assert retries["total"] == sum(retries["by_kind"].values())
    report = (tmp_path / "r" / "report.html").read_text()
    assert f"The model server needed {retries['total']} retries" in report  # said in the report
    assert (f"subrational: the server at {srv.base_url} has not answered in 0.8 s; retrying "
            "(1 of 5)...") in captured.err
    assert f"subrational: {retries['total']} retries (1 http-503, 1 non-json-body, " \
        in captured.err


def test_fallback_to_sampling_says_how_much_evidence(tmp_path, capsys):
    with FakeOpenAIServer(human_like, logprobs_supported=False) as srv:
        code = main(["run", "ultimatum", "--model", "openai:plain", "--base-url", srv.base_url,
                     "--samples", "2", *SMALL, "--out", str(tmp_path / "r")])
        assert code == 0, capsys.readouterr().err
    exp = json.loads((tmp_path / "r" / "summary.json").read_text())["experiments"]["ultimatum-v2"]
    assert exp["method"] == "sample"
    [note] = [n for n in exp["notes"] if "fell back" in n]
    assert "(0 of " in note and "replies from" in note and "different prompts" in note


def test_one_reply_without_logprobs_keeps_the_method(tmp_path, capsys):
    with FakeOpenAIServer(human_like, faults=["null-logprobs"], fault_first=1) as srv:
        code = main(["run", "ultimatum", "--model", "openai:capable", "--base-url",
                     srv.base_url, *SMALL, "--out", str(tmp_path / "r")])
        assert code == 0, capsys.readouterr().err
        assert srv.injected == {"null-logprobs": 1}
    exp = json.loads((tmp_path / "r" / "summary.json").read_text())["experiments"]["ultimatum-v2"]
    assert exp["method"] == "choice-probs"
    assert not any("fell back" in n for n in exp["notes"])
