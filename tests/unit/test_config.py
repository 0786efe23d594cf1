import pytest

from mutualaid.config import ConfigError, load_config, normalise_database_url


def test_development_defaults_use_sqlite_and_embedded_redis_under_instance(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "MUTUALAID_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(instance_path=tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'mutualaid.sqlite'}"
    assert config["REDIS_URL"] is None
    assert config["REDIS_EMBEDDED"] is True
    assert config["EMBEDDED_REDIS_PATH"].startswith(str(tmp_path))


def test_development_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(instance_path=tmp_path)["SECRET_KEY"]
    second = load_config(instance_path=tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_development_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("MUTUALAID_ENV", "production")
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        load_config(instance_path=tmp_path)


def test_production_refuses_a_short_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("MUTUALAID_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    with pytest.raises(ConfigError, match="at least 32"):
        load_config(instance_path=tmp_path)


def test_production_config_with_real_services_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("MUTUALAID_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/x")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    config = load_config(instance_path=tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/x"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REDIS_EMBEDDED"] is False


def test_bad_number_in_environment_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("SMALL_COUNT_THRESHOLD", "five")
    with pytest.raises(ConfigError, match="SMALL_COUNT_THRESHOLD"):
        load_config(instance_path=tmp_path)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://root@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_uses_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_production_refuses_switched_off_csrf_or_rate_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("MUTUALAID_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")
    monkeypatch.setenv("WTF_CSRF_ENABLED", "false")
    with pytest.raises(ConfigError, match="WTF_CSRF_ENABLED"):
        load_config(instance_path=tmp_path)
