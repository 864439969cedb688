"""Video input: unreadable files are named, bad frame counts are resampled with a warning, never truncated."""

import numpy as np
import pytest

from v2l.errors import BadVideoError
from v2l.video.clips import load_video
from v2l.video.io import FrameCountWarning, decode_frames, write_video
from v2l.video.timing import ReferenceSampling


def _ramp_clip(n, size=32):
    """Frame i is a flat grey of value 15*i: the frame index can be read back from the pixels."""
    return np.stack([np.full((size, size, 3), 15 * i, np.uint8) for i in range(n)])


def test_unreadable_file_error_names_it(tmp_path):
    bad = tmp_path / "broken clip.mp4"
    bad.write_bytes(b"\x00\x01 this is not a video")
    with pytest.raises(BadVideoError, match="broken clip.mp4"):
        load_video(bad)
    with pytest.raises(BadVideoError, match="missing.mp4"):
        load_video(tmp_path / "missing.mp4")


def test_truncated_mp4_is_an_error_naming_it(tmp_path):
    good = write_video(tmp_path / "good.mp4", _ramp_clip(9))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(BadVideoError, match="cut.mp4"):
        load_video(cut)


def test_invalid_count_is_resampled_with_warning_not_truncated(tmp_path):
    """12 frames is not 4k+1, nor 8k+1 (what CogVideoX's VAE decodes back to the same length): resampled to 9."""
    path = write_video(tmp_path / "twelve.mp4", _ramp_clip(12))
    with pytest.warns(FrameCountWarning, match="12 frames"):
        frames = load_video(path)
    assert frames.shape[1] == 9  # nearest 8k+1
    levels = ((frames[0, :, 0, 0] + 1) * 127.5).numpy()
    assert abs(levels[0] - 0) < 6 and abs(levels[-1] - 15 * 11) < 6, "first and last input frames are kept"

    with pytest.warns(FrameCountWarning, match="took 9 frames at 8 fps"):
        nine = load_video(path, num_frames=9, height=16, width=16, fps=8)
    assert tuple(nine.shape) == (3, 9, 16, 16)
    levels = ((nine[0, :, 0, 0] + 1) * 127.5).numpy()
    # At the clip's own rate, the middle window: 9 consecutive frames, none skipped or repeated.
    assert np.allclose(np.diff(levels), 15, atol=6), levels
    with pytest.warns(FrameCountWarning):
        whole = load_video(path, num_frames=9, fps=8, sampling=ReferenceSampling(window="whole"))
    levels = ((whole[0, :, 0, 0] + 1) * 127.5).numpy()
    assert abs(levels[-1] - 15 * 11) < 6, "the whole window spreads over the clip: the last frame survives"


def test_valid_count_loads_without_warning(tmp_path, recwarn):
    path = write_video(tmp_path / "nine.mp4", _ramp_clip(9))
    frames = load_video(path)
    assert frames.shape[1] == 9
    assert not [w for w in recwarn if issubclass(w.category, FrameCountWarning)]


def test_written_mp4_decodes_with_exact_count(tmp_path):
    clip = _ramp_clip(17, 48)
    frames, fps = decode_frames(write_video(tmp_path / "c.mp4", clip, fps=8))
    assert frames.shape == clip.shape and fps == 8
    assert np.abs(frames.astype(int) - clip.astype(int)).mean() < 3


def test_4k_plus_1_but_not_8k_plus_1_is_resampled_too(tmp_path):
    path = write_video(tmp_path / "thirteen.mp4", _ramp_clip(13))
    with pytest.warns(FrameCountWarning, match="not 8k\\+1"):
        frames = load_video(path)
    assert frames.shape[1] in (9, 17)
