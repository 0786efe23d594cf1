"""Oversized bodies are refused with 413 and the one error body, before anything reads them."""


def test_an_oversized_api_body_gets_413_as_json(client):
    response = client.post(
        "/api/v1/auth/tokens",
        data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_an_oversized_form_gets_413(client):
    response = client.post("/auth/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
