"""``mlgitops-drift``: one drift check, configured by the CronJob's environment variables and,
for the model's own settings, its arguments (``--model=iris``: each stands for a variable).

Exit status: 0 when every feature was scored and pushed (drifted or not: the alert and the
retraining trigger report drift, not the exit status); 1 when the data could not be read or
scored, the Pushgateway or the CI API failed; 2 when a variable of the contract is missing.
Every failure is reported on stderr and, when the Pushgateway is known, pushed as a failed run
(``mlgitops_drift_last_run_success 0``), never a silent pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Mapping

from mlgitops_drift import __version__, data, pushgateway, retrain, scores, settings
from mlgitops_drift.pushgateway import (
    LAST_RUN,
    LAST_RUN_SUCCESS,
    LAST_SUCCESS,
    RETRAIN_TRIGGERED,
    PushError,
    Sample,
)

EXIT_FAILED, EXIT_USAGE = 1, 2


def compute_scores(config: settings.Settings, now: dt.datetime) -> dict[str, float]:
    """Each feature's score, in the spec's order; a DataError when any feature cannot be scored."""
    reference = data.read_table([config.reference_uri], config.features)
    if reference is None or reference.num_rows == 0:
        raise data.DataError(f"the reference data at {config.reference_uri} holds no rows")
    uris = data.window_uris(config.current_uri, now, config.window_seconds, config.model, config.environment)
    current = data.read_table(uris, config.features)
    if current is None or current.num_rows == 0:
        raise data.DataError(f"the current window is empty: no rows at {', '.join(uris)}")
    result: dict[str, float] = {}
    for feature in config.features:
        numeric = data.is_numeric(reference, feature)
        ref = data.feature_sample(reference, feature, numeric, "the reference")
        cur = data.feature_sample(current, feature, numeric, "the current window")
        if len(ref) == 0:
            raise data.DataError(f"feature {feature} has no value in the reference data")
        if len(cur) == 0:
            raise data.DataError(f"feature {feature} has no value in the current window")
        result[feature] = scores.score(config.method, ref, cur)
    return result


def run_samples(
    config: settings.Settings,
    labels: tuple[tuple[str, str], ...],
    now: float,
    succeeded: bool,
    previous: Mapping[str, float],
) -> list[Sample]:
    last_success = now if succeeded else previous.get(LAST_SUCCESS)
    samples = [Sample(LAST_RUN, labels, now), Sample(LAST_RUN_SUCCESS, labels, 1.0 if succeeded else 0.0)]
    if last_success is not None:
        samples.append(Sample(LAST_SUCCESS, labels, last_success))
    return samples


def check(config: settings.Settings, now: float) -> int:
    """One run: read, score, maybe retrain, push. Raises on failures the caller reports."""
    group_labels = (("model", config.model), ("environment", config.environment))
    previous = pushgateway.read_group(config.pushgateway_url, config.model, config.environment)
    feature_scores = compute_scores(config, dt.datetime.fromtimestamp(now, dt.UTC))
    drifted = [f for f, value in feature_scores.items() if value > config.threshold]
    for feature, value in feature_scores.items():
        mark = "DRIFT" if feature in drifted else "ok"
        print(f"{config.method} {feature} = {value:.6g} ({mark}, threshold {config.threshold:g})")

    retrain_failure: retrain.RetrainError | None = None
    triggered = previous.get(RETRAIN_TRIGGERED)
    if config.retrain is not None and drifted:
        if retrain.cooldown_over(triggered, now, config.retrain.cooldown_seconds):
            try:
                retrain.trigger(config.retrain, config.model, config.environment, drifted)
                triggered = now
                print(f"retraining started ({config.retrain.provider}) for {', '.join(drifted)}")
            except retrain.RetrainError as error:
                retrain_failure = error
        else:
            print(f"retraining not started: last started at {triggered:.0f}, within the cooldown")

    samples = [
        Sample(config.metric, (*group_labels, ("feature", f), ("method", config.method)), value)
        for f, value in feature_scores.items()
    ]
    samples += run_samples(config, group_labels, now, retrain_failure is None, previous)
    if triggered is not None:
        samples.append(Sample(RETRAIN_TRIGGERED, group_labels, triggered))
    help_texts = {
        **pushgateway.HELP,
        config.metric: "Drift score of a feature: live inputs against the reference.",
    }
    payload = pushgateway.exposition(samples, help_texts)
    pushgateway.push(config.pushgateway_url, config.model, config.environment, payload, replace=True)
    if retrain_failure is not None:
        raise retrain_failure
    return 0


def report_failure(env: Mapping[str, str], now: float) -> None:
    """Push the failed run's metrics (POST: the last scores and last success stay)."""
    target = settings.push_target(env)
    if target is None:
        print(
            "mlgitops-drift: no failed-run metric pushed (Pushgateway, model or environment unset)",
            file=sys.stderr,
        )
        return
    url, model, environment = target
    labels = (("model", model), ("environment", environment))
    samples = [Sample(LAST_RUN, labels, now), Sample(LAST_RUN_SUCCESS, labels, 0.0)]
    try:
        pushgateway.push(
            url, model, environment, pushgateway.exposition(samples, pushgateway.HELP), replace=False
        )
    except PushError as error:
        print(f"mlgitops-drift: could not push the failed run either: {error}", file=sys.stderr)


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mlgitops-drift",
        description="Score live inputs against the reference and push the scores "
        "(configured by the MLGITOPS_* variables in docs/drift.md, or for the model's own "
        "settings by the arguments below, which win over them).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--now", type=float, default=None, help="Unix time of the run (default: now); the window ends there"
    )
    for name, variable in settings.ARGUMENTS.items():
        parser.add_argument(f"--{name}", metavar="VALUE", help=f"instead of {variable}")
    args = parser.parse_args(argv)
    given = {name: getattr(args, name.replace("-", "_")) for name in settings.ARGUMENTS}
    environ = settings.with_arguments(os.environ if env is None else env, given)
    now = time.time() if args.now is None else args.now
    try:
        config = settings.from_environment(environ)
    except settings.SettingsError as error:
        print(f"mlgitops-drift: {error}", file=sys.stderr)
        report_failure(environ, now)
        return EXIT_USAGE
    try:
        return check(config, now)
    except (data.DataError, PushError, retrain.RetrainError) as error:
        print(f"mlgitops-drift: {error}", file=sys.stderr)
        report_failure(environ, now)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
