"""The API's tie invitation carries the link to the web page that confirms it (the endpoint
name was wrong, so the link was always null)."""

from __future__ import annotations

from tests.e2e.test_api_resident_flows import token_for
from tests.flows import neighbour


def test_a_tie_invitation_from_the_api_links_to_the_confirm_page(client, hengelo):
    headers = token_for(neighbour(0, first_name="Anna"))
    invitation = client.post("/api/v1/ties/invitations", headers=headers)
    assert invitation.status_code == 201
    body = invitation.get_json()
    assert body["link"].startswith("http://localhost/mijn/kennen/bevestigen?code=")
    assert body["link"].endswith(body["code"])
