"""The bundled policies (``*.policy`` beside this file), shipped as package data.

Takes nothing; produces the paths of the bundled policy files so that the CLI finds them from any
directory after a plain ``pip install``. The top-level ``policy/`` folder of the repository is the
source of truth; this module only locates it.
"""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
DEFAULT = "thanhhoa-kh134.policy"


def path(name: str = DEFAULT) -> Path:
    """The path of one bundled policy file."""
    return DIRECTORY / name


def all_paths() -> list[Path]:
    """Every bundled policy, in a stable order."""
    return sorted(DIRECTORY.glob("*.policy"))
