"""Find counts between 1 and 4 in rendered text: they must never be shown (disclosure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# The AppTest elements that hold text a reader sees.
TEXT_ELEMENTS = (
    "markdown",
    "caption",
    "header",
    "subheader",
    "title",
    "info",
    "warning",
    "error",
    "success",
)

# A bare 1-4 not part of a longer number, a date, a code, a ratio or a percentage.
SMALL_COUNT = re.compile(r"(?<![\w.,<:/\-])[1-4](?![\w.,%×:/\-])")


def small_counts(texts: Iterable[object]) -> list[str]:
    """The texts that contain a small count."""
    return [str(text) for text in texts if text is not None and SMALL_COUNT.search(str(text))]


# A threshold written out ("<5", "< 5", "≤4", "fewer than 5 people"): it tells readers which
# hidden cells are small, and invites them to read a hidden cell as a number.
THRESHOLD_MARK = re.compile(r"[<≤]\s*\d|fewer than|less than|भन्दा कम", re.IGNORECASE)


def threshold_marks(texts: Iterable[object]) -> list[str]:
    """The texts that write out a suppression threshold."""
    return [str(text) for text in texts if text is not None and THRESHOLD_MARK.search(str(text))]
