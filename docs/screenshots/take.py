"""Take the README's screenshots of every main page, light and dark, phone and desktop.

Starts the whole app as the browser tests do (`manage.py runapp` on free ports, the
GLM simulator, a database of its own in a temporary folder), signs up a demo user,
gives it a few conversations in Chinese and English, two characters and two video
jobs, then saves `<page>-<phone|desktop>-<light|dark>.png` beside this file.

    .venv/bin/python docs/screenshots/take.py

Chinese is shown on phones and on the chat page (most people with a BigModel key read
it first); the other desktop pages are in English. Needs Chromium (GLMWEB_CHROMIUM,
default /usr/bin/chromium) and a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
USERNAME = "xiaoming"

# The conversation the chat page shows: an answer with code and a table, then a
# follow-up the script sends, so the last reply is streamed by the running app.
MAIN_TITLE = "Python 快速排序与排序算法对比"
MAIN_QUESTION = "用 Python 写一个快速排序，再用表格比较几种常见排序算法的复杂度。"
MAIN_ANSWER = """好的！下面是一个简洁的快速排序实现：

```python
def quick_sort(items: list[int]) -> list[int]:
    if len(items) <= 1:
        return items
    pivot, *rest = items
    smaller = [x for x in rest if x < pivot]
    larger = [x for x in rest if x >= pivot]
    return quick_sort(smaller) + [pivot] + quick_sort(larger)


print(quick_sort([5, 3, 8, 1, 9, 2]))  # [1, 2, 3, 5, 8, 9]
```

几种常见排序算法的对比：

| 算法 | 平均时间 | 最坏时间 | 额外空间 | 稳定 |
| --- | --- | --- | --- | --- |
| 快速排序 | O(n log n) | O(n²) | O(log n) | 否 |
| 归并排序 | O(n log n) | O(n log n) | O(n) | 是 |
| 堆排序 | O(n log n) | O(n log n) | O(1) | 否 |
| 插入排序 | O(n²) | O(n²) | O(1) | 是 |

数据量小或基本有序时，**插入排序**往往更快；需要稳定排序时选**归并排序**。"""
FOLLOW_UP = "能改成原地排序的版本吗？"
# (title, model, question, answer), oldest first; the main conversation comes last.
OTHER_CONVERSATIONS = [
    (
        "Regex for mainland phone numbers",
        "glm-4-flash",
        "Write a regex that matches mainland China mobile numbers.",
        "Use `^1[3-9]\\d{9}$`: a 1, then 3 to 9, then nine more digits.",
    ),
    (
        "周末杭州两日游",
        "glm-4-plus",
        "帮我安排一个周末杭州两日游的行程。",
        "**第一天**：西湖断桥、白堤、苏堤，傍晚去湖滨步行街。\n\n"
        "**第二天**：灵隐寺、龙井村品茶，晚上看《宋城千古情》。",
    ),
    (
        "Django signals vs. save()",
        "glm-4.6",
        "When should I use a Django signal instead of overriding save()?",
        "Override `save()` for rules that belong to the model itself; use a signal "
        "when another app needs to react without the model knowing about it.",
    ),
    (
        "产品发布会邀请函（中译英）",
        "glm-4-air",
        "把这段邀请函翻译成英文：诚邀您出席我们的新品发布会。",
        "We cordially invite you to the launch of our new product.",
    ),
]
AVATAR_COLOURS = [(70, 90, 140), (180, 80, 60)]
CHARACTERS = [
    {
        "name": "Sherlock Holmes",
        "description": "{{char}} is a consulting detective at 221B Baker Street.",
        "personality": "observant, blunt, curious",
        "greeting": "You have been in Afghanistan, I perceive, {{user}}.",
        "tags_text": "detective, mystery",
    },
    {
        "name": "李白",
        "description": "{{char}}，字太白，号青莲居士，唐代浪漫主义诗人。",
        "personality": "豪放、洒脱、爱酒",
        "greeting": "{{user}}，且饮此杯，与我共赏明月！",
        "tags_text": "诗人, 唐朝",
    },
]
# No simulator directives: they would show in the cards. The simulator finishes a job
# in 10 s, well before the pictures are taken.
VIDEOS = [
    "海上漂流的灯笼，黄昏，电影感",
    "A red panda eating bamboo in the snow",
]
THEMES = ("light", "dark")
# Phones in Chinese; desktops in Chinese for the chat page, English for the others.
LOCALES = {"phone": ("zh-CN",), "desktop": ("zh-CN", "en-US")}
# What a picture should show when the page is longer than the screen: on a desktop
# the answer with code and a table (a phone shows the table and the streamed reply
# below it), and the videos (the form is above them).
SCROLL_TO = {
    ("chat", "desktop"): "li.msg-assistant pre",
    ("videos", "desktop"): "#gallery-title",
    ("videos", "phone"): "#gallery-title",
}


def avatar_png(colour: tuple[int, int, int]) -> bytes:
    """A simple square avatar: a soft gradient in `colour`."""
    from PIL import Image

    image = Image.new("RGB", (256, 256))
    image.putdata(
        [
            tuple(int(c + (255 - c) * (x + y) / 510 * 0.6) for c in colour)
            for y in range(256)
            for x in range(256)
        ]
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_conversations(username: str) -> str:
    """Give the user its conversations (the running app's database); return the id
    of the main one."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from chat.models import Conversation, Message

    user = get_user_model().objects.get(username=username)
    main = None
    for title, model, question, answer in [
        *OTHER_CONVERSATIONS,
        (MAIN_TITLE, "glm-4.6", MAIN_QUESTION, MAIN_ANSWER),
    ]:
        conversation = Conversation.objects.create(
            owner=user, title=title, title_is_auto=False, model=model
        )
        for role, content in (
            (Message.Role.USER, question),
            (Message.Role.ASSISTANT, answer),
        ):
            Message.objects.create(
                conversation=conversation,
                role=role,
                status=Message.Status.COMPLETE,
                content=content,
                model=model,
            )
        main = conversation
    assert main is not None
    connections.close_all()
    return str(main.pk)


def create_characters(page) -> str:
    """Create the characters through their form; return the last one's id."""
    character_id = ""
    for character, colour in zip(CHARACTERS, AVATAR_COLOURS, strict=True):
        page.goto("/characters/new/")
        for field in ("name", "description", "personality", "greeting", "tags_text"):
            page.fill(f"[name={field}]", character[field])
        page.set_input_files(
            "input[name=avatar_upload]",
            {
                "name": "avatar.png",
                "mimeType": "image/png",
                "buffer": avatar_png(colour),
            },
        )
        page.locator("form.stacked button[type=submit].primary").click()
        page.wait_for_url(re.compile(r".*/characters/[0-9a-f-]{36}/$"))
        character_id = page.url.rstrip("/").rsplit("/", 1)[1]
    return character_id


def queue_videos(page) -> None:
    page.goto("/videos/")
    for prompt in VIDEOS:
        page.fill("textarea[name=prompt]", prompt)
        page.click("button[type=submit].primary")
        page.wait_for_load_state("networkidle")


def wait_for_videos(page) -> None:
    page.goto("/videos/")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-section=gallery] .job video').length"
        " >= n",
        arg=len(VIDEOS),
        timeout=120_000,
    )


def stream_follow_up(page, conversation_id: str) -> None:
    page.goto(f"/c/{conversation_id}/")
    box = page.locator("#composer-input")
    box.fill(FOLLOW_UP)
    box.press("Enter")
    page.wait_for_selector("li.msg-assistant:nth-of-type(4)[data-status=complete]")


def settle(page) -> None:
    """Wait until the page has drawn what it loads: fonts, pictures, the chat."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.evaluate(
        "Promise.all([...document.images].filter(i => !i.complete).map("
        "i => new Promise(r => { i.onload = i.onerror = r; })))"
    )
    # No caret or hover state in the picture.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)


def shoot(page, name: str, scroll_to: str | None = None) -> None:
    settle(page)
    if scroll_to:
        page.locator(scroll_to).first.evaluate(
            "e => e.scrollIntoView({block: 'start'})"
        )
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    print(f"{path.relative_to(BASE_DIR)} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    sys.path.insert(0, str(BASE_DIR))
    # Like the browser tests: SQLite and the embedded services, never a shared database.
    for name in ("DATABASE_URL", "REDIS_URL", "ZHIPUAI_API_KEY", "ZHIPUAI_BASE_URL"):
        os.environ.pop(name, None)
    var_dir = Path(tempfile.mkdtemp(prefix="glmweb-screenshots-"))
    try:
        take(var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def take(var_dir: Path) -> None:
    os.environ["GLMWEB_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "glmweb.settings"
    import django

    django.setup()
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import (
        CHROMIUM,
        CHROMIUM_ARGS,
        DESKTOP,
        PASSWORD,
        PHONE,
        new_context,
        running_app,
        sign_up,
    )

    with running_app(var_dir) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        setup = new_context(browser, app, locale="zh-CN", viewport=DESKTOP, dark=False)
        page = setup.new_page()
        sign_up(page, USERNAME)
        queue_videos(page)
        # Playwright's sync API runs an event loop in this thread, where Django
        # refuses ORM calls: the rows are written from a thread of their own.
        with ThreadPoolExecutor(1) as pool:
            conversation_id = pool.submit(seed_conversations, USERNAME).result()
        character_id = create_characters(page)
        stream_follow_up(page, conversation_id)
        wait_for_videos(page)
        setup.close()

        pages = {
            "chat": f"/c/{conversation_id}/",
            "characters": "/characters/",
            "character-edit": f"/characters/{character_id}/edit/",
            "videos": "/videos/",
            "connection": "/accounts/connection/",
        }
        for theme in THEMES:
            for device, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                for locale in LOCALES[device]:
                    context = new_context(
                        browser,
                        app,
                        locale=locale,
                        viewport=viewport,
                        dark=theme == "dark",
                    )
                    page = context.new_page()
                    chinese = locale == "zh-CN"
                    if chinese == (device == "phone"):
                        page.goto("/accounts/login/")
                        shoot(page, f"login-{device}-{theme}")
                    page.goto("/accounts/login/")
                    page.fill("input[name=username]", USERNAME)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_selector(
                        f"[data-username='{USERNAME}']", state="attached"
                    )
                    for name, path in pages.items():
                        wanted_chinese = device == "phone" or name == "chat"
                        if chinese != wanted_chinese:
                            continue
                        page.goto(path)
                        if name == "chat":
                            page.wait_for_selector(
                                "li.msg-assistant[data-status=complete]"
                            )
                        shoot(
                            page,
                            f"{name}-{device}-{theme}",
                            SCROLL_TO.get((name, device)),
                        )
                    context.close()
        browser.close()


if __name__ == "__main__":
    main()
