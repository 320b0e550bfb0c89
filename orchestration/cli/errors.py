"""The one exception a command raises for a problem the user can fix."""


class CliError(Exception):
    """A problem the user can fix; printed as one line without a traceback, exit status 2."""
