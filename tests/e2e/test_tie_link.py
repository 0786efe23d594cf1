"""Tie invitation codes: the API's invitation carries the link to the web page that confirms
it (the endpoint name was wrong, so the link was always null); guessing codes is rate limited."""

from __future__ import annotations

from tests import staff_login
from tests.e2e.test_account_hardening import limited  # noqa: F401  (the fixture)
from tests.e2e.test_api_resident_flows import token_for
from tests.flows import neighbour


def test_a_tie_invitation_from_the_api_links_to_the_confirm_page(client, hengelo):
    headers = token_for(neighbour(0, first_name="Anna"))
    invitation = client.post("/api/v1/ties/invitations", headers=headers)
    assert invitation.status_code == 201
    body = invitation.get_json()
    assert body["link"].startswith("http://localhost/mijn/kennen/bevestigen?code=")
    assert body["link"].endswith(body["code"])


def test_guessing_tie_codes_is_rate_limited_on_the_page_and_the_api(limited, hengelo):  # noqa: F811
    """Ten wrong codes a minute, then 429 (like the activation code)."""
    from tests.casework import PASSWORD, staff

    headers = token_for(neighbour(0, first_name="Anna"))
    for _ in range(10):
        wrong = limited.post("/api/v1/ties/confirm", json={"code": "AAAAA-BBBBB"}, headers=headers)
        assert wrong.status_code == 422
    assert (
        limited.post("/api/v1/ties/confirm", json={"code": "x"}, headers=headers).status_code == 429
    )
    user = staff("resident", name="Bert")
    assert staff_login.sign_in(limited, user.email, PASSWORD).status_code == 302
    for _ in range(10):
        assert (
            limited.post("/mijn/kennen/bevestigen", data={"code": "AAAAA-BBBBB"}).status_code == 422
        )
    refused = limited.post("/mijn/kennen/bevestigen", data={"code": "AAAAA-BBBBB"})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
