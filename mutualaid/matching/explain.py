"""One-line explanations a resident understands, in Dutch and English."""

from __future__ import annotations

from .availability import describe_slots
from .types import Candidates

NUMBER_WORDS = {
    "nl": {2: "twee", 3: "drie", 4: "vier", 5: "vijf"},
    "en": {2: "twice", 3: "three times", 4: "four times", 5: "five times"},
}


def format_distance(metres: float, lang: str = "nl") -> str:
    """'350 m', '1,2 km' (Dutch) or '1.2 km' (English); rounded as people say it."""
    if metres < 1000:
        return f"{max(10, round(metres / 10.0) * 10)} m"
    text = f"{metres / 1000:.1f} km"
    return text.replace(".", ",") if lang == "nl" else text


def _helped(times: int, lang: str) -> str:
    if lang == "nl":
        if times == 1:
            return "hielp u al eens"
        return f"hielp u al {NUMBER_WORDS['nl'].get(times, str(times))} keer"
    if times == 1:
        return "helped you before"
    return f"helped you {NUMBER_WORDS['en'].get(times, f'{times} times')}"


def explain_one(
    distance_m: float,
    same_street: bool,
    same_neighbourhood: bool,
    overlap_slots: int,
    times_helped: int,
    trusted: bool = False,
    lang: str = "nl",
) -> str:
    """'350 m · zelfde straat · dinsdagochtend vrij · hielp u al twee keer'."""
    nl = lang == "nl"
    bits = [format_distance(distance_m, lang)]
    if same_street:
        bits.append("zelfde straat" if nl else "same street")
    elif same_neighbourhood:
        bits.append("zelfde buurt" if nl else "same neighbourhood")
    if overlap_slots:
        slots = describe_slots(int(overlap_slots), lang)
        bits.append(f"{slots} vrij" if nl else f"free {slots}")
    if times_helped:
        bits.append(_helped(int(times_helped), lang))
    elif trusted:
        bits.append("via iemand die u kent" if nl else "through someone you know")
    return " · ".join(bits)


def explain(candidates: Candidates, lang: str = "nl") -> list[str]:
    """The explanation of every candidate row."""
    trusted = candidates.parts[:, 2] >= 0.5 if len(candidates) else []
    return [
        explain_one(d, s, n, slots, t, bool(tr), lang)
        for d, s, n, slots, t, tr in zip(
            candidates.distance_m.tolist(),
            candidates.same_street.tolist(),
            candidates.same_neighbourhood.tolist(),
            candidates.overlap_slots.tolist(),
            candidates.times_helped.tolist(),
            list(trusted),
            strict=True,
        )
    ]
