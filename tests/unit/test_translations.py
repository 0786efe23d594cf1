"""Dutch first: every text the pages and services can show has a Dutch translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_a_dutch_translation():
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "mutualaid", method_map, options_map, keywords=keywords
        )
    }
    with open(ROOT / "mutualaid/translations/nl/LC_MESSAGES/messages.po", "rb") as po_file:
        catalog = read_po(po_file)
    untranslated = sorted(m for m in found if m and (m not in catalog or not catalog[m].string))
    assert untranslated == []
