"""Command line: run, plan, batch, compare, check, list, export and cache.

``batch`` sends a run's calls through a provider's batch API; ``export`` writes a finished
run's datasets; ``cache export|import`` shares its cached answers. ``run --model A --model B``
runs each model under one plan and puts them side by side (:mod:`subrational.multimodel`).

Exit codes: 0 done; 1 a run-time failure (a server that kept failing); 2 a user mistake
(unknown names, bad values, missing keys or model files: one line, before any paid call); 3 the
run reached ``--max-cost`` and stopped; 4 the run finished and wrote its report, but some model
calls failed after their retries (the report marks the cells they leave incomplete); 130 Ctrl-C.
A run stopped by 3, 4 or 130 loses nothing that finished (the cache holds it) and resumes when
the same command is run again: only what is missing is asked.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from . import __version__
from .errors import SpendLimitReached, SubrationalError

EXIT_FAILED_CALLS = 4
"""Exit code of a run that finished but has calls that failed after their retries."""

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        """Print one line that says what to do next, exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _add_run_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument("experiments", nargs="*", metavar="EXPERIMENT",
                     help="experiments to run (default: all; see `subrational list`)")
    run.add_argument("--config", type=Path, help="TOML file of settings (flags override it)")
    run.add_argument("--model", action="append", help="backend:name, e.g. "
                     "transformers:smollm2 (default), openai:gpt-4o, "
                     "transformers:/path/model.gguf; `run` and `plan` take several (repeat "
                     "it): one run per model under --out, and one page side by side")
    run.add_argument("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    run.add_argument("--method", help="choice-probs (default) or sample")
    run.add_argument("--samples", type=int, help="draws per cell for --method sample (10)")
    run.add_argument("--temperature", type=float, help="sampling temperature (1.0)")
    run.add_argument("--max-tokens", type=int, help="tokens per sampled answer (160)")
    run.add_argument("--answers", help="API models, --method sample: structured (a JSON "
                     "schema with the options as an enum), text (the paper's free text) or auto "
                     "(default: structured for reasoning models known to take it, and on vLLM "
                     "and SGLang)")
    run.add_argument("--reasoning-effort", help="reasoning models: reasoning_effort to send "
                     "(none, minimal, low, medium, high, xhigh; default: the model's own)")
    run.add_argument("--reasoning-budget", type=int, help="reasoning models: completion tokens "
                     "for hidden reasoning on top of --max-tokens (8192; unused ones are free)")
    run.add_argument("--draws-per-request", type=int, help="API models, --method sample: draws "
                     "of one cell per request with the API's n (1: one request and seed per "
                     "draw)")
    run.add_argument("--smoothing", help="targets of --method sample: jeffreys (default: 1/2 "
                     "pseudo-draw per action, after pooling wordings and orders) or none")
    run.add_argument("--persona", action="append", dest="personas",
                     help="persona to elicit (repeatable; each study takes its own names and "
                     "keeps its defaults when none is its own)")
    run.add_argument("--population", metavar="FILE_OR_BUILTIN", help="people as the personas "
                     "of every study: a CSV, TOML or JSON file (one row per person: id, age, "
                     "gender, country, education, income, occupation, Big Five, gpa, stake) or "
                     "builtin:adults / builtin:children")
    run.add_argument("--population-size", type=int, help="people a builtin: population draws "
                     "(seeded by --seed)")
    run.add_argument("--paraphrases", type=int, help="use the first N wordings of each "
                     "study's instructions (default: all; N above a study's count is refused)")
    run.add_argument("--option", action="append", dest="option_args", metavar="STUDY.KEY=VALUE",
                     help="a study's constructor option, e.g. double_or_nothing.win_probs="
                     "0.5,0.8 or procrastination.deadline=14 (repeatable)")
    run.add_argument("--bootstrap", type=int, help="bootstrap replications per structural fit "
                     "and behind the findings' intervals (200)")
    run.add_argument("--episodes", type=int, help="rollouts per policy and persona for the "
                     "behaviour statistics of a game too large to enumerate exactly (2000)")
    run.add_argument("--loss", help="imitation loss: kl (default) or paper (squared error on "
                     "softmax outputs)")
    run.add_argument("--seed", type=int, help="seed for sampling and training (0)")
    run.add_argument("--concurrency", type=int, dest="max_concurrency",
                     help="requests in flight (remote) or batch size (local) (16)")
    run.add_argument("--timeout", type=float, metavar="SECONDS",
                     help="remote servers: seconds to answer one request before it is retried "
                     "(60)")
    run.add_argument("--rpm", type=float, metavar="N", help="remote APIs: requests per minute "
                     "at most (default: the provider's limit, read from its rate-limit "
                     "headers)")
    run.add_argument("--tpm", type=float, metavar="N", help="remote APIs: tokens per minute at "
                     "most, prompt plus output budget (default: the provider's, as --rpm)")
    run.add_argument("--dtype", help="local models: auto (default: float32 on a CPU for models "
                     "under 1B weights, bfloat16 on a GPU or for larger models), float32, "
                     "bfloat16")
    run.add_argument("--import", action="append", dest="imports", metavar="FILE_OR_MODULE",
                     help="import a Python file or module that registers your own experiments")
    run.add_argument("--out", type=Path, help="run directory (default: a new runs/<time>-<id>); "
                     "the same settings into the same directory resume it, a directory of "
                     "another run is refused")
    run.add_argument("--controls", action="store_true", help="also run the controls that "
                     "separate simulation from recall (no persona, an economist, placebo traits, "
                     "a disguised framing, a recall probe); `plan` shows their extra calls")
    run.add_argument("--factor", action="append", dest="factors", metavar="NAME",
                     help="also vary a design factor and report its share of the variance "
                     "(repeatable; crossed with each other): temperature (0.5 vs 1.0), "
                     "reasoning (a one-word answer vs think-then-answer) or placement (the "
                     "persona in the system vs the user message); `plan` shows their extra "
                     "calls")
    run.add_argument("--offline", action="store_true",
                     help="replay from the cache only; fail on any call not cached")
    run.add_argument("--max-cost", type=float, metavar="USD", help="stop cleanly (exit code "
                     "3, resumable) once this run has spent this many US dollars on model "
                     "calls, at the model's prices (see `subrational plan`)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar (or, "
                     "when stderr is not a terminal, the progress line every 10 s)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="subrational", description="Learn human-like decision policies from "
                     "persona-conditioned LLM demonstrations (arXiv 2402.08755).")
    parser.add_argument("--version", action="version", version=f"subrational {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run_arguments(sub.add_parser("run", help="elicit, learn, evaluate and write a report",
                                      argument_default=argparse.SUPPRESS))
    _add_run_arguments(sub.add_parser("plan", help="the calls, tokens and cost a run with "
                                      "these arguments would make, without calling the model",
                                      argument_default=argparse.SUPPRESS))
    compare = sub.add_parser("compare", help="put runs side by side in one HTML page")
    compare.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                         help="run directories (the --out of `subrational run`)")
    compare.add_argument("--out", type=Path, default=Path("compare.html"),
                         help="HTML file to write (default: compare.html)")
    check = sub.add_parser("check", help="check that games keep the contract (your own games: "
                           "--import my_game.py)")
    check.add_argument("experiments", nargs="*", metavar="EXPERIMENT",
                       help="games to check (default: those the imports register, else all)")
    check.add_argument("--import", action="append", dest="imports", default=[],
                       metavar="FILE_OR_MODULE", help="import your own experiments first")
    _add_batch_parser(sub)
    lister = sub.add_parser("list", help="experiments, personas, backends, methods and losses")
    lister.add_argument("--import", action="append", dest="imports", default=[],
                        metavar="FILE_OR_MODULE", help="import your own experiments first")
    from .export.commands import add_parsers

    add_parsers(sub)  # export, cache
    return parser


def _add_batch_parser(sub) -> None:
    """``subrational batch submit | status | collect`` (see :mod:`subrational.batch`)."""
    batch = sub.add_parser("batch", help="a run's missing calls through the OpenAI or "
                           "Anthropic batch API (half price), then `run --offline`")
    steps = batch.add_subparsers(dest="batch_command", required=True, parser_class=_Parser,
                                 metavar="{submit,status,collect}")
    submit = steps.add_parser("submit", help="send the calls a run with these arguments still "
                              "needs as one batch (sequential studies sampled: the next step "
                              "of their episodes)", argument_default=argparse.SUPPRESS)
    _add_run_arguments(submit)
    for action in submit._actions:
        if action.dest == "out":
            action.help = "batch folder for the state file (default: <cache dir>/batch)"
    submit.add_argument("--write", type=Path, metavar="FILE", help="only write the OpenAI "
                        "batch JSONL (also `vllm run-batch -i` input); send nothing")
    for name, text in (("status", "how far the last batch is"),
                       ("collect", "store the last batch's answers in the cache")):
        step = steps.add_parser(name, help=text)
        step.add_argument("--out", type=Path, metavar="DIR",
                          help="batch folder (default: <cache dir>/batch)")
        if name == "collect":
            step.add_argument("--file", type=Path, metavar="RESULTS.jsonl", help="read results "
                              "from this file (e.g. `vllm run-batch -o` output) instead of "
                              "the provider")


def _cmd_batch(args: argparse.Namespace, argv: list[str]) -> int:
    from .batch import commands

    out = getattr(args, "out", None)
    if args.batch_command == "status":
        print(commands.status(out=out))
        return 0
    if args.batch_command == "collect":
        record, done = commands.collect(out=out, file=args.file)
        print("\n".join(commands.describe_collect(record, done, out=out)))
        return 0
    from .config import build_config

    values, source, file_keys = _settings(args)
    values.pop("out", None)
    config = build_config(values, source=source, file_keys=file_keys)
    raw = argv[argv.index("submit") + 1:]
    sent = commands.submit(config, args=commands.run_args(raw), out=out,
                           write=getattr(args, "write", None))
    print("\n".join(commands.describe_submit(sent)))
    return 0


def _progress_bar(enabled: bool, *, stream=None):
    """``(update, close)``: a tqdm bar on a terminal, else a periodic line (nohup, tee, CI)."""
    stream = stream or sys.stderr
    if not enabled:
        return None, lambda: None
    if not stream.isatty():
        lines = _ProgressLines(stream)
        return lines.update, lines.close
    from tqdm import tqdm

    bar = tqdm(total=0, unit="call", desc="model calls", dynamic_ncols=True, file=stream)

    def update(done: int, total: int, label: str) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


class _ProgressLines:
    """One line every ``interval`` seconds while calls finish, where no bar can be drawn.

    ``subrational: 120/2344 model calls (5 %), 14 s``; a last line when the calls are done, if
    any line was printed. A fast run (a replay from the cache) prints nothing.
    """

    def __init__(self, stream, *, interval: float = 10.0, clock=None) -> None:
        import time

        self.stream, self.interval = stream, interval
        self.clock = clock or time.monotonic
        self.start = self.last = self.clock()
        self.printed = self.finished = False
        self.state = (0, 0, "model calls")

    def update(self, done: int, total: int, label: str) -> None:
        self.state = (done, total, label)
        finished = done >= total > 0
        if self.clock() - self.last >= self.interval or (finished and self.printed):
            if not self.finished:
                self._print()
            self.finished = finished

    def close(self) -> None:
        """Nothing to tidy: every line is complete when printed."""

    def _print(self) -> None:
        done, total, label = self.state
        now = self.clock()
        share = f" ({100 * done // total} %)" if total else ""
        print(f"subrational: {done}/{total} {label}{share}, {now - self.start:.0f} s",
              file=self.stream, flush=True)
        self.last, self.printed = now, True


def _option_value(text: str) -> object:
    """``14`` -> 14, ``0.5,0.8`` -> [0.5, 0.8], ``[1, 2]`` -> [1, 2], anything else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if "," in text:
            return [_option_value(part.strip()) for part in text.split(",")]
        return text


def _parse_options(specs: list[str]) -> dict[str, dict[str, object]]:
    from .errors import ConfigError

    options: dict[str, dict[str, object]] = {}
    for spec in specs:
        target, eq, value = spec.partition("=")
        study, dot, key = target.partition(".")
        if not (eq and dot and study and key):
            raise ConfigError(f"--option {spec!r}: write STUDY.KEY=VALUE, e.g. "
                              "double_or_nothing.win_probs=0.5,0.8")
        options.setdefault(study, {})[key] = _option_value(value)
    return options


def _settings(args: argparse.Namespace) -> tuple[dict[str, object], str, set[str]]:
    """Config-file settings overridden by the flags that were given.

    Returns the settings, where they came from, and the keys whose value is the file's (an
    error then names the key and the file, not a flag).
    """
    from .config import RunConfig, read_config_file

    given = {k: v for k, v in vars(args).items() if k in RunConfig.model_fields}
    if "model" in given:
        given["model"] = _one_model(given["model"])
    if "option_args" in args:
        given["options"] = _parse_options(args.option_args)
    if "config" not in args:
        return given, "the command line", set()
    values = read_config_file(args.config)
    if given.get("experiments") == []:  # no positional experiments: keep the file's
        given.pop("experiments")
    return {**values, **given}, str(args.config), set(values) - set(given)


def _one_model(models: str | list[str]) -> str:
    """The ``--model`` of a command that takes one (``batch submit``; each sub-run of ``run``)."""
    from .errors import ConfigError

    if isinstance(models, str):
        return models
    if len(models) > 1:
        raise ConfigError(f"--model given {len(models)} times; this command takes one model "
                          "(`run` and `plan` take several)")
    return models[0]


def _per_model(args: argparse.Namespace) -> list[argparse.Namespace]:
    """``args`` once per ``--model`` given (once, unchanged, when one or none is)."""
    models = getattr(args, "model", [])
    if len(models) <= 1:
        return [args]
    return [argparse.Namespace(**{**vars(args), "model": [m]}) for m in models]


def _cmd_run(args: argparse.Namespace) -> int:
    from .config import build_config
    from .pipeline import check_personas, check_plan, resolve_experiments, run

    if len(_per_model(args)) > 1:
        return _cmd_run_models(args)
    values, source, file_keys = _settings(args)
    config = build_config(values, source=source, file_keys=file_keys)
    experiments = resolve_experiments(config)
    check_personas(experiments, config.personas)  # fail before any work
    check_plan(experiments, config)
    fresh = "out" not in values
    if fresh:
        config = config.model_copy(update={"out": _new_run_dir(Path("runs"))})
    update, close = _progress_bar("no_progress" not in args)
    try:
        result = run(config, out=config.out, progress=update)
    except SubrationalError:
        if fresh:  # a run refused before it wrote anything leaves no empty runs/<time>-*/
            with contextlib.suppress(OSError):
                config.out.rmdir()
        raise
    finally:
        close()
    _print_summary(result)
    return _exit_code(result)


def _exit_code(result) -> int:
    """0, or :data:`EXIT_FAILED_CALLS` (said on stderr) when some calls failed."""
    failed = result.summary.get("failed_calls")
    if failed:
        print(f"subrational: {failed['calls']} model calls failed after their retries; the "
              f"report marks the cells they leave incomplete; {failed['retry']}",
              file=sys.stderr)
        return EXIT_FAILED_CALLS
    return 0


def _cmd_run_models(args: argparse.Namespace) -> int:
    """``run --model A --model B ...``: see :mod:`subrational.multimodel`."""
    from .config import build_config
    from .multimodel import check_models, describe_leaderboards, new_models_dir, run_models

    settings = [_settings(a) for a in _per_model(args)]
    configs = [build_config(v, source=s, file_keys=k) for v, s, k in settings]
    check_models(configs)  # every model, before any call or folder
    fresh = "out" not in settings[0][0]
    out = new_models_dir(Path("runs")) if fresh else configs[0].out
    codes: list[int] = []

    def done(result) -> None:
        print(f"== {result.summary['model']} ({result.out})")
        _print_summary(result)
        codes.append(_exit_code(result))

    update, close = _progress_bar("no_progress" not in args)
    try:
        models = run_models(configs, out=out, progress=update, on_done=done)
    except SubrationalError:
        if fresh:
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    finally:
        close()
    print("\n".join(describe_leaderboards(models.results)))
    print(f"report: {models.report}")
    return max(codes, default=0)


def _cmd_plan(args: argparse.Namespace) -> int:
    from .config import build_config
    from .plan import format_plan, make_plan

    plans = []
    for one in _per_model(args):
        values, source, file_keys = _settings(one)
        plans.append(make_plan(build_config(values, source=source, file_keys=file_keys)))
    print("\n\n".join(format_plan(p) for p in plans))
    return 0


def _new_run_dir(root: Path) -> Path:
    """A new, unique ``runs/<time>-<suffix>`` (see :func:`subrational.rundir.new_run_dir`)."""
    from .rundir import new_run_dir

    return new_run_dir(root)


def _print_summary(result) -> None:
    from .accounting import describe_spend
    from .evaluation.records import LEARNED_SOURCES

    calls = result.manifest["calls"]
    print(f"{calls['model_calls']} model calls ({calls.get('model_seconds', 0)} s in the model), "
          f"{calls['cache_hits']} from the cache; the run took {result.manifest['wall_seconds']} s")
    print(describe_spend(result.manifest["cost"]["total"]))
    marks = {True: "reproduced", False: "NOT reproduced", None: "not assessed"}
    for exp_id, exp in result.summary["experiments"].items():
        card = exp.get("scorecard", {})
        bands = card.get("human_bands", {}).get("demonstrations", {})
        prob = card.get("verdict_probability")
        gates = card.get("gates_failed") or []
        print(f"{exp_id}: {card.get('verdict', 'n/a')}"
              f"{f' (P = {prob:.2f})' if prob is not None else ''}"
              f"{'; gate failed: ' + '; '.join(gates) if gates else ''} (human bands passed by "
              f"the LLM: {bands.get('passed', 0)}/{bands.get('checked', 0)}"
              f"{'; form beats content' if card.get('form_beats_state') else ''})")
        for f in exp["findings"]:
            if f["kind"] in ("paper", "claim") and f["source"] in LEARNED_SOURCES:
                interval = f.get("interval")
                stat = f.get("statistic")
                shown = "" if stat is None else f" {stat:.3f}" + (
                    f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")
                how = f" ({f['outcome']})" if f.get("outcome") else ""
                print(f"  [{f['source']}] {f['claim']}:{shown} {marks[f['reproduced']]}{how}")
    print(f"report: {result.out / 'report.html'}")
    retries = calls.get("retries") or {}
    if retries.get("total"):
        kinds = ", ".join(f"{n} {kind}" for kind, n in retries["by_kind"].items())
        print(f"subrational: {retries['total']} retries ({kinds}); every answer kept was valid",
              file=sys.stderr)


def _cmd_compare(args: argparse.Namespace) -> int:
    from .reporting.compare import write_comparison

    path = write_comparison(args.runs, args.out)
    print(f"comparison of {len(args.runs)} runs: {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .experiments import import_plugins, latest_ids
    from .experiments.checks import check_experiment

    before = set(latest_ids().values())
    import_plugins(args.imports)
    names = args.experiments or [v for v in latest_ids().values() if v not in before] \
        or list(latest_ids().values())
    failed = 0
    for name in names:
        report = check_experiment(name)
        if report.ok:
            print(f"{report.experiment}: ok ({len(report.checks)} checks)")
        for problem in report.problems:
            print(f"{report.experiment}: {problem}")
        failed += not report.ok
    if failed:
        print(f"subrational: {failed} of {len(names)} games fail the checks; fix the lines above",
              file=sys.stderr)
    return 1 if failed else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .backends.registry import BACKENDS
    from .elicitation import METHODS
    from .experiments import import_plugins, latest_ids, make
    from .experiments.registry import option_names
    from .factors.levels import FACTOR_NAMES, LEVELS
    from .learning import LOSSES

    import_plugins(args.imports)
    print("experiments:")
    for short, vid in latest_ids().items():
        exp = make(vid)
        print(f"  {short:<20} {vid:<24} {exp.title}")
        print(f"  {'':<20} personas: {', '.join(exp.personas)}")
        options = option_names(vid)
        if options:
            print(f"  {'':<20} options (--option {short}.KEY=VALUE): {', '.join(options)}")
    print("backends (--model backend:name):")
    for name, (_, _, text) in BACKENDS.items():
        print(f"  {name:<20} {text}")
    print(f"methods: {', '.join(METHODS)}")
    print(f"losses: {', '.join(LOSSES)}")
    print("design factors (--factor NAME): " + "; ".join(
        f"{name} ({' vs '.join(str(x) for x in LEVELS[name])})" for name in FACTOR_NAMES))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``subrational`` console script."""
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = _parser().parse_args(argv)
        from .export.commands import COMMANDS as EXPORT_COMMANDS

        commands = {"run": _cmd_run, "plan": _cmd_plan, "compare": _cmd_compare,
                    "check": _cmd_check, "list": _cmd_list, **EXPORT_COMMANDS,
                    "batch": lambda a: _cmd_batch(a, argv)}
        return commands[args.command](args)
    except SpendLimitReached as exc:  # not an error: the run did what it was told
        print(f"subrational: {exc}", file=sys.stderr)
        return exc.exit_code
    except SubrationalError as exc:
        print(f"subrational: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("subrational: interrupted; finished model calls are cached: run the same command "
              "again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
