"""The MLflow model registry of hypernetworks: registering an evaluated checkpoint behind the champion gate, and
resolving `models:/v2l-hypernet@champion` (or `models:/v2l-hypernet/3`) to a local checkpoint folder.

Gate: alias `champion` moves to a new version only when its seen-split true-reference judge accuracy beats the
current champion's and its zero-shot true-reference accuracy is not worse beyond the intervals (its interval's top
is not below the champion's interval's bottom); otherwise the version gets alias `challenger`. With no registry
configured (no MLFLOW_TRACKING_URI, no --tracking-uri), the committed tiny hypernetwork is the default model.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from v2l.atomic import swap_dir
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.errors import V2LError
from v2l.saved_model import weights_path

MODEL_NAME = "v2l-hypernet"
# weights.safetensors: checkpoints written before v2l.saved_model
CHECKPOINT_FILES = (
    "model.safetensors",
    "weights.safetensors",
    "config.json",
    "card.json",
    "README.md",
    "train_config.json",
)
_SPEC = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w\-]+)|/(?P<version>\d+))$")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _client(tracking_uri: str | None):
    import mlflow

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise V2LError(
            "no model registry configured: set MLFLOW_TRACKING_URI to the store `v2l eval --register` "
            "wrote (e.g. sqlite:////abs/path/mlflow.db), or pass a checkpoint folder instead"
        )
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri), uri


def resolve_model(spec: str | Path, tracking_uri: str | None = None, cache: str | Path | None = None) -> Path:
    """A checkpoint folder for `spec`: a folder as is, or a registered version (`models:/NAME@ALIAS`,
    `models:/NAME/VERSION`) downloaded to `cache` (default ~/.cache/v2l/models) and checked against its tags."""
    text = str(spec)
    match = _SPEC.match(text)
    if match is None:
        if text.startswith("models:"):
            raise V2LError(
                f"--model {text!r}: write models:/NAME@ALIAS or models:/NAME/VERSION, "
                f"e.g. models:/{MODEL_NAME}@champion"
            )
        path = Path(text)
        if not weights_path(path).is_file():
            raise V2LError(
                f"--model {text}: not a checkpoint folder (model.safetensors + config.json) and not "
                f"models:/{MODEL_NAME}@champion"
            )
        return path
    import mlflow
    from mlflow.exceptions import MlflowException

    client, uri = _client(tracking_uri)
    name = match["name"]
    try:
        mv = (
            client.get_model_version_by_alias(name, match["alias"])
            if match["alias"]
            else client.get_model_version(name, match["version"])
        )
    except MlflowException as exc:
        raise V2LError(
            f"--model {text}: not in the registry at {uri} ({exc.message.splitlines()[0]}); "
            f"register one with `v2l eval --register`"
        ) from None
    root = Path(cache or os.environ.get("V2L_MODEL_CACHE") or Path.home() / ".cache" / "v2l" / "models")
    dest = root / name / str(mv.version)
    expected = mv.tags.get("weights_sha256")
    if not (weights_path(dest).is_file() and _sha256(weights_path(dest)) == expected):
        import shutil
        import tempfile

        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".dl-{mv.version}-", dir=dest.parent))
        try:  # download beside the cache entry, then swap it in: a killed download leaves no half folder
            local = mlflow.artifacts.download_artifacts(artifact_uri=mv.source, dst_path=str(staging), tracking_uri=uri)
            swap_dir(Path(local), dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if expected and _sha256(weights_path(dest)) != expected:
        raise V2LError(
            f"--model {text}: downloaded weights do not match the version's weights_sha256; the "
            f"registry's artifacts were changed: re-register the checkpoint"
        )
    return dest


def checkpoint_for(checkpoint: Path | None, model: str | None) -> Path | None:
    """The CLI's `--checkpoint DIR` or `--model SPEC` (at most one): the checkpoint folder to load, or None for
    the default model."""
    if checkpoint is not None and model is not None:
        raise V2LError("pass --checkpoint DIR or --model models:/NAME@ALIAS, not both")
    return resolve_model(model) if model is not None else checkpoint


def gate(new: dict, champion: dict | None) -> tuple[str, str]:
    """(alias, reason) for a new version's headline numbers against the champion's (tags of floats)."""
    if new.get("seen_true_ref") is None:
        raise V2LError("--register needs the seen split in the evaluation (--split all or seen,zeroshot)")
    if champion is None:
        return "champion", "no champion yet"
    c_seen = float(champion["seen_true_ref"])
    if not new["seen_true_ref"] > c_seen:
        return "challenger", (
            f"seen true-reference accuracy {new['seen_true_ref']:.3f} does not beat the champion's {c_seen:.3f}"
        )
    if champion.get("zeroshot_true_ref_ci_low") is not None:
        if new.get("zeroshot_true_ref_ci_high") is None:
            return "challenger", "no zero-shot numbers to compare with the champion's: evaluate --split all"
        if worse_beyond_intervals(new, champion, "zeroshot_true_ref"):
            return "challenger", (
                f"zero-shot accuracy worse beyond the intervals (top {new['zeroshot_true_ref_ci_high']:.3f}"
                f" < champion's bottom {float(champion['zeroshot_true_ref_ci_low']):.3f})"
            )
    return "champion", (
        f"seen true-reference accuracy {new['seen_true_ref']:.3f} beats {c_seen:.3f}; zero-shot "
        f"not worse beyond the intervals"
    )


def worse_beyond_intervals(new: dict, champion: dict, key: str) -> bool:
    """The new headline number's 95 % interval lies wholly below the champion's (tags may be strings)."""
    high, low = new.get(f"{key}_ci_high"), champion.get(f"{key}_ci_low")
    return high is not None and low is not None and float(high) < float(low)


def regressions(new: dict, champion: dict | None) -> list[str]:
    """One line per headline number (seen or zero-shot true-reference accuracy) that regressed against the
    champion: the evaluation check's ERROR case. A smaller mean inside the intervals is not one (the gate then
    keeps the champion and calls the new version a challenger)."""
    if not champion:
        return []
    return [
        f"{key}: interval top {float(new[key + '_ci_high']):.3f} is below the champion's bottom "
        f"{float(champion[key + '_ci_low']):.3f}"
        for key in ("seen_true_ref", "zeroshot_true_ref")
        if worse_beyond_intervals(new, champion, key)
    ]


def champion_tags(client, name: str = MODEL_NAME, exclude_run: str | None = None) -> dict | None:
    """The current champion's tags, or None (no champion, or the champion is the run `exclude_run` itself)."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        return None
    if exclude_run is not None and mv.tags.get("run_id") == exclude_run:
        return None
    return {**mv.tags, "version": mv.version}


def headline_tags(summary: dict) -> dict[str, float]:
    out = {}
    for split, arm, metric, key in (
        ("seen", "true_ref", "judge_acc", "seen_true_ref"),
        ("seen", "wrong_ref", "judge_acc", "seen_wrong_ref"),
        ("zeroshot", "true_ref", "judge_acc", "zeroshot_true_ref"),
        ("real", "true_ref", "judge_agreement", "real_agreement"),
    ):
        entry = summary["splits"].get(split, {}).get("arms", {}).get(arm)
        if entry and entry["all"][metric]["n"]:
            s = entry["all"][metric]
            out.update({key: s["mean"], f"{key}_ci_low": s["ci95"][0], f"{key}_ci_high": s["ci95"][1]})
    return out


def register_evaluation(client, run_id: str, summary: dict, checkpoint: Path | None, name: str = MODEL_NAME) -> dict:
    """Log the checkpoint's files into the run, create a version of `name`, and set champion or challenger."""
    from mlflow.exceptions import MlflowException

    folder = Path(checkpoint) if checkpoint is not None else TINY_WEIGHTS / "hypernet"
    new = headline_tags(summary)
    if new.get("seen_true_ref") is None:
        gate(new, None)  # raises: nothing to gate on
    for f in CHECKPOINT_FILES:
        if (folder / f).is_file():
            client.log_artifact(run_id, str(folder / f), "hypernet")
    try:
        client.create_registered_model(name, description="Video2LoRA hypernetworks evaluated by `v2l eval`")
    except MlflowException:
        pass  # exists already
    try:
        current = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        current = None
    champion = {k: v for k, v in current.tags.items()} if current is not None else None
    alias, reason = gate(new, champion)
    source = f"{client.get_run(run_id).info.artifact_uri}/hypernet"
    tags = {
        **{k: f"{v:.6f}" for k, v in new.items()},
        "run_id": run_id,
        "hypernet_version": summary["model"]["version"],
        "weights_sha256": _sha256(weights_path(folder)),
        "gate_decision": alias,
        "gate_reason": reason,
    }
    mv = client.create_model_version(name, source, run_id=run_id, tags=tags)
    client.set_registered_model_alias(name, alias, mv.version)
    for k, v in (("registered_version", mv.version), ("gate_decision", alias), ("gate_reason", reason)):
        client.set_tag(run_id, k, str(v))
    return {
        "name": name,
        "version": int(mv.version),
        "alias": alias,
        "reason": reason,
        "previous_champion": int(current.version) if current is not None else None,
    }
