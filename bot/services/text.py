"""User text as the services keep it: what a person meant, and nothing a database or a reader chokes on.

Control characters (NUL among them: PostgreSQL refuses it, SQLite keeps it, so the same input would
behave differently), unpaired surrogates (not storable as UTF-8) and bidirectional overrides (they make
text read differently from what it says) are removed; line breaks and tabs stay.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEPT = frozenset("\n\t")


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        char
        for char in text
        if char in _KEPT or (unicodedata.category(char) not in ("Cc", "Cs") and char not in _BIDI_CONTROLS)
    )


CleanText = Annotated[str, AfterValidator(clean)]
