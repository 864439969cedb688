"""`v2l evaluate ...`: the measurements behind the bars, written into the committed models' cards."""

from __future__ import annotations

import json
from typing import Optional

import typer

evaluate_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Measure the committed models and write the results into their cards.")


@evaluate_app.command("world")
def world(per_semantic: int = typer.Option(4, "--per-semantic", help="held-out first frames per training semantic"),
          steps: int = typer.Option(25, "--steps", help="sampling steps"),
          write: bool = typer.Option(True, "--write/--no-write", help="update the transformer's card")):
    """Base backbone (no LoRA) on held-out content: first-frame PSNR, judge confidence and coverage."""
    import torch

    from v2l.backbones import get_spec
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.evaluation.judge import VideoJudge
    from v2l.evaluation.world_bars import measure_backbone
    from v2l.pretrain.cards import update_metrics
    from v2l.pretrain.world import WorldConfig

    torch.manual_seed(0)
    metrics = measure_backbone(get_spec("tiny").default(), VideoJudge.load(TINY_WEIGHTS / "judge"), WorldConfig(),
                               per_semantic=per_semantic, steps=steps)
    if write:
        update_metrics(TINY_WEIGHTS / "transformer", metrics, section="base_world")
    typer.echo(json.dumps(metrics, indent=2))


@evaluate_app.command("steer")
def steer(semantics: str = typer.Option("pan_left,zoom_in,melt,sepia", "--semantics",
                                        help="seen semantics, comma-separated (at least 3 families)"),
          minutes: float = typer.Option(8.0, "--minutes", help="training budget per LoRA (the bar allows 10)"),
          samples: int = typer.Option(16, "--samples", help="held-out first frames judged per semantic"),
          write: bool = typer.Option(True, "--write/--no-write", help="update the transformer's card"),
          threads: Optional[int] = typer.Option(None, "--threads")):
    """The old way: a standard rank-4 peft LoRA per semantic, then judge accuracy of its generations."""
    import torch

    from v2l.backbones import get_spec
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.baselines.per_condition import train_lora
    from v2l.evaluation.judge import VideoJudge
    from v2l.evaluation.world_bars import judged_accuracy
    from v2l.pretrain.cards import update_metrics
    from v2l.pretrain.world import WorldConfig

    if threads:
        torch.set_num_threads(threads)
    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    results = {}
    for name in [s.strip() for s in semantics.split(",") if s.strip()]:
        backbone = get_spec("tiny").default()
        base = judged_accuracy(backbone, judge, WorldConfig(), name, samples)
        run = train_lora(backbone, name, minutes=minutes, say=lambda m: typer.echo(m, err=True))
        run["judge_accuracy"] = judged_accuracy(backbone, judge, WorldConfig(), name, samples)
        run["base_judge_accuracy"] = base
        results[name] = run
        typer.echo(json.dumps(run), err=True)
    if write:  # merge with semantics measured by other runs, then summarise them all
        card = json.loads((TINY_WEIGHTS / "transformer" / "card.json").read_text())
        results = {**card["metrics"].get("per_condition_lora", {}).get("per_semantic", {}), **results}
    summary = {"per_semantic": results,
               "mean_judge_accuracy": sum(r["judge_accuracy"] for r in results.values()) / len(results),
               "mean_base_judge_accuracy": sum(r["base_judge_accuracy"] for r in results.values()) / len(results),
               "mean_train_seconds": sum(r["seconds"] for r in results.values()) / len(results)}
    if write:
        update_metrics(TINY_WEIGHTS / "transformer", summary, section="per_condition_lora")
    typer.echo(json.dumps(summary, indent=2))
