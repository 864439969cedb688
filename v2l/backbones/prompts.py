"""Prompts longer than the text encoder's window: one line saying how many tokens were kept.

The tokenizers truncate to the preset's `max_text_len`; diffusers' I2V pipeline then logs the whole cut-off
text (megabytes for a pasted file), so its pipeline is built as `I2VPipeline`, which says it in one line instead.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings


def note_truncation(tokenizer, prompts: str | list[str], max_len: int) -> None:
    """Warn once per prompt whose tokens (with the end token) exceed max_len: how many were kept."""
    for prompt in [prompts] if isinstance(prompts, str) else prompts:
        if len(prompt) < max_len:  # every token covers at least one character
            continue
        n = len(tokenizer(prompt, add_special_tokens=True, verbose=False).input_ids)
        if n > max_len:
            warnings.warn(
                f"the prompt ({len(prompt):,} characters) is {n - 1:,} tokens long; the text encoder "
                f"keeps its first {max_len - 1} and ignores the rest",
                stacklevel=2,
            )


@contextlib.contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@functools.lru_cache(maxsize=1)
def i2v_pipeline_class():
    """diffusers' CogVideoXImageToVideoPipeline, with the one-line truncation note (imported lazily)."""
    from diffusers import CogVideoXImageToVideoPipeline

    class I2VPipeline(CogVideoXImageToVideoPipeline):
        def _get_t5_prompt_embeds(
            self, prompt=None, num_videos_per_prompt=1, max_sequence_length=226, device=None, dtype=None
        ):
            note_truncation(self.tokenizer, prompt, max_sequence_length)
            with _quiet(CogVideoXImageToVideoPipeline.__module__):
                return super()._get_t5_prompt_embeds(prompt, num_videos_per_prompt, max_sequence_length, device, dtype)

    return I2VPipeline
