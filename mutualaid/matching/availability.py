"""The weekly availability grid: 7 days x 3 day-parts = 21 bits (bit = day * 3 + part).

Day 0 is Monday; part 0 morning, 1 afternoon, 2 evening. An empty mask means "any time".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np

SLOT_COUNT = 21
ALL_SLOTS = (1 << SLOT_COUNT) - 1
DAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
PARTS = {"nl": ("ochtend", "middag", "avond"), "en": ("morning", "afternoon", "evening")}


def slot_bit(day: int, part: int) -> int:
    """The bit for one day (0 = Monday) and day-part (0 morning, 1 afternoon, 2 evening)."""
    if not (0 <= day < 7 and 0 <= part < 3):
        raise ValueError(f"day must be 0..6 and part 0..2, got {day}, {part}")
    return 1 << (day * 3 + part)


def slots_from_pairs(pairs: Iterable[tuple[int, int]]) -> int:
    """A mask from (day, part) pairs."""
    mask = 0
    for day, part in pairs:
        mask |= slot_bit(day, part)
    return mask


def slots_for_window(start: date, end: date, parts: Iterable[int] = (0, 1, 2)) -> int:
    """The weekly slots a dated window covers (a window of a week or more covers every day)."""
    if end < start:
        raise ValueError("end lies before start")
    mask = 0
    for offset in range(min((end - start).days + 1, 7)):
        day = (start + timedelta(days=offset)).weekday()
        for part in parts:
            mask |= slot_bit(day, part)
    return mask


_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount(masks: np.ndarray) -> np.ndarray:
    """Number of set bits per element (masks below 2**24)."""
    m = np.asarray(masks, dtype=np.int64)
    return (
        _BYTE_POPCOUNT[m & 0xFF]
        + _BYTE_POPCOUNT[(m >> 8) & 0xFF]
        + _BYTE_POPCOUNT[(m >> 16) & 0xFF]
    ).astype(np.int64)


def describe_slots(mask: int, lang: str = "nl", limit: int = 2) -> str:
    """Readable slots: 'dinsdagochtend, woensdagavond' / 'Tuesday morning, ...'."""
    names = []
    for bit in range(SLOT_COUNT):
        if mask >> bit & 1:
            day, part = DAYS[lang][bit // 3], PARTS[lang][bit % 3]
            names.append(f"{day}{part}" if lang == "nl" else f"{day} {part}")
    if len(names) > limit:
        extra = len(names) - limit
        more = f"+{extra} meer" if lang == "nl" else f"+{extra} more"
        return ", ".join(names[:limit]) + f" {more}"
    return ", ".join(names)
