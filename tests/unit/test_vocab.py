import pytest

from mutualaid.models.vocab import channel_codes, channel_mask, language_codes, language_mask


def test_language_mask_round_trips():
    assert language_codes(language_mask(["nl", "tr", "uk"])) == ["nl", "tr", "uk"]


def test_unknown_language_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        language_mask(["nl", "xx"])


def test_channel_mask_round_trips():
    assert channel_codes(channel_mask(["video", "phone"])) == ["phone", "video"]
