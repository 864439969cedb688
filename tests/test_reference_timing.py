"""Real reference clips as users have them: sampled at the model's rate from a window, decoded despite faulty
metadata, refused with a fix that works, and turned into one LoRA whichever command path is used."""

from __future__ import annotations

import shlex
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from skimage.registration import phase_cross_correlation

from v2l.data.curation.ffmpeg_exe import ffmpeg_exe
from v2l.errors import BadVideoError, V2LError
from v2l.inference.predict import load_reference, predict_lora, stored_lora, write_lora
from v2l.video.io import MetadataWarning, decode_frames, write_video
from v2l.video.sample import pan_clip
from v2l.video.timing import ReferenceSampling, TimingWarning, sample_clip

FPS, SECONDS, STEP = 30, 10, 1  # a 10 s pan at 30 fps, 1 px per source frame: 3.75 px per 0.125 s


@pytest.fixture(scope="module")
def long_pan(tmp_path_factory):
    """A real mp4 from the project's writer: a 48 px window sliding right over a photo for 10 s at 30 fps."""
    clip = pan_clip("astronaut", frames=FPS * SECONDS, size=48, step=STEP)
    return write_video(tmp_path_factory.mktemp("pan") / "pan_10s_30fps.mp4", clip, fps=FPS), clip


def _shifts(frames: torch.Tensor) -> np.ndarray:
    """Horizontal content shift (px) between consecutive frames of (3, F, H, W) in [-1, 1]."""
    grey = frames.mean(0).numpy()
    return np.array(
        [phase_cross_correlation(grey[i], grey[i + 1], upsample_factor=20)[0][1] for i in range(grey.shape[0] - 1)]
    )


def _source_indices(frames: torch.Tensor, clip: np.ndarray) -> np.ndarray:
    """Which source frame each received frame (3, F, H, W) in [-1, 1] is (the nearest, in mean abs difference)."""
    got = ((frames.permute(1, 2, 3, 0) + 1) * 127.5).numpy()
    src = clip.astype(np.float32)
    return np.array([int(np.argmin(np.abs(src - g).mean(axis=(1, 2, 3)))) for g in got])


def _check_pan(frames: torch.Tensor) -> None:
    assert tuple(frames.shape) == (3, 9, 48, 48)
    # 0.125 s apart: the pan moves 30 px/s * 0.125 s = 3.75 px between received frames (the old squeeze: ~37 px);
    # each is the nearest 30 fps frame, so single steps are 3 or 4 source frames, 3.75 on average.
    shifts = _shifts(frames)
    assert np.all(np.abs(shifts - 3.75) < 1.0) and abs(shifts.mean() - 3.75) < 0.2, shifts


def test_long_pan_reaches_the_hypernetwork_at_8_fps(long_pan, tiny_model):
    path, clip = long_pan
    seen = []
    original = tiny_model.predict_factors

    def spy(frames):  # the real hypernetwork pass; only records its input
        seen.append(frames.clone())
        return original(frames)

    tiny_model.predict_factors = spy
    with pytest.warns(
        TimingWarning,
        match=r"took 9 frames at 8 fps from \d\.\d\d-\d\.\d\d s \(the most moving window "
        r"of a 10\.00 s clip at 30 fps",
    ):
        predict_lora(tiny_model, path)  # the default window: motion
    with pytest.warns(TimingWarning, match=r"from 4\.4\d-5\.4\d s \(the middle of a 10\.00 s clip at 30 fps"):
        predict_lora(tiny_model, path, sampling=ReferenceSampling(window="middle"))
    # The default window lies where the photo is most textured, where phase correlation can lock onto a repeat:
    # its spacing is checked on which source frames were received; the middle one's on the pan as well.
    for frames in (seen[0][0], seen[1][0]):
        steps = np.diff(_source_indices(frames, clip))
        assert set(steps.tolist()) <= {3, 4} and abs(steps.mean() - 3.75) < 0.2, steps
    _check_pan(seen[1][0])
    frames = seen[1][0]
    # Taken from the middle: the first frame is the source frame shown at (10 - 1) / 2 s.
    first = ((frames[:, 0].permute(1, 2, 0) + 1) * 127.5).numpy()
    errors = [np.abs(first - clip[i].astype(float)).mean() for i in range(len(clip))]
    assert abs(int(np.argmin(errors)) - 4.483 * FPS) <= 1


def test_default_window_is_the_moving_stretch(tmp_path):
    """6 s of a still picture, then 4 s of pan: the default (motion) window lies in the pan, the middle one
    does not (it starts at 4.5 s, in the still part)."""
    pan = pan_clip("astronaut", frames=4 * FPS, size=48, step=2)
    clip = np.concatenate([np.repeat(pan[:1], 6 * FPS, axis=0), pan])
    path = write_video(tmp_path / "still_then_pan.mp4", clip, fps=FPS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TimingWarning)
        default = sample_clip(path, 9, 8)
        middle = sample_clip(path, 9, 8, ReferenceSampling(window="middle"))
    assert default.how == "motion" and default.start >= 6.0 - 1 / FPS, default.describe()
    assert middle.how == "middle" and middle.start < 5.0
    moving = np.abs(np.diff(default.frames.astype(float), axis=0)).mean()
    still = np.abs(np.diff(middle.frames.astype(float), axis=0)).mean()
    assert moving > 5 * still + 1, (moving, still)


def test_sample_times_follow_timestamps_not_indices(long_pan):
    path, _ = long_pan
    with pytest.warns(TimingWarning):
        clip = sample_clip(path, 9, 8, ReferenceSampling(start=2.0))
    assert np.allclose(np.diff(clip.sample_times), 0.125)
    assert np.all(np.abs(clip.times - clip.sample_times) <= 0.5 / FPS + 1e-6)  # nearest source frame
    assert clip.start == pytest.approx(2.0, abs=1 / FPS) and clip.how == "start"
    with pytest.warns(TimingWarning):
        twelve = sample_clip(path, 9, 8, ReferenceSampling(fps=12, window="motion"))
    assert np.allclose(np.diff(twelve.sample_times), 1 / 12) and twelve.fps == 12
    with pytest.warns(TimingWarning, match="took 9 frames at 0.8"):
        whole = sample_clip(path, 9, 8, ReferenceSampling(window="whole"))
    assert whole.times[0] == 0 and whole.times[-1] == pytest.approx(SECONDS - 1 / FPS)


def test_old_whole_clip_squeeze_fails_the_pan_check(long_pan, tiny_model):
    """The check above can fail: the whole-clip squeeze (the old behaviour) jumps ~37 px between frames."""
    path, _ = long_pan
    with pytest.warns(TimingWarning):
        frames = load_reference(tiny_model, path, ReferenceSampling(window="whole"))
    shifts = _shifts(frames)
    assert not (np.all(np.abs(shifts - 3.75) < 1.0) and abs(shifts.mean() - 3.75) < 0.2), shifts


def test_short_clip_is_spread_over_its_length_and_said(tmp_path, tiny_model):
    path = write_video(tmp_path / "half_second.mp4", pan_clip("astronaut", frames=15, size=48), fps=FPS)
    with pytest.warns(TimingWarning, match=r"took 9 frames at 17\.\d fps .* shorter than the model's window"):
        frames = load_reference(tiny_model, path)
    assert frames.shape[1] == 9
    with pytest.raises(V2LError, match="leave out --start"):
        load_reference(tiny_model, path, ReferenceSampling(start=0.2))


def test_start_past_the_end_is_refused_with_a_start_that_works(long_pan, tiny_model):
    path, _ = long_pan
    with pytest.raises(V2LError, match=r"use --start 8\.96 or less") as info:
        load_reference(tiny_model, path, ReferenceSampling(start=9.5))
    with pytest.warns(TimingWarning):
        load_reference(
            tiny_model, path, ReferenceSampling(start=float(str(info.value).split("--start ")[-1].split()[0]))
        )


def _avi_with_latin1_title(tmp_path):
    """An ffmpeg-made AVI whose INFO title chunk holds bytes that are not UTF-8 (as old Windows tools write)."""
    good = tmp_path / "good.avi"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=25:duration=2",
            "-c:v",
            "mpeg4",
            "-metadata",
            "title=QQQQQQQQ",
            str(good),
        ],
        check=True,
    )
    data = good.read_bytes()
    at = data.index(b"QQQQQQQQ")
    bad = tmp_path / "caf\u00e9 clip.avi"
    bad.write_bytes(data[:at] + b"Caf\xe9 \xff\xfe!" + data[at + 8 :])
    return good, bad


def test_non_utf8_metadata_is_accepted_with_a_warning_whose_fix_works(tmp_path):
    import av

    good, bad = _avi_with_latin1_title(tmp_path)
    with pytest.raises(UnicodeDecodeError):
        av.open(str(bad))  # the fault is real: a strict open fails
    with pytest.warns(MetadataWarning, match="not UTF-8") as record:
        frames, fps = decode_frames(bad)
    assert np.array_equal(frames, decode_frames(good)[0]) and fps == 25
    # Plain re-encoding keeps the metadata and fails the same way, so the message must not suggest it ...
    reencoded = tmp_path / "reencoded.avi"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(bad), str(reencoded)], check=True)
    with pytest.raises(UnicodeDecodeError):
        av.open(str(reencoded))
    # ... the command it does suggest repairs the file: it then opens strictly, with no warning.
    message = str(record[0].message)
    command = shlex.split(message.split("To strip it: ")[1])
    assert command[0] == "ffmpeg" and "-map_metadata" in command
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *command[1:]], check=True)
    fixed = command[-1]
    av.open(fixed).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(decode_frames(fixed)[0], frames)


def test_incomplete_file_is_refused_with_a_fix_that_works(tmp_path):
    whole = write_video(tmp_path / "whole.mp4", pan_clip("astronaut", frames=30, size=48), fps=FPS)
    cut = tmp_path / "partial download.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the index (moov) is at the end: lost
    with pytest.raises(BadVideoError, match="partial download.mp4") as info:
        decode_frames(cut)
    message = str(info.value)
    assert "copy or download the complete file again" in message
    # Re-encoding cannot repair it (no index to read frames from), so the message does not suggest it ...
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(cut), str(tmp_path / "re.mp4")], capture_output=True
    )
    assert proc.returncode != 0 and "ffmpeg" not in message and "re-encode" not in message
    # ... and the fix it gives works: the complete file decodes.
    cut.write_bytes(whole.read_bytes())
    assert decode_frames(cut)[0].shape[0] == 30


def test_a_folder_is_named_as_a_folder_with_what_to_pass(tmp_path, long_pan):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.mp4").write_bytes(long_pan[0].read_bytes())
    with pytest.raises(BadVideoError, match=r"is a folder \(it holds a.mp4\); pass one video file, e.g. .*a.mp4"):
        decode_frames(tmp_path / "clips")


def test_generate_reference_and_lora_file_give_identical_frames(tmp_path, long_pan):
    """One LoRA per reference: --reference applies what predict writes (bf16-rounded), bit for bit."""
    from v2l.inference.generate import generate
    from v2l.lora.files import load_compact
    from v2l.model import default_model
    from v2l.video.io import load_image

    model = default_model(None, "tiny", None)  # the committed hypernetwork: a LoRA that really steers
    image = load_image(_first_frame(tmp_path, long_pan[1]), 48, 48)[None]
    with pytest.warns(TimingWarning):
        raw = predict_lora(model, long_pan[0])
        from_reference = stored_lora(model, long_pan[0])
    file = write_lora(tmp_path / "l.safetensors", raw, model)
    loaded = load_compact(file)
    assert torch.equal(from_reference.A_pred, loaded.A_pred.float())
    assert torch.equal(from_reference.B_pred, loaded.B_pred.float())

    def video(A, B):
        return generate(model, image, ["a photo"], A[None], B[None], steps=3, seed=1)

    a = video(from_reference.A_pred, from_reference.B_pred)
    b = video(loaded.A_pred.float(), loaded.B_pred.float())
    assert torch.equal(a, b)
    # The check can fail: the unrounded LoRA (what --reference used before) gives different frames.
    assert not torch.equal(video(raw.A_pred, raw.B_pred), a)


def _first_frame(tmp_path, clip):
    from v2l.video.io import write_png

    return write_png(tmp_path / "first.png", clip[0])


def test_cli_generate_reference_equals_lora_file_and_is_quiet(tmp_path, long_pan):
    """Through the CLI: identical frames both ways; in a fresh process, no 'Loading weights' bar unless --verbose."""
    from typer.testing import CliRunner

    from v2l.cli.main import app
    from v2l.lora.files import load_compact

    ref, clip = long_pan
    image = _first_frame(tmp_path, clip)
    lora = tmp_path / "l.safetensors"

    def fresh(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "v2l.cli.main", *map(str, args)], capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    said = fresh("predict", "--reference", ref, "--out", tmp_path / "fresh.safetensors")
    assert "Loading weights" not in said and "took 9 frames at 8 fps" in said
    assert "Loading weights" in fresh("--verbose", "predict", "--reference", ref, "--out", tmp_path / "v.safetensors")

    # The LoRA file and the frames are made within one process: across processes a CI runner's hypernetwork
    # output once differed in its last bit (pinning BLAS threads did not remove it), and a 3-step tiny generation
    # turns a single bf16 step in 1 % of the LoRA's numbers into frames as far apart as a 10 % scale change.
    def cli(*args):
        result = CliRunner().invoke(app, list(map(str, args)))
        assert result.exit_code == 0, result.output
        return result

    cli("predict", "--reference", ref, "--out", lora)
    here, there = load_compact(lora), load_compact(tmp_path / "fresh.safetensors")  # the fresh process's LoRA
    assert here.metadata == there.metadata
    for got, want in ((here.A_pred, there.A_pred), (here.B_pred, there.B_pred)):
        torch.testing.assert_close(got.float(), want.float(), rtol=2**-7, atol=1e-30)  # to one bf16 step
    common = ("--image", image, "--prompt", "a photo", "--steps", 3, "--seed", 1)
    cli("generate", "--reference", ref, "--out", tmp_path / "ref.mp4", *common)
    cli("generate", "--lora", lora, "--out", tmp_path / "lora.mp4", *common)
    cli("generate", "--lora", lora, "--scale", 0.9, "--out", tmp_path / "scaled.mp4", *common)
    frames = {name: decode_frames(tmp_path / f"{name}.mp4")[0] for name in ("ref", "lora", "scaled")}
    assert np.array_equal(frames["ref"], frames["lora"])
    assert not np.array_equal(frames["scaled"], frames["lora"])  # the comparison sees a changed LoRA
