"""zoo's version, and the versions of the libraries a run was trained, exported and verified with."""

import importlib.metadata
import platform

__version__ = "0.4.3"
PACKAGES = ("tensorflow", "keras", "keras-hub", "numpy", "scikit-learn", "ai-edge-litert")


def library_versions():
    """`{package: version}` of zoo, Python and the libraries it runs on (those installed)."""
    versions = dict(zoo=__version__, python=platform.python_version())
    for package in PACKAGES:
        try:
            versions[package.replace("-", "_")] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
