"""Validated command-line option types: every number, count and text a `v2l` command takes goes through one of
these, so a bad value (nan, inf, negative, absurdly large, not UTF-8, control characters, megabytes of text) is
refused while the arguments are parsed: one line naming the option and the allowed range, exit 2, before
anything is loaded or written.

Commands declare options with `int_option`, `float_option`, `text_option` and `number_list_option` (or the shared ones below:
`seed_option`, `steps_option`, ...). `tests/test_hostile_input.py` checks that no command declares a bare
int, float or str option.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import typer
from pydantic_core import PydanticCustomError

SEED_MAX = 2**63 - 1  # torch.manual_seed's range, kept to non-negative seeds
TEXT_MAX_CHARS = 4096  # names, lists and notes; prompts have their own limit
PROMPT_MAX_CHARS = 65536  # far above any text encoder's window: longer text is a mistake, not a prompt


def _fmt(x: float | int) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _refuse(reason: str):
    # typer (0.29) runs `parser=` callables inside pydantic: this error becomes
    # "Invalid value for '--option': <reason>", exit 2, with the option named.
    raise PydanticCustomError("v2l_option", "{reason}", {"reason": reason})


class BoundedNumber:
    """Parser for an int or a finite float in [lo, hi] (or (lo, hi] with lo_open)."""

    def __init__(self, kind: type, lo: float | int, hi: float | int, lo_open: bool = False):
        self.kind, self.lo, self.hi, self.lo_open = kind, lo, hi, lo_open

    @property
    def allowed(self) -> str:
        what = "a whole number" if self.kind is int else "a finite number"
        return f"{what} in {'(' if self.lo_open else '['}{_fmt(self.lo)}, {_fmt(self.hi)}]"

    def __call__(self, value: Any):
        if isinstance(value, bool):
            _refuse(f"{value!r} is not {self.allowed}")
        text = value if isinstance(value, str) else repr(value)
        shown = text if len(text) <= 40 else text[:40] + "..."
        try:
            if self.kind is int:
                x = value if isinstance(value, int) else int(str(value).strip(), 10)
            else:
                x = float(value)
        except (TypeError, ValueError, OverflowError):
            _refuse(f"{shown!r} is not {self.allowed}")
        if self.kind is float and not math.isfinite(x):
            _refuse(f"{shown} is not {self.allowed}")
        if x < self.lo or x > self.hi or (self.lo_open and x == self.lo):
            _refuse(f"{shown} is out of range: use {self.allowed}")
        return x


class SafeText:
    """Parser for text that is valid UTF-8, has no control characters and is at most max_chars long."""

    def __init__(self, max_chars: int = TEXT_MAX_CHARS):
        self.max_chars = max_chars

    def __call__(self, value: Any):
        if isinstance(value, str):
            problem = text_problem(value, self.max_chars)
            if problem:
                _refuse(problem)
        return value


class NumberList(SafeText):
    """Parser for comma-separated finite numbers, each in [lo, hi] (e.g. mixing weights); returns the text."""

    def __init__(self, lo: float, hi: float, max_items: int = 1024):
        super().__init__()
        self.item, self.max_items = BoundedNumber(float, lo, hi), max_items

    def __call__(self, value: Any):
        value = super().__call__(value)
        if isinstance(value, str):
            items = [x.strip() for x in value.split(",") if x.strip()]
            if not items:
                _refuse(f"no numbers given; use comma-separated {self.item.allowed.replace('a finite', 'finite')}s")
            if len(items) > self.max_items:
                _refuse(f"{len(items):,} numbers given; the limit is {self.max_items:,}")
            for i, item in enumerate(items):
                try:
                    self.item(item)
                except PydanticCustomError as exc:
                    _refuse(f"item {i + 1}: {exc.message()}")
        return value


def text_problem(text: str, max_chars: int) -> str | None:
    """Why `text` cannot be used as an option value, or None. Never echoes the text itself."""
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":  # how Python hands over an argv byte that is not UTF-8 (surrogateescape)
            return (
                f"the text is not valid UTF-8 (byte 0x{ord(ch) - 0xDC00:02x} at character {i}); pass the text encoded as "
                f"UTF-8"
            )
        if "\ud800" <= ch <= "\udfff":
            return f"the text is not valid Unicode (lone surrogate U+{ord(ch):04X} at character {i}); pass UTF-8 text"
        if unicodedata.category(ch) == "Cc":
            return f"the text holds a control character (U+{ord(ch):04X} at character {i}); remove it"
    if len(text) > max_chars:
        return f"the text is {len(text):,} characters long; the limit is {max_chars:,}"
    return None


def _number_option(default, names, parser: BoundedNumber, help: str, kwargs):
    return typer.Option(default, *names, help=f"{help} ({parser.allowed})".lstrip(), parser=parser, **kwargs)


def int_option(default, *names: str, lo: int, hi: int, help: str = "", **kwargs):
    return _number_option(default, names, BoundedNumber(int, lo, hi), help, kwargs)


def float_option(default, *names: str, lo: float, hi: float, lo_open: bool = False, help: str = "", **kwargs):
    return _number_option(default, names, BoundedNumber(float, lo, hi, lo_open), help, kwargs)


def text_option(default, *names: str, max_chars: int = TEXT_MAX_CHARS, help: str = "", **kwargs):
    return typer.Option(default, *names, help=help, parser=SafeText(max_chars), **kwargs)


def number_list_option(default, *names: str, lo: float, hi: float, help: str = "", **kwargs):
    parser = NumberList(lo, hi)
    return typer.Option(default, *names, help=f"{help} (each {parser.item.allowed})".lstrip(), parser=parser, **kwargs)


def text_argument(default, max_chars: int = TEXT_MAX_CHARS, help: str = "", **kwargs):
    return typer.Argument(default, help=help, parser=SafeText(max_chars), **kwargs)


# -- options several commands share: one range each --------------------------------------------------
def seed_option(default: int = 0, help: str = "random seed"):
    return int_option(default, "--seed", lo=0, hi=SEED_MAX, help=help)


def steps_option(default: int = 25, help: str = "sampling steps"):
    return int_option(default, "--steps", lo=1, hi=1000, help=help)


def max_steps_option(help: str = "stop after this many steps"):
    return int_option(None, "--max-steps", lo=1, hi=100_000_000, help=help)


def minutes_option(default: float, help: str = "wall-time budget in minutes"):
    return float_option(default, "--minutes", lo=0.0, hi=7 * 24 * 60.0, help=help)


def threads_option(default: int | None, help: str = "torch threads"):
    return int_option(default, "--threads", lo=1, hi=1024, help=help)


def workers_option(default: int | None, help: str = "Ray Train workers"):
    return int_option(default, "--workers", lo=1, hi=4096, help=help)


def frames_option(default: int | None, help: str):
    return int_option(default, "--frames", lo=1, hi=1025, help=help)


def count_option(default: int | None, *names: str, lo: int = 1, hi: int = 1_000_000, help: str = ""):
    """How many of something (pairs, clips, samples per semantic...)."""
    return int_option(default, *names, lo=lo, hi=hi, help=help)


VALIDATED_PARSERS = (BoundedNumber, SafeText)  # NumberList is a SafeText
