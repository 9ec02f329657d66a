"""The one error type that means "the user asked for something we cannot do"."""


class ZooError(ValueError):
    """Bad input from the user: an unknown name, a bad value, a missing file.

    Apps turn it into a one-line message and exit status 2.
    """
