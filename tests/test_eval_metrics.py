"""The evaluation's metrics on inputs with known answers: PSNR/SSIM of a clip against itself, flow similarity of
pans rendered by the semantics registry, CLIP-T of held-out photos' own captions, bootstrap intervals."""

import numpy as np
import pytest
import torch

from v2l.evaluation import metrics as M


def _render(semantic: str, content_index: int, seed: int) -> torch.Tensor:
    from v2l.world.sampler import ClipSampler, WorldConfig, load_content

    world = WorldConfig()
    sampler = ClipSampler(world, load_content(world)["heldout"], [semantic], seed=0)
    return sampler.clip(content_index, 0, seed)


def test_psnr_and_ssim_of_a_target_against_itself_and_against_a_changed_copy():
    target = _render("zoom_in", 0, 1)
    assert M.psnr(target, target) == float("inf")
    assert M.ssim(target, target) == pytest.approx(1.0)
    noisy = (target + 0.1 * torch.randn(target.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    # Gaussian noise of std 0.1 in [-1, 1] is std 0.05 in [0, 1]: PSNR about 26 dB (clamping lowers the error).
    assert 24.0 < M.psnr(noisy, target) < 29.0
    assert M.ssim(noisy, target) < 0.95


def test_flow_similarity_of_pans_same_direction_high_opposite_negative():
    left_a, left_b = _render("pan_left", 0, 11), _render("pan_left", 3, 12)
    right = _render("pan_right", 5, 13)
    assert M.motion_similarity(left_a, left_b) > 0.8
    assert M.motion_similarity(left_a, right) < -0.5
    assert M.motion_similarity(left_a, left_a) == pytest.approx(1.0)
    # The ground-truth flow error of a clip against itself is zero; against the opposite pan it is not.
    assert M.flow_epe(left_a, left_a) == 0.0 and M.flow_epe(left_a, right) > 0.2


def _still_photo_videos():
    from v2l.world.sampler import ClipSampler, WorldConfig, load_content

    world = WorldConfig()
    photos = [c for c in load_content(world)["heldout"] if c.id.startswith("photo-")]
    sampler = ClipSampler(world, photos, ["fade_black"], seed=0)
    first = torch.stack([sampler.clip(i, 0, 0)[:, 0] for i in range(len(photos))])  # the untransformed crop
    return {p.id: (first[i][:, None].repeat(1, world.num_frames, 1, 1), p.caption) for i, p in enumerate(photos)}


@pytest.mark.parametrize(
    "photo",
    [
        "photo-chelsea",
        "photo-coffee",
        "photo-rocket",
        pytest.param(
            "photo-grass",
            marks=pytest.mark.xfail(
                strict=True, reason="the committed tiny CLIP's text tower never saw 'grass' (its card's known miss)"
            ),
        ),
    ],
)
@pytest.mark.integration
def test_clip_t_of_a_frames_own_caption_beats_the_other_captions_on_heldout_photos(photo):
    from v2l.evaluation.clip_scorer import clip_scorer

    scorer = clip_scorer("tiny")
    videos = _still_photo_videos()
    video, own = videos[photo]
    others = [caption for pid, (_, caption) in videos.items() if pid != photo]
    scores = scorer.score(torch.stack([video] * (1 + len(others))), [own] + others)["clip_t"]
    assert scores[0] > max(scores[1:]), scores
    # A still clip is perfectly consistent with itself.
    consistency = scorer.score(video[None], [own])
    assert consistency["clip_i_adjacent"][0] == pytest.approx(1.0, abs=1e-5)
    assert consistency["clip_i_first"][0] == pytest.approx(1.0, abs=1e-5)


def test_bootstrap_interval_known_answers():
    assert M.bootstrap_ci([0.25] * 10) == [0.25, 0.25]
    values = np.array([0, 1] * 50, dtype=float)  # mean 0.5, standard error 0.05
    lo, hi = M.bootstrap_ci(values)
    assert 0.38 < lo < 0.42 and 0.58 < hi < 0.62
    stats = M.mean_ci([1.0, float("nan"), 0.0])  # NaN: the metric does not apply to that sample
    assert stats["n"] == 2 and stats["mean"] == 0.5


def test_unknown_open_clip_scorer_without_weights_is_refused():
    from v2l.errors import V2LError
    from v2l.evaluation.clip_scorer import clip_scorer

    with pytest.raises(V2LError, match="--clip-weights"):
        clip_scorer("ViT-B-32", None)
