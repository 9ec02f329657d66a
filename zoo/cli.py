"""Command-line runner for zoo's absl programs: own flags only, one-line errors, no import side effects.

Each program defines its flags into a fresh `flags.FlagValues` when it runs, not
at import, so programs import together (tests run them in-process) and `--help`
lists their own flags, not TensorFlow's.
"""

import errno
import os
import sys

from absl import flags

from zoo.errors import ZooError

HELP = ("--help", "-h", "-?", "--helpshort", "--helpfull")


def fail(message):
    """Prints `error: message` on stderr and exits with status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def disk_full(error):
    """Whether `error` (an `OSError`, or a TensorFlow or h5py error that only says so) means the disk is full."""
    codes = (errno.ENOSPC, errno.EDQUOT)
    return getattr(error, "errno", None) in codes or any(os_error in str(error) for os_error in map(os.strerror, codes))


INTERRUPTED = 130  # the shell's status for a program ended by Ctrl-C (128 + SIGINT)


def with_one_line_errors(call):
    """Returns `call()`; a `ZooError` or a full disk ends the program with one `error:` line and exit status 2,
    Ctrl-C with one line and exit status 130 (writes are atomic: nothing half-written stays)."""
    try:
        return call()
    except ZooError as error:
        fail(str(error))
    except KeyboardInterrupt:
        print(
            "error: interrupted (Ctrl-C), nothing half-written left: run the same command again to resume "
            "(a training run resumes from its last finished epoch).",
            file=sys.stderr,
        )
        raise SystemExit(INTERRUPTED) from None
    except Exception as error:
        if not disk_full(error):
            raise
        where = f" for {error.filename}" if getattr(error, "filename", None) else ""
        fail(
            f"No space left on the disk{where}: free some space, or use a --model_dir on another disk, "
            "then run the same command again (a run resumes from its last finished epoch)."
        )


def help_text(doc, flag_values):
    lines = [doc.strip(), "", "flags:"] if doc else ["flags:"]
    for flag in sorted({flag_values[name] for name in flag_values}, key=lambda f: f.name):
        default = "" if flag.default is None else f" (default: {flag.default_as_str})"
        kind = "" if flag.flag_type() == "bool" else f"=<{flag.flag_type()}>"
        lines.append(f"  --{flag.name}{kind}: {flag.help}{default}")
    return "\n".join(lines)


def run_cli(main, define_flags, argv=None, doc=None, program="zoo", positional=False):
    """Defines flags with `define_flags(flag_values)`, parses `argv`, and returns `main(flag_values, args)`.

    Args:
        main: `main(flag_values, args)`; a `ZooError` it raises, or a full disk, ends the program
            with one `error:` line on stderr and exit status 2.
        define_flags: defines the program's flags with `flag_values=` the given `FlagValues`.
        argv: the arguments without the program name; default `sys.argv[1:]`.
        doc: the text `--help` prints above the flags.
        program: the program's name in messages.
        positional: whether the program takes arguments besides flags.
    """
    flag_values = flags.FlagValues()
    define_flags(flag_values)
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(arg in HELP for arg in argv):
        print(help_text(doc, flag_values))
        return None
    try:
        args = flag_values([program, *argv])[1:]
    except flags.Error as error:
        fail(f"{error} (see --help)")
    if args and not positional:
        fail(f"unexpected arguments {args}: all options are --flags (see --help).")
    return with_one_line_errors(lambda: main(flag_values, args))


def run_main(main):
    """Runs a script's `main(argv)` with absl's global flags; a `ZooError` or a full disk ends it in one line."""
    from absl import app

    app.run(lambda argv: with_one_line_errors(lambda: main(argv)))
