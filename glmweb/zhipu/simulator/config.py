"""The knobs of one simulator process (set from the `runsimulator` command line)."""

from __future__ import annotations

from dataclasses import dataclass

# The key tests and local runs use (tests/conftest.py sets it as ZHIPUAI_API_KEY); its
# secret is known, so a JWT built from it is checked like the platform checks one.
DEFAULT_API_KEYS = ("test-id.test-secret",)


@dataclass(frozen=True)
class SimulatorConfig:
    token_rate: float = 50.0  # streamed tokens per second; 0 sends as fast as possible
    video_seconds: float = 10.0  # how long a video job stays PROCESSING
    api_keys: tuple[str, ...] = DEFAULT_API_KEYS

    def secret_for(self, key_id: str) -> str | None:
        """Return the secret of a known `id.secret` key, or None for an unknown id."""
        for key in self.api_keys:
            known_id, _, secret = key.partition(".")
            if known_id == key_id:
                return secret
        return None
