"""Security headers: our own assets only (plus a configured tile host), no caching of pages
that may hold personal data."""

from mutualaid import content_security_policy


def test_policy_allows_only_our_own_assets_by_default(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "https:" not in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_a_configured_tile_host_is_the_only_outside_image_source():
    policy = content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tile.example.org;" in policy


def test_personal_pages_and_api_answers_are_not_stored(client):
    assert client.get("/mijn/").headers["Cache-Control"] == "no-store"  # redirect to sign in
    assert client.get("/api/v1/me").headers["Cache-Control"] == "no-store"
    assert client.get("/auth/login").headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/health").headers.get("Cache-Control") != "no-store"
