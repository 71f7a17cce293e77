"""The model catalog read from settings.CHAT_MODELS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from chat import catalog


def test_default_catalog_has_the_documented_models():
    codes = [model.code for model in catalog.list_models()]
    assert codes[0] == "glm-4-flash"
    assert {"glm-4.6", "glm-4v-flash", "charglm-4"} <= set(codes)
    assert catalog.get_model("glm-4.6").supports("thinking")
    assert not catalog.get_model("glm-4-flash").supports("thinking")
    assert catalog.get_model("GLM-4V-Flash").supports("vision")
    assert catalog.context_length("glm-4-long") == 1_000_000


def test_default_model_follows_the_chat_model_setting(settings):
    settings.ZHIPUAI_CHAT_MODEL = "glm-4-plus"
    assert catalog.default_model() == "glm-4-plus"
    settings.ZHIPUAI_CHAT_MODEL = "not-offered"
    assert catalog.default_model() == "glm-4-flash"


def test_unknown_model_gets_a_text_only_stand_in():
    model = catalog.describe("glm-3-turbo")
    assert model.context == catalog.FALLBACK_CONTEXT
    assert model.capabilities == ("text",)
    assert catalog.get_model("glm-3-turbo") is None


def test_max_output_defaults_to_4095_or_the_context(settings):
    settings.CHAT_MODELS = [
        {"code": "a", "context": 128000},
        {"code": "b", "context": 2000, "label": "B"},
    ]
    a, b = catalog.list_models()
    assert (a.label, a.max_output, a.capabilities) == ("a", 4095, ("text",))
    assert b.max_output == 2000


@pytest.mark.parametrize(
    "entries",
    [[], [{"label": "no code"}], [{"code": "x", "capabilities": ["telepathy"]}]],
)
def test_malformed_catalog_is_a_configuration_error(settings, entries):
    settings.CHAT_MODELS = entries
    with pytest.raises(ImproperlyConfigured):
        catalog.list_models()


def test_roleplay_models_stay_in_the_catalog_but_are_not_offered_for_plain_chat():
    charglm = catalog.get_model("charglm-4")
    assert charglm is not None and charglm.needs_meta
    assert not catalog.get_model("glm-4.6").needs_meta
    offered = [model.code for model in catalog.chat_models()]
    assert "charglm-4" not in offered and "glm-4.6" in offered
    assert [model["code"] for model in catalog.catalog()] == offered


def test_default_model_is_never_one_that_needs_a_character(settings):
    settings.ZHIPUAI_CHAT_MODEL = "charglm-4"
    assert catalog.default_model() == "glm-4-flash"
    settings.CHAT_MODELS = [
        {"code": "charglm-3", "capabilities": ["text", "roleplay"]},
        {"code": "glm-4-air"},
    ]
    assert catalog.default_model() == "glm-4-air"


def test_catalog_with_only_roleplay_models_is_a_configuration_error(settings):
    settings.CHAT_MODELS = [{"code": "charglm-4", "capabilities": ["roleplay"]}]
    with pytest.raises(ImproperlyConfigured):
        catalog.chat_models()
