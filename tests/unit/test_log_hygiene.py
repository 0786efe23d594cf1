"""The log-hygiene check itself (tests/log_hygiene.py): what it catches and what it leaves."""

from __future__ import annotations

import logging

import pytest

from tests.log_hygiene import HygieneHandler, find_personal_data


@pytest.mark.parametrize(
    "text",
    [
        "sent to anna@example.org",
        "calling 0612345678",
        "calling +31 6 1234 5678",
        "home at 7551 AB",
        "home at 7551AB",
        "lives at Marskant 12",
        "GET /auth/password/reset/Zr3x_9kQ-pL2mN8vT4wY1aB6cD0eF7gH5jK HTTP/1.1",
        "link: http://localhost/auth/confirm/Zr3x_9kQ-pL2mN8vT4wY1aB6cD0eF7gH5jK",
        "token ma_Zr3x_9kQ-pL2mN8vT4wY1aB6cD0eF7gH5jK",
    ],
)
def test_personal_data_is_found(text):
    assert find_personal_data(text)


@pytest.mark.parametrize(
    "text",
    [
        "request 1234 matched 10 helpers in 35.2 ms",
        "match_request(42) took 0.61 s",
        "GET /api/v1/requests/12 200",
        "job 3f2a-0612345678ab done",
        "retention: {'requests': 3, 'messages': 12}",
        "engine v2/2026-11-22 ranked 2000 requests",
        "GET /auth/password/reset/[token] HTTP/1.1",
        "GET /auth/confirm/[token] HTTP/1.1 200",
    ],
)
def test_ids_counts_and_timings_are_not_personal_data(text):
    assert find_personal_data(text) == []


def test_the_handler_names_the_test_and_the_logger_of_a_leak():
    handler = HygieneHandler()
    handler.current_test = "tests/x.py::test_y"
    logger = logging.getLogger("mutualaid.hygiene_probe")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("could not mail %s", "bert@example.org")
        logger.warning("could not mail resident %s", 42)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert [(t, name) for t, name, _, _ in handler.leaks] == [
        ("tests/x.py::test_y", "mutualaid.hygiene_probe")
    ]
