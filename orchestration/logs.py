"""The library's messages (`v2l.*` loggers) in the Dagster run log: an asset runs a library call inside
`to_run_log(context)`, and each record goes to `context.log` at its level, for any Dagster instance."""

import contextlib
import logging


class _RunLog(logging.Handler):
    def __init__(self, run_log):
        super().__init__()
        self.run_log = run_log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.run_log.log(record.levelno, self.format(record))
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def to_run_log(context):
    """While inside: `v2l.*` INFO and up go to the run log only (not on to the process's own handlers, which would
    print them a second time beside Dagster's console lines)."""
    logger = logging.getLogger("v2l")
    handler = _RunLog(context.log)
    level, propagate = logger.level, logger.propagate
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
