"""User-facing errors: each names the input that is wrong and what to do about it."""


class V2LError(Exception):
    """An error caused by user input; the CLI prints it without a traceback."""


class BadVideoError(V2LError):
    pass


class BadLoRAFileError(V2LError):
    pass


class IncompatibleLoRAError(V2LError):
    pass
