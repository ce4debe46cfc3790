"""The exceptions that cross module boundaries, and how a full disk is recognised.

`UserError` means "the person gave us something we cannot use" (or must do something);
the rest are how a run ends early.
"""

import errno


class UserError(ValueError):
    """A problem with the input that the person can fix; its message is one plain sentence.

    The CLI prints it on one line and exits 2; the dashboard shows it as a message, never as
    a traceback. Anything else that escapes is a bug in this project.
    """


class RunCancelled(Exception):
    """Raised out of a fit when someone asked for the run to stop; the run is then `cancelled`."""


class FitFailed(Exception):
    """A fit raised: the run fails with the fit's error and traceback."""

    def __init__(self, error: str, traceback: str | None = None):
        super().__init__(error)
        self.traceback = traceback


class DiskFull(UserError):
    """The disk ran out of space while a run wrote to it."""


def is_disk_full(exc: BaseException) -> bool:
    """True for the errors a full disk (or quota) raises: the OS's, and the store's (which
    says its own as `DiskFull`)."""
    if isinstance(exc, DiskFull):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
