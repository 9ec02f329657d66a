"""Datasets laid out as one sub-folder per class (images, texts)."""

from zoo.errors import ZooError


def empty_class(class_dir, extensions, what, skipped=0):
    """The error for a class folder without usable files (`skipped`: how many were left out as unreadable)."""
    left_out = f" ({skipped} unreadable file(s) left out by --skip_bad_files)" if skipped else ""
    return ZooError(
        f"Class folder {str(class_dir)!r} holds no {what} files ({'/'.join(extensions)}){left_out}: "
        "add some, or remove the folder."
    )


def class_files(root, extensions, what):
    """`(class folder names, files, labels)` of a one-sub-folder-per-class dataset; hidden entries ignored."""
    if not root.is_dir():
        raise ZooError(f"{what.capitalize()} folder {str(root)!r} does not exist or is not a folder.")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(class_dirs) < 2:
        raise ZooError(
            f"{what.capitalize()} folder {str(root)!r} needs at least two sub-folders (one per class, "
            f"{'/'.join(extensions)} files). Received: {[d.name for d in class_dirs]}"
        )
    files, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        found = sorted(
            str(f) for f in class_dir.iterdir() if not f.name.startswith(".") and f.suffix.lower() in extensions
        )
        if not found:
            raise empty_class(class_dir, extensions, what)
        files += found
        labels += [label] * len(found)
    return [d.name for d in class_dirs], files, labels
