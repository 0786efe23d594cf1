"""One-line explanations a resident understands, in Dutch and English."""

from __future__ import annotations

from .availability import describe_slots
from .scoring import TIE_KNOWS, TIE_NONE, TIE_RECOMMENDED, TIE_TWO_HOP
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


# What a tie is called (scoring.TIE_* codes); past help is said separately and wins.
TIE_WORDS = {
    "nl": {1: "via iemand die u kent", 2: "aanbevolen door de wijkcoach", 3: "kent u"},
    "en": {
        1: "through someone you know",
        2: "recommended by the community worker",
        3: "knows you",
    },
}


def explain_one(
    distance_m: float,
    same_street: bool,
    same_neighbourhood: bool,
    overlap_slots: int,
    times_helped: int,
    tie: int = TIE_NONE,
    lang: str = "nl",
    vouched: bool = False,
) -> str:
    """'350 m · zelfde straat · dinsdagochtend vrij · hielp u al twee keer'.

    The tie is named for what it is: past help ("hielp u al twee keer"), a direct tie
    ("kent u"), a vouched helper ("aanbevolen door de wijkcoach"), and a two-hop path
    ("via iemand die u kent") only when there is nothing more direct."""
    nl = lang == "nl"
    words = TIE_WORDS["nl" if nl else "en"]
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
    elif tie == TIE_KNOWS:
        bits.append(words[TIE_KNOWS])
    if tie == TIE_RECOMMENDED or (vouched and tie != TIE_KNOWS and not times_helped):
        bits.append(words[TIE_RECOMMENDED])
    elif tie == TIE_TWO_HOP and not times_helped:
        bits.append(words[TIE_TWO_HOP])
    return " · ".join(bits)


def explain(candidates: Candidates, lang: str = "nl") -> list[str]:
    """The explanation of every candidate row."""
    return [
        explain_one(d, s, n, slots, t, tie, lang, v)
        for d, s, n, slots, t, tie, v in zip(
            candidates.distance_m.tolist(),
            candidates.same_street.tolist(),
            candidates.same_neighbourhood.tolist(),
            candidates.overlap_slots.tolist(),
            candidates.times_helped.tolist(),
            candidates.tie.tolist(),
            candidates.vouched.tolist(),
            strict=True,
        )
    ]
