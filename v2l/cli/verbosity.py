"""How chatty the command line is: quiet by default (no progress bars for loads that take milliseconds),
everything the libraries say with `v2l --verbose`. Our own progress for work that takes seconds is unaffected.
Our messages (`v2l.*` loggers) go to stderr as plain lines; `--quiet` keeps only warnings and errors."""

from __future__ import annotations

import os
import sys

# Read by huggingface_hub, transformers and diffusers when they are first imported (commands import lazily).
_QUIET_ENV = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error", "DIFFUSERS_VERBOSITY": "error"}


def set_verbosity(verbose: bool) -> None:
    for key, value in _QUIET_ENV.items():
        if not verbose:
            os.environ.setdefault(key, value)
        elif os.environ.get(key) == value:
            del os.environ[key]
    for name in ("transformers", "diffusers"):
        if name in sys.modules:  # imported already (a test runner, a notebook): switch it directly
            logging = __import__(f"{name}.utils.logging", fromlist=["logging"])
            if verbose:
                logging.set_verbosity_info()
                logging.enable_progress_bar()
            else:
                logging.set_verbosity_error()
                logging.disable_progress_bar()


def show_messages_for(verbose: bool, quiet: bool) -> None:
    import logging

    from v2l.logs import show_messages

    show_messages(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
