"""Built-in presets (the seed's prompts) and users' own."""

from __future__ import annotations

import pytest
from django.utils import translation

from chat import presets


def test_builtin_presets_are_the_seeds_three():
    assert [p.key for p in presets.BUILTIN_PRESETS] == ["coding", "writing", "analysis"]


def test_builtin_prompts_follow_the_language():
    with translation.override("zh-hans"):
        chinese = presets.builtin_presets()
    with translation.override("en"):
        english = presets.builtin_presets()
    assert chinese[2]["name"] == "数据分析专家"
    assert chinese[2]["system_prompt"] == "你是一个数据分析专家，擅长从数据中提取洞察。"
    assert english[2]["name"] == "Data analyst"
    assert english[1]["system_prompt"].startswith("You are a creative writing")


@pytest.mark.django_db
def test_duplicate_name_raises_and_keeps_the_first(user):
    presets.create_preset(user, name="Mine", system_prompt="a")
    with pytest.raises(presets.PresetNameTakenError):
        presets.create_preset(user, name="Mine", system_prompt="b")
    other = presets.create_preset(user, name="Other", system_prompt="c")
    with pytest.raises(presets.PresetNameTakenError):
        presets.update_preset(other, name="Mine")
    assert [p.name for p in presets.own_presets(user)] == ["Mine", "Other"]
