"""Registering the way a person does: the confirmation mail arrives at the real local SMTP
server (tests/smtp_server.py) and its link is opened and confirmed in the test client."""

from __future__ import annotations

import re

from tests.queued_jobs import run_account_mail_jobs
from tests.smtp_server import local_smtp_server

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/auth/confirm/[\w-]+)")
RESET_LINK = re.compile(r"https?://[^/\s]+(/auth/password/reset/[\w-]+)")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def mail_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_path(message, pattern=CONFIRM_LINK) -> str:
    """The path of the link in a mail (the confirmation link unless told)."""
    found = pattern.search(mail_text(message))
    assert found, mail_text(message)
    return found.group(1)


def with_mail(app, action):
    """Do `action()` with the SMTP server up, run the queued account mail jobs; return what
    the action returned and the mails that arrived."""
    with local_smtp_server(app) as inbox:
        result = action()
        run_account_mail_jobs()
        # Delivery is synchronous: a job that sent a mail has had it accepted already.
        messages = list(inbox.messages)
    return result, messages


def follow_confirmation(client, path: str):
    """Open a confirmation link and press its button (with the page's CSRF token if any)."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    token = CSRF.search(page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token.group(1)} if token else {})


def register_and_confirm(client, app, form: dict | None = None, *, json: dict | None = None):
    """Register on the website (form) or the API (json), then follow the mailed link in
    `client`. Returns the confirmation's response (a redirect, signed in on the website)."""
    if json is not None:
        response, mails = with_mail(app, lambda: client.post("/api/v1/auth/register", json=json))
        assert response.status_code == 202, response.get_json()
    else:
        response, mails = with_mail(app, lambda: client.post("/auth/register", data=form))
        assert response.status_code == 302, response.status_code
    [mail] = mails
    confirmed = follow_confirmation(client, link_path(mail))
    assert confirmed.status_code == 302, confirmed.status_code
    return confirmed
