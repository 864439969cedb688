"""The `v2l` command line (typer). Errors caused by input print one line and exit 2, no traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from v2l.cli.errors import OneLineErrors, handles_errors
from v2l.cli.errors import say as _say
from v2l.cli.options import (
    PROMPT_MAX_CHARS,
    count_option,
    float_option,
    frames_option,
    seed_option,
    steps_option,
    text_option,
)
from v2l.cli.reference_options import fps_option, given, start_option, window_option

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    cls=OneLineErrors,
    help="Video2LoRA: turn a reference video into a tiny LoRA for a frozen CogVideoX I2V backbone.",
)


@app.callback()
def _verbosity(
    verbose: bool = typer.Option(False, "--verbose", help="show the libraries' logging and progress bars"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress messages on stderr, only warnings and errors"),
):
    from v2l.cli.verbosity import set_verbosity, show_messages_for

    set_verbosity(verbose)
    show_messages_for(verbose, quiet)


def _load_model(checkpoint: Optional[Path], preset: str, backbone_weights: Optional[Path]):
    from v2l.model import default_model

    model = default_model(checkpoint, preset, backbone_weights)
    if model.backbone.random_weights:
        _say(
            f"note: backbone {preset!r} is not fully trained ({model.backbone.source}; the rest is the "
            f"deterministic random init); outputs show the pipeline working, not learned semantics"
        )
    if model.random_weights:
        _say("note: hypernetwork is the deterministic random init (no --checkpoint and no trained one committed yet)")
    return model


CheckpointOpt = typer.Option(None, "--checkpoint", help="v2l checkpoint directory (config.json + model.safetensors)")
PresetOpt = text_option("tiny", "--preset", help="backbone preset: tiny or cogvideox-5b-i2v")
WeightsOpt = typer.Option(None, "--backbone-weights", help="local diffusers-layout backbone folder (for real presets)")
# How the reference clip is sampled in time: the options every reference-reading command shares.
StartOpt, RefFpsOpt, WindowOpt = start_option(), fps_option(), window_option()
ModelOpt = text_option(
    None,
    "--model",
    help="registered hypernetwork instead of --checkpoint: "
    "models:/v2l-hypernet@champion or models:/v2l-hypernet/VERSION (needs MLFLOW_TRACKING_URI)",
)


@app.command()
@handles_errors
def info(
    preset: str = text_option("tiny", "--preset", help="backbone preset: tiny or cogvideox-5b-i2v"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
):
    """Sizes of a preset's LoRA, aux matrices and hypernetwork, computed on the meta device."""
    from v2l.info import preset_info

    data = preset_info(preset)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        typer.echo(f"{key:24s} {value}")


@app.command()
@handles_errors
def predict(
    reference: Path = typer.Option(..., "--reference", help="reference video (mp4 or any ffmpeg format)"),
    out: Path = typer.Option(..., "--out", help="LoRA file to write (.safetensors)"),
    fmt: str = text_option("compact", "--format", help="compact | diffusers | kohya"),
    checkpoint: Optional[Path] = CheckpointOpt,
    preset: str = PresetOpt,
    backbone_weights: Optional[Path] = WeightsOpt,
    start: Optional[float] = StartOpt,
    fps: Optional[float] = RefFpsOpt,
    window: Optional[str] = WindowOpt,
    model_spec: Optional[str] = ModelOpt,
):
    """Predict the LoRA of one reference video (one hypernetwork pass)."""
    from v2l.errors import V2LError
    from v2l.inference.predict import predict_lora, write_lora
    from v2l.lora.files import FORMATS
    from v2l.video.timing import sampling_from_options

    if fmt not in FORMATS:
        raise V2LError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    sampling = sampling_from_options(start, fps, window)
    from v2l.registry import checkpoint_for

    checkpoint = checkpoint_for(checkpoint, model_spec)
    model = _load_model(checkpoint, preset, backbone_weights)
    lora = predict_lora(model, reference, sampling=sampling)
    path = write_lora(out, lora, model, fmt)
    typer.echo(f"wrote {fmt} LoRA {path} ({path.stat().st_size} bytes, {len(model.network)} modules)")


@app.command()
@handles_errors
def generate(
    image: Path = typer.Option(..., "--image", help="first frame (PNG/JPEG) to animate"),
    prompt: str = text_option(..., "--prompt", max_chars=PROMPT_MAX_CHARS, help="content caption"),
    out: Path = typer.Option(..., "--out", help="mp4 to write"),
    reference: Optional[Path] = typer.Option(None, "--reference", help="reference video to take the semantic from"),
    lora: Optional[Path] = typer.Option(
        None, "--lora", help="compact LoRA from `v2l predict` (instead of --reference)"
    ),
    scale: Optional[float] = float_option(
        None, "--scale", lo=-10.0, hi=10.0, help="effective LoRA scale (default: the trained scale)"
    ),
    seed: int = seed_option(),
    frames: Optional[int] = frames_option(None, help="frame count, 8k+1 (default: the preset's)"),
    steps: int = steps_option(25),
    guidance: float = float_option(1.0, "--guidance", lo=0.0, hi=50.0, help="classifier-free guidance scale (1 = off)"),
    no_lora: bool = typer.Option(False, "--no-lora", help="the base backbone alone"),
    checkpoint: Optional[Path] = CheckpointOpt,
    preset: str = PresetOpt,
    backbone_weights: Optional[Path] = WeightsOpt,
    start: Optional[float] = StartOpt,
    fps: Optional[float] = RefFpsOpt,
    window: Optional[str] = WindowOpt,
    model_spec: Optional[str] = ModelOpt,
):
    """Generate a video from a first frame, steered by a reference video's LoRA."""
    from v2l.errors import V2LError
    from v2l.inference.generate import generate as run
    from v2l.inference.predict import stored_lora
    from v2l.lora.files import check_compatible, load_compact
    from v2l.video.io import FRAME_STEP, frame_count_hint, is_valid_frame_count, load_image, write_video
    from v2l.video.pixels import video_to_frames
    from v2l.video.timing import sampling_from_options

    if sum(x is not None for x in (reference, lora)) + no_lora != 1:
        raise V2LError("pass exactly one of --reference VIDEO, --lora FILE or --no-lora")
    sampling = sampling_from_options(start, fps, window)
    if reference is None and given(start, fps, window):
        raise V2LError(
            "--start, --fps and --window choose how a --reference video is sampled; pass --reference VIDEO "
            "or leave them out"
        )
    if frames is not None and not is_valid_frame_count(frames):
        raise V2LError(
            f"--frames {frames} is not {FRAME_STEP}k+1 (CogVideoX's VAE decodes an even number of "
            f"latent frames to the wrong length); use {frame_count_hint()}"
        )
    from v2l.registry import checkpoint_for

    checkpoint = checkpoint_for(checkpoint, model_spec)
    model = _load_model(checkpoint, preset, backbone_weights)
    spec = model.backbone.spec
    first = load_image(image, spec.height, spec.width)
    A = B = None
    if reference is not None:
        # The LoRA `v2l predict` would write, rounded as its file stores it: the same video as --lora that file.
        compact = stored_lora(model, reference, sampling=sampling)
        A, B = compact.A_pred[None], compact.B_pred[None]
    elif lora is not None:
        compact = load_compact(lora)
        check_compatible(compact, model, source=f"LoRA file {lora}")
        A, B = compact.A_pred[None].float(), compact.B_pred[None].float()
        scale = compact.scale if scale is None else scale  # the file's own scale (`v2l lora scale` sets it)
    video = run(
        model, first[None], [prompt], A, B, scale=scale, num_frames=frames, steps=steps, guidance=guidance, seed=seed
    )
    path = write_video(out, video_to_frames(video[0]), fps=spec.fps)
    typer.echo(f"wrote {path} ({video.shape[2]} frames, {spec.height}x{spec.width}, seed {seed})")


@app.command()
@handles_errors
def models(as_json: bool = typer.Option(False, "--json", help="print JSON")):
    """The committed models: verifies each file's sha256 against its card and prints its metrics."""
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.cards.card import committed_cards
    from v2l.cards.lineage import stale_upstream

    rows = []
    for directory, card, error in committed_cards(TINY_WEIGHTS):
        # Each file can match its card while the model was trained on an upstream model no longer committed.
        error = error or stale_upstream(TINY_WEIGHTS, directory.name, card)
        rows.append(
            {
                "model": directory.name,
                "path": str(directory),
                "ok": error is None,
                "error": error,
                **(
                    {
                        k: card[k]
                        for k in ("name", "command", "data_version", "seed", "wall_minutes", "files", "metrics", "bars")
                    }
                    if card
                    else {}
                ),
                **({"built_on": card["built_on"]} if card and "built_on" in card else {}),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        if not rows:
            typer.echo(f"no committed models under {TINY_WEIGHTS}: the tiny preset runs on its random init")
        for row in rows:
            status = "ok" if row["ok"] else f"REFUSED: {row['error']}"
            typer.echo(f"{row['model']:14s} {status}")
            for k, v in (row.get("metrics") or {}).items():
                typer.echo(f"    {k}: {v}")
    if any(not r["ok"] for r in rows):
        raise typer.Exit(1)


@app.command()
@handles_errors
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="output folder"),
    steps: int = steps_option(25),
    pairs_per_semantic: int = count_option(2, "--pairs-per-semantic", hi=10_000, help="size of the demo corpus"),
    train_steps: int = count_option(
        10, "--train-steps", lo=0, hi=100_000_000, help="hypernetwork steps on Ray Train (0: skip)"
    ),
):
    """End to end on the tiny default: corpus -> brief Ray training -> LoRA in every format -> generated video."""
    from v2l.demo import run_demo

    for label, path in run_demo(
        out, steps=steps, pairs_per_semantic=pairs_per_semantic, train_steps=train_steps
    ).items():
        typer.echo(f"{label:22s} {path}")


@app.command("export-pipeline")
@handles_errors
def export_pipeline(
    out: Path = typer.Argument(..., help="folder to write (new or a previous export)"),
    preset: str = PresetOpt,
    backbone_weights: Optional[Path] = WeightsOpt,
):
    """The backbone as a standard diffusers folder: CogVideoXImageToVideoPipeline.from_pretrained(DIR) loads it
    without v2l, and a library's diffusers LoRA loads into it with load_lora_weights."""
    from v2l.backbones.export import export_pipeline as run

    path = run(out, preset, backbone_weights)
    typer.echo(
        f"wrote {path} (model_index.json, transformer, vae, text_encoder, tokenizer, scheduler; usage in "
        f"{path / 'README.md'})"
    )


from v2l.cli.data import content_app, data_app  # noqa: E402
from v2l.cli.evaluate import evaluate_app  # noqa: E402
from v2l.cli.pretrain import pretrain_app  # noqa: E402
from v2l.cli.train import train  # noqa: E402

app.add_typer(data_app, name="data")
app.add_typer(content_app, name="content")
app.add_typer(pretrain_app, name="pretrain")
app.add_typer(evaluate_app, name="evaluate")
app.command("train")(handles_errors(train))
# Every sub-app command reports V2LError like the top-level ones: the same one-line error, not a traceback.
for _sub in (data_app, content_app, pretrain_app, evaluate_app):
    for _cmd in _sub.registered_commands:
        _cmd.callback = handles_errors(_cmd.callback)


from v2l.cli.library import library_app  # noqa: E402
from v2l.cli.lora import lora_app  # noqa: E402

app.add_typer(library_app, name="library")
app.add_typer(lora_app, name="lora")
for _cmd in library_app.registered_commands + lora_app.registered_commands:
    _cmd.callback = handles_errors(_cmd.callback)
from v2l.cli.eval import eval_command  # noqa: E402

app.command("eval")(handles_errors(eval_command))


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
