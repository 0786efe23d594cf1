"""Log lines: JSON in production, request ids, and no personal data."""

import json
import logging

from mutualaid.logs import JsonFormatter, RequestIdFilter, scrub, set_request_id


def test_scrub_masks_emails_phones_and_tokens():
    text = "mail jan.de.vries@example.org or 06-12345678 / +31 6 1234 5678 with ma_abcDEF123456789"
    cleaned = scrub(text)
    assert "jan.de.vries@example.org" not in cleaned
    assert "12345678" not in cleaned and "1234 5678" not in cleaned
    assert "ma_abcDEF123456789" not in cleaned
    assert cleaned.count("[email]") == 1 and cleaned.count("[phone]") == 2


def test_scrub_leaves_ids_and_counts_alone():
    assert scrub("request 1234 matched 10 helpers in 35.2 ms") == (
        "request 1234 matched 10 helpers in 35.2 ms"
    )


def test_json_line_carries_the_request_id_and_no_email():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent to %s", ("a@b.nl",), None)
    set_request_id("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        set_request_id(None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "req-42"
    assert entry["level"] == "INFO" and entry["message"] == "sent to [email]"


def test_an_id_that_starts_with_ten_digits_is_not_a_phone_number():
    """A request id is 32 hex characters: now and then its first ten are 06 and eight digits."""
    assert scrub("[0612345678fdb4c9097f64d08789c3b3f] done") == (
        "[0612345678fdb4c9097f64d08789c3b3f] done"
    )
    assert scrub("call 0612345678.") == "call [phone]."
    assert scrub("(06-12345678)") == "([phone])"
