"""Keeps TensorFlow's and LiteRT's native start-up and converter logs out of the terminal.

They are written by C++ straight to file descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says
(e.g. "failed call to cuInit: ... UNKNOWN ERROR (303)" on every CPU-only machine, which reads
like a failure). The command-line programs send them to a log file instead.
"""

import contextlib
import os
import pathlib
import sys
import tempfile

STARTUP_LOG = os.path.join(tempfile.gettempdir(), "zoo-native-startup.log")


@contextlib.contextmanager
def native_output_to(descriptor, path):
    """Appends what is written to file `descriptor` (1 or 2: native code and Python alike) to `path`."""
    stream = sys.stdout if descriptor == 1 else sys.stderr
    stream.flush()
    saved = os.dup(descriptor)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), descriptor)
            yield path
    finally:
        stream.flush()
        os.dup2(saved, descriptor)
        os.close(saved)


def native_stderr_to(path):
    """Sends what is written to file descriptor 2 (native code, and Python's stderr) to `path`."""
    return native_output_to(2, path)


def _started_as_command():
    """Whether this process is `python -m zoo_apps.<app>` or `python -m export[.predict]`."""
    program = pathlib.Path(sys.argv[0]) if sys.argv and sys.argv[0] != "-m" else None
    return sys.argv[:1] == ["-m"] or (program is not None and program.parent.name in ("zoo_apps", "export"))


def start_quietly():
    """For zoo's command-line programs: imports TensorFlow and initializes its devices with their
    native logs in `STARTUP_LOG`. A library import of zoo leaves stderr alone."""
    if not _started_as_command():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_to(STARTUP_LOG):
        import tensorflow as tf

        tf.config.list_physical_devices()
