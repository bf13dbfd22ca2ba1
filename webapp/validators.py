"""Form validators shared by every area."""

from __future__ import annotations

import unicodedata

from wtforms.validators import ValidationError

# Control (Cc), format (Cf: bidi overrides and isolates, zero-width characters), private-use
# (Co), surrogate (Cs) and unassigned (Cn) code points: invisible or reordering text that
# makes a name look like another (Trojan Source) and has no use in a name.
REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


def hidden_characters(text: str) -> list[str]:
    """The refused characters in `text`, as U+XXXX."""
    return sorted(
        {f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) in REFUSED_CATEGORIES}
    )


def plain_text(_form, field) -> None:
    """A name: no control, bidi or other invisible characters."""
    found = hidden_characters(field.data or "")
    if found:
        raise ValidationError(
            "Remove the invisible or control characters ("
            + ", ".join(found[:5])
            + "): names may contain letters, digits, spaces and punctuation only."
        )
