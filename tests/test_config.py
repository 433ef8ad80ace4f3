from __future__ import annotations

import stat
from pathlib import Path

from app.config import Settings


def test_missing_jwt_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path).jwt_secret()
    second = Settings(var_dir=tmp_path).jwt_secret()
    assert first == second
    assert len(first) >= 32
    secret_file = tmp_path / "jwt_secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Settings(var_dir=tmp_path / "other").jwt_secret() != first


def test_configured_secret_wins_and_defaults_are_embedded(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, jwt_secret_key="from-env")
    assert settings.jwt_secret() == "from-env"
    assert not (tmp_path / "jwt_secret").exists()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'queuechat.db'}"


def test_environment_is_read(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("N_THREADS", "3")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("WS_ALLOWED_ORIGINS", '["https://chat.example"]')
    settings = Settings(var_dir=tmp_path)
    assert settings.n_threads == 3
    assert settings.sqlalchemy_url == "postgresql://db/x"
    assert settings.ws_allowed_origins == ["https://chat.example"]
