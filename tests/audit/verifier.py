"""The README's outsider verifier, extracted and run as it is printed."""

import functools
from pathlib import Path

from django.conf import settings

BEGIN, END = "<!-- audit-verifier:begin -->", "<!-- audit-verifier:end -->"


@functools.cache
def readme_verifier() -> dict:
    text = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    block = text.split(BEGIN, 1)[1].split(END, 1)[0]
    code = block.split("```python\n", 1)[1].rsplit("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md (audit verifier)", "exec"), namespace)
    return namespace
