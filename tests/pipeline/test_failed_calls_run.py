"""Calls that still fail after their retries: the rest of the run completes, the report and the
exit code say so, and the next run asks only for what failed, then equals a fault-free run."""

from __future__ import annotations

import hashlib
import json

import pytest
from markupsafe import escape

pytest.importorskip("openai")

from test_openai_run import people_like  # noqa: E402

import subrational.pipeline as pipeline  # noqa: E402
from openai_server import FakeOpenAIServer  # noqa: E402
from subrational.cli import EXIT_FAILED_CALLS, main  # noqa: E402

SMALL = ["--paraphrases", "1", "--episodes", "300", "--bootstrap", "20", "--no-progress"]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch, tmp_path):
    """No key from the environment, a cache of the test's own, retries without long waits."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    real = pipeline.build_backend

    def build(config):
        backend = real(config)
        backend._loop.retry_backoff = 0.005
        return backend

    monkeypatch.setattr(pipeline, "build_backend", build)


def doomed(share: int):
    """A fault rule: the prompts whose text hashes to 0 mod ``share`` fail every attempt."""
    def rule(body):
        text = json.dumps(body["messages"], sort_keys=True).encode()
        return "http-500" if hashlib.sha256(text).digest()[0] % share == 0 else None
    return rule


def _read(out, name):
    text = (out / name).read_text()
    return json.loads(text) if name.endswith(".json") else text


def _run(srv, out, cache, monkeypatch, studies, *extra):
    monkeypatch.setenv("SUBRATIONAL_CACHE_DIR", str(cache))
    return main(["run", *studies, "--model", "openai:capable", "--base-url", srv.base_url,
                 *SMALL, *extra, "--out", str(out)])


@pytest.mark.parametrize(("studies", "extra"), [
    (["ultimatum"], ["--persona", "fair"]),
    (["ultimatum", "marshmallow"], ["--persona", "fair", "--persona", "age-4",
                                    "--method", "sample", "--samples", "2"]),
])
def test_failed_calls_leave_the_run_complete_and_only_they_are_retried(tmp_path, capsys,
                                                                     monkeypatch, studies,
                                                                     extra):
    with FakeOpenAIServer(people_like) as srv:
        assert _run(srv, tmp_path / "clean", tmp_path / "c1", monkeypatch, studies,
                    *extra) == 0
        clean_calls = srv.requests
    capsys.readouterr()
    srv = FakeOpenAIServer(people_like, fault_if=doomed(6), faults_per_request=99)
    with srv:
        code = _run(srv, tmp_path / "faulty", tmp_path / "c2", monkeypatch, studies, *extra)
        err = capsys.readouterr().err
        injected, first = srv.injected["http-500"], srv.requests
        summary, manifest, report = (_read(tmp_path / "faulty", name) for name in
                                     ("summary.json", "manifest.json", "report.html"))
        srv.fault_if = None  # the server recovers
        again = _run(srv, tmp_path / "faulty", tmp_path / "c2", monkeypatch, studies, *extra)
        again_err = capsys.readouterr().err
        retried = srv.requests - first
    assert code == EXIT_FAILED_CALLS, err
    failed = summary["failed_calls"]["calls"]
    assert 0 < failed < clean_calls / 2
    assert injected == failed * 6  # each failed call: its first attempt and its 5 retries
    assert f"subrational: {failed} model calls failed after their retries" in err
    assert "only the failed calls are retried" in err
    per_study = {k: v["failed_calls"]["calls"] for k, v in summary["experiments"].items()
                 if "failed_calls" in v}
    assert sum(per_study.values()) == failed
    assert manifest["calls"]["failed_calls"] == failed == len(manifest["failed_calls"])
    assert {f["kind"] for f in manifest["failed_calls"]} == {"http-500"}
    assert 'id="failed-calls"' in report and f"{failed} model calls failed" in report
    cell = summary["experiments"][next(iter(per_study))]["failed_calls"]["cells"][0]
    assert cell.split(" @ ")[0] in {extra[i + 1] for i, a in enumerate(extra) if a == "--persona"}
    assert f"<code>{escape(cell)}</code>" in report

    # The same command once the server has recovered: only the failed calls are sent.
    assert again == 0, again_err
    if "sample" not in extra:
        assert retried == failed
    else:  # a sequential episode that lost a step goes on from it: later steps are new calls
        assert failed <= retried < clean_calls / 2
    assert "failed" not in again_err
    assert (tmp_path / "faulty" / "summary.json").read_text() == \
        (tmp_path / "clean" / "summary.json").read_text()
    assert 'id="failed-calls"' not in (tmp_path / "faulty" / "report.html").read_text()


def test_a_server_that_fails_most_calls_trips_the_breaker_early(tmp_path, capsys, monkeypatch):
    with FakeOpenAIServer(people_like, fault_if=doomed(1), faults_per_request=99) as srv:
        code = _run(srv, tmp_path / "r", tmp_path / "c", monkeypatch, ["ultimatum"],
                    "--persona", "fair", "--persona", "selfish", "--concurrency", "4")
        err = capsys.readouterr().err
        sent = srv.requests
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    assert "failed after their retries" in line and "stopped: check the server" in line
    # 20 failed calls at most, plus what was in flight, each with its 6 attempts; the grid has
    # 84 calls (2 personas x 21 offers x 2 orders), so the breaker stopped it early.
    assert sent <= (20 + 4) * 6 < 84 * 6


def test_rpm_paces_requests_and_the_manifest_says_where_the_limit_came_from(tmp_path,
                                                                           monkeypatch):
    with FakeOpenAIServer(people_like) as srv:
        code = _run(srv, tmp_path / "r", tmp_path / "c", monkeypatch, ["ultimatum"],
                    "--persona", "fair", "--rpm", "600", "--concurrency", "8")
        arrivals = sorted(srv.arrivals)
    assert code == 0
    # 600 per minute is one request every 0.1 s, never a burst, whatever the concurrency
    # (unpaced, 42 requests at 8 in flight arrive within a few tenths of a second).
    gaps = sorted(b - a for a, b in zip(arrivals, arrivals[1:], strict=False))
    assert len(arrivals) >= 40 and gaps[len(gaps) // 2] > 0.08, gaps
    assert arrivals[-1] - arrivals[0] >= 0.09 * (len(arrivals) - 1)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["backend"]["rate_limits"]["requests"] == {"per_minute": 600.0,
                                                              "source": "--rpm"}
    assert manifest["config"]["rpm"] == 600.0


def test_the_providers_headers_are_obeyed_without_a_429(tmp_path, monkeypatch):
    # 8 requests per 0.6 s window, announced as 6000 per minute: the client paces itself at
    # 10 ms and pauses when the headers say the window is spent, so the server never refuses.
    with FakeOpenAIServer(people_like, rate_window=(8, 0.6)) as srv:
        code = _run(srv, tmp_path / "r", tmp_path / "c", monkeypatch, ["ultimatum"],
                    "--persona", "fair", "--concurrency", "1")
        limited, sent = srv.limited, srv.requests
    assert code == 0
    assert limited == 0 and sent == 42
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    limits = manifest["backend"]["rate_limits"]
    assert limits["requests"] == {"per_minute": 6000.0, "source": "headers"}
    assert limits["paused_seconds"] > 0  # 42 requests span at least 5 windows


def test_sixteen_in_flight_keep_to_the_announced_limit(tmp_path, monkeypatch):
    # 6 requests per 0.3 s, announced as 1000 per minute (a provider announces a little less
    # than it admits). The limit is learnt from the first reply, so the first 16 go at once
    # and up to 10 of them meet a 429 (retried, honouring retry-after-ms); from then on the
    # client paces its 16 workers at 60 ms and no window is overrun. Nothing is lost.
    with FakeOpenAIServer(people_like, rate_window=(6, 0.3), announced_rpm=1000,
                          retry_after_ms=50) as srv:
        code = _run(srv, tmp_path / "r", tmp_path / "c", monkeypatch, ["ultimatum"],
                    "--persona", "fair", "--concurrency", "16")
        limited = srv.limited
    assert code == 0 and limited <= 16, limited
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["calls"]["failed_calls"] == 0
    assert manifest["calls"]["model_calls"] == 42


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--rpm", "0", "--rpm: must be more than 0"),
    ("--tpm", "-5", "--tpm: must be more than 0"),
    ("--rpm", "inf", "--rpm: must be more than 0 and at most 1,000,000,000 requests"),
    ("--rpm", "lots", "argument --rpm: invalid float value: 'lots'"),
])
def test_bad_rate_limits_are_one_line_and_exit_2(tmp_path, capsys, flag, value, says):
    try:
        code = main(["run", "ultimatum", "--model", "openai:capable", "--base-url",
                     "http://127.0.0.1:9/v1", flag, value, "--out", str(tmp_path / "r")])
    except SystemExit as exc:  # argparse's own one line
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err


def test_a_rate_limit_means_nothing_to_a_local_model(tmp_path, capsys):
    code = main(["run", "ultimatum", "--model", "scripted:human", "--rpm", "60",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "takes no --rpm" in err, err


def test_four_studies_sampled_against_a_rate_limited_server_make_a_report(tmp_path,
                                                                         monkeypatch):
    studies = {"ultimatum": "fair", "marshmallow": "age-4", "double_or_nothing": "stake-100",
               "procrastination": "gpa-3.5"}
    personas = [a for name in studies.values() for a in ("--persona", name)]
    with FakeOpenAIServer(people_like, rate_window=(10, 0.25), announced_rpm=1800,
                          json_schema=True, retry_after_ms=20) as srv:
        code = _run(srv, tmp_path / "r", tmp_path / "c", monkeypatch, list(studies),
                    "--method", "sample", "--samples", "2", "--concurrency", "8", *personas)
        limited, sent = srv.limited, srv.requests
    assert code == 0
    summary = _read(tmp_path / "r", "summary.json")
    assert len(summary["experiments"]) == 4 and "failed_calls" not in summary
    assert all(e["method"] == "sample" for e in summary["experiments"].values())
    manifest = _read(tmp_path / "r", "manifest.json")
    assert manifest["backend"]["rate_limits"]["requests"]["source"] == "headers"
    # Paced at 33 ms, 7.5 a window on average; replies that bunch up on a loaded machine can
    # still overrun a window now and then: those few 429s are retried.
    assert manifest["calls"]["failed_calls"] == 0 and limited <= 0.1 * sent, (limited, sent)
    assert all(e["title"] in _read(tmp_path / "r", "report.html")
               for e in summary["experiments"].values())
