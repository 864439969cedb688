"""`v2l train`: the Ray Train hypernetwork job from a YAML config."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from v2l.cli.options import max_steps_option, workers_option


def train(
    config: Path = typer.Option(Path("pipelines/configs/tiny.yaml"), "--config", help="YAML training config"),
    workers: Optional[int] = workers_option(None, help="Ray Train workers (overrides the config)"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="continue from the run's last checkpoint"),
    max_steps: Optional[int] = max_steps_option(),
):
    """Train the hypernetwork on Ray Train, tracked in MLflow, checkpointed and resumable."""
    from v2l.training.config import load_config
    from v2l.training.ray_fit import fit

    cfg = load_config(config, max_steps=max_steps)
    if workers is not None:
        cfg = cfg.model_copy(update={"ray": cfg.ray.model_copy(update={"workers": workers})})
    result = fit(cfg, resume=resume)
    typer.echo(
        f"finished at step {result.metrics.get('step') if result.metrics else '?'}; "
        f"checkpoint: {result.checkpoint.path if result.checkpoint else 'none'}; "
        f"MLflow: {cfg.tracking_uri}"
    )
