"""The README's outsider verifiers, extracted and run as they are printed."""

import functools
from pathlib import Path

from django.conf import settings

BEGIN, END = "<!-- audit-verifier:begin -->", "<!-- audit-verifier:end -->"
BUNDLE_BEGIN = "<!-- audit-bundle-verifier:begin -->"
BUNDLE_END = "<!-- audit-bundle-verifier:end -->"


def _snippet(begin: str, end: str) -> str:
    text = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    block = text.split(begin, 1)[1].split(end, 1)[0]
    return block.split("```python\n", 1)[1].rsplit("```", 1)[0]


@functools.cache
def readme_verifier() -> dict:
    namespace: dict = {}
    exec(compile(_snippet(BEGIN, END), "README.md (audit verifier)", "exec"), namespace)
    return namespace


@functools.cache
def readme_bundle_verifier() -> dict:
    """The bundle check, run after the verifier above it as the README says (it uses its
    functions), in one namespace as a reader pasting both would."""
    namespace: dict = {}
    exec(compile(_snippet(BEGIN, END), "README.md (audit verifier)", "exec"), namespace)
    code = _snippet(BUNDLE_BEGIN, BUNDLE_END)
    exec(compile(code, "README.md (audit bundle verifier)", "exec"), namespace)
    return namespace
