"""Deterministic reply text: a function of the model and the user's words only.

A reply quotes the user's last message (shortened) in a fixed sentence, in Chinese when
the message contains CJK characters, so a test can predict every token.
"""

from __future__ import annotations

import re
from itertools import cycle, islice

CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A token is a CJK character, or a run of other non-space characters with its trailing
# space, or a run of punctuation: roughly how the platform's tokenizer splits for us.
TOKEN_RE = re.compile(
    r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
    r"|[^\s\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*"
    r"|\s+"
)
SUMMARY_CHARS = 60


def is_chinese(text: str) -> bool:
    return CJK_RE.search(text) is not None


def tokenize(text: str) -> list[str]:
    """Split `text` into the pieces the stream sends; joined they give `text` back."""
    return TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(TOKEN_RE.findall(text))


def summarize(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[: SUMMARY_CHARS - 1] + "…"


def chat_reply(model: str, user_text: str, notes: list[str], *, zh: bool) -> str:
    """Return the reply of a text or vision model; `notes` are sentences to include.

    It reads as an answer a first-time user understands: what it answers, then that the
    simulator gave it and how to reach the real model."""
    summary = summarize(user_text)
    if zh:
        notes_zh = "".join(notes)
        return (
            f"这是对“{summary}”的示例回答。{notes_zh}"
            f"它来自代替 {model} 的 GLM 模拟器：设置 API 密钥后，将由真实模型作答。"
        )
    joined = "".join(f"{note} " for note in notes)
    return (
        f'Here is a sample answer to "{summary}". {joined}It comes from the GLM '
        f"simulator standing in for {model}: set an API key and the real model "
        "answers instead."
    )


# A request whose system prompt asks for a title (the app's automatic titles) gets one,
# not a quoted reply: a conversation list of `You said: "User: …` read like a bug.
TITLE_REQUEST_RE = re.compile(r"\btitle\b|标题", re.IGNORECASE)
# Title prompts carry the exchange as a transcript; the user's turn names the topic.
TRANSCRIPT_USER_RE = re.compile(r"^\s*User:\s*(.*?)(?:\n\s*\nAssistant:|\Z)", re.S)
TITLE_WORDS = 6
TITLE_CJK_CHARS = 12


def title_reply(user_text: str) -> str:
    """Return a short title made of the opening words of the user's turn: at most six
    words, or twelve characters of Chinese."""
    match = TRANSCRIPT_USER_RE.match(user_text)
    said = match.group(1) if match else user_text
    line = next((ln.strip() for ln in said.splitlines() if ln.strip()), "")
    if is_chinese(line):
        title = line[:TITLE_CJK_CHARS]
    else:
        title = " ".join(line.split()[:TITLE_WORDS])
    title = title.rstrip("。.!！?？:：;；,，、 ")
    return title or "New conversation"


def roleplay_reply(bot_name: str, user_name: str, user_text: str, *, zh: bool) -> str:
    """Return a charglm/emohaa reply that names both sides of the role-play."""
    summary = summarize(user_text)
    if zh:
        return f"{bot_name}：你好，{user_name}……你说“{summary}”，我记住了。"
    return f'{bot_name}: Hello, {user_name}… you said "{summary}", and I am listening.'


def reasoning_text(user_text: str, *, zh: bool) -> str:
    """Return the reasoning a thinking model streams before its answer."""
    summary = summarize(user_text)
    if zh:
        return f"用户说的是“{summary}”。我先想一想，然后简短地回答。"
    return f'The user wrote "{summary}". Let me think briefly, then answer.'


def stretch(tokens: list[str], count: int) -> list[str]:
    """Return exactly `count` tokens: `tokens` cut short or repeated."""
    if not tokens:
        tokens = ["…"]
    return list(islice(cycle(tokens), count))
