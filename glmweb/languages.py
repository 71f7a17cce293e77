"""Which of settings.LANGUAGES a request speaks when Django's LocaleMiddleware is not
in its path (the chat socket, Daphne's 413 for an oversized body): one rule for both."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def choose_language(cookie_language: str, accept_language: str) -> str:
    """Return the language cookie's language, else Accept-Language's first supported
    one, else settings.LANGUAGE_CODE (as a code of settings.LANGUAGES)."""
    candidates = [cookie_language] if cookie_language else []
    candidates += [code for code, _q in parse_accept_lang_header(accept_language)]
    for code in candidates:
        if code and code != "*":
            try:
                return get_supported_language_variant(code)
            except LookupError:
                continue
    return settings.LANGUAGE_CODE
