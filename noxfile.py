"""The integrations app on each supported pair of Python and Django, installed from its wheel into fresh
virtualenvs: the example host (examples/minimal_host: its own tests, and the app's tests that run on any host),
and a new `django-admin startproject` host that follows docs/install.md to a verified webhook.

    nox -t diagonal floors   # the oldest and the newest pair, and the dependencies at their floors (make test)
    nox                      # every pair, and the floors (make test-matrix)

DialogForm itself (the repository's project) stays on Django's LTS, in make test's main runs.
"""

from __future__ import annotations

import glob
import os
import shutil

import nox

nox.options.default_venv_backend = "none"  # bin/test-example makes the virtualenv of each run itself

# Django 6 needs Python 3.12 or newer; 5.2 (the LTS) runs on 3.11 too.
PAIRS = [
    ("3.11", "5.2"),
    ("3.12", "5.2"),
    ("3.13", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "6.0"),
    ("3.12", "6.1"),
    ("3.13", "6.1"),
]
DIAGONAL = {PAIRS[0], PAIRS[-1]}


def interpreter(version: str) -> str:
    """That Python's executable: on PATH, or one pyenv installed (its shims answer only for the active one)."""
    installed = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    found = installed[-1] if installed else shutil.which(f"python{version}")
    if not found:
        raise RuntimeError(f"Python {version} is not installed (pyenv install {version})")
    return found


PAIR_PARAMS = [
    nox.param(
        python, django, id=f"python{python}-django{django}", tags=["diagonal"] if (python, django) in DIAGONAL else []
    )
    for python, django in PAIRS
]


@nox.session(python=False)
@nox.parametrize(("python", "django"), PAIR_PARAMS)
def example(session: nox.Session, python: str, django: str) -> None:
    """The example host (examples/minimal_host), with the wheel in a fresh virtualenv: check, migrate, its tests."""
    session.run("bin/test-example", env={"PYTHON": interpreter(python), "DJANGO": django}, external=True)


@nox.session(python=False)
@nox.parametrize(("python", "django"), PAIR_PARAMS)
def startproject(session: nox.Session, python: str, django: str) -> None:
    """A new `django-admin startproject` (admin on) following docs/install.md's blocks, to a verified webhook."""
    session.run("bin/test-startproject", env={"PYTHON": interpreter(python), "DJANGO": django}, external=True)


def floors() -> list[str]:
    """Each dependency of the wheel and its extras at the lowest release its range allows (pyproject.toml's `>=`)."""
    import re
    import tomllib

    with open("pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    extras = project["optional-dependencies"].values()
    dependencies = [*project["dependencies"], *(item for extra in extras for item in extra)]
    pinned = []
    for dependency in dependencies:
        found = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", dependency)
        if found:
            pinned.append(f"{found[1]}=={found[2]}")
    return pinned


@nox.session(python=False, tags=["floors"])
def floor(session: nox.Session) -> None:
    """The example host with every dependency of the wheel at its floor, on the oldest Python."""
    constraints = os.path.join(session.create_tmp(), "floors.txt")
    pinned = floors()
    with open(constraints, "w") as file:
        file.write("\n".join(pinned) + "\n")
    session.log("floors: " + ", ".join(pinned))
    session.run(
        "bin/test-example", env={"PYTHON": interpreter(PAIRS[0][0]), "PIP_CONSTRAINT": constraints}, external=True
    )
