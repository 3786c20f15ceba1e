"""Errors every command shares: :class:`UserError`, a mistake of the user's that the command line answers
in a line (``hazmon: <message>`` on stderr, exit code 2) instead of a traceback (``hzctl.cli``)."""


class UserError(Exception):
    """A mistake of the user's (an unknown name, a missing file), told as it is, never with a traceback."""
