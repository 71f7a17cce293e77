"""What end users read about a GLM error, in Simplified Chinese and English.

Kept apart from errors.py so the wording can be reviewed (and later moved into
gettext catalogs) without touching the error logic. Messages say what happened in plain
words and what the user can do; they never include upstream text, ids or keys.
The platform's own message may be shown beside them, under a "details" fold, once
`platform_detail` has made it plain, short text.
"""

from __future__ import annotations

import re

from django.utils.html import strip_tags

# Long enough for the platform's sentences ("messages.content.image_url参数非法…"),
# short enough that a hostile or broken gateway cannot fill the page.
DETAIL_MAX_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

# kind -> (zh-hans, en)
_BY_KIND: dict[str, tuple[str, str]] = {
    "error": (
        "AI 服务出现问题，请稍后重试。",
        "Something went wrong with the AI service. Please try again later.",
    ),
    "unavailable": (
        "AI 服务暂时不可用，请稍后重试。",
        "The AI service is temporarily unavailable. Please try again in a moment.",
    ),
    "connection_failed": (
        "无法连接到 AI 服务，请检查网络后重试。",
        "Could not reach the AI service. Please check the connection and try again.",
    ),
    "timeout": (
        "AI 服务响应超时，请稍后重试。",
        "The AI service took too long to respond. Please try again.",
    ),
    "stream_interrupted": (
        "回复在传输中断开了，请重试。",
        "The reply was cut off on its way here. Please try again.",
    ),
    "rate_limited": (
        "请求太频繁，已达到调用限制，请稍等片刻再试。",
        "Too many requests right now. Please wait a moment and try again.",
    ),
    "server_error": (
        "AI 服务内部出错，请稍后重试。",
        "The AI service had an internal error. Please try again later.",
    ),
    "overloaded": (
        "AI 服务当前繁忙，请稍后重试。",
        "The AI service is busy right now. Please try again in a few minutes.",
    ),
    "bad_response": (
        "AI 服务返回了无法识别的内容，请重试。",
        "The AI service sent an answer we could not read. Please try again.",
    ),
    "stream_error": (
        "AI 服务在回复过程中出错，请重试。",
        "The AI service reported an error while replying. Please try again.",
    ),
    "rejected": (
        "AI 服务拒绝了这个请求。",
        "The AI service refused this request.",
    ),
    "bad_request": (
        "请求无法被处理，请修改内容或设置后再试。",
        "The request could not be processed. Please change the message or settings "
        "and try again.",
    ),
    "content_blocked": (
        "内容未通过安全审核，请修改后再试。",
        "The content was blocked by the safety filter. Please rephrase and try again.",
    ),
    "not_found": (
        "找不到该任务或资源，它可能已过期。",
        "The task or resource was not found; it may have expired.",
    ),
    "quota_exhausted": (
        "AI 服务的额度已用完，请联系管理员。",
        "The AI service has used up its quota. Please contact the administrator.",
    ),
    "auth_failed": (
        "AI 服务认证失败，请管理员检查 API 密钥。",
        "The AI service rejected our credentials. An administrator should check the "
        "API key.",
    ),
}

# Business codes whose advice differs from their class's.
_BY_CODE: dict[str, tuple[str, str]] = {
    "1113": (
        "AI 服务账户余额不足，请联系管理员充值。",
        "The AI service account has run out of balance. Please contact the "
        "administrator.",
    ),
    "1211": (
        "所选模型不存在，请换一个模型。",
        "The selected model does not exist. Please choose another model.",
    ),
    "1261": (
        "对话内容太长，请缩短消息或开始新的对话。",
        "The conversation is too long. Please shorten the message or start a new "
        "conversation.",
    ),
    "1304": (
        "今日调用次数已用完，请明天再试。",
        "Today's usage quota is used up. Please try again tomorrow.",
    ),
}

_INTERRUPTED = (
    "已收到的部分回复已保留。",
    "The part of the reply that arrived has been kept.",
)


def user_message(kind: str, code: str | None, interrupted: bool, language: str) -> str:
    """Return the end-user message for an error kind and business code."""
    index = 0 if language.lower().startswith("zh") else 1
    pair = (code is not None and _BY_CODE.get(code)) or _BY_KIND.get(kind)
    text = (pair or _BY_KIND["error"])[index]
    if interrupted:
        text += ("" if index == 0 else " ") + _INTERRUPTED[index]
    return text


def platform_detail(text: str) -> str:
    """Return the platform's error message as safe plain text: tags, control and
    direction-override characters removed, whitespace collapsed, at most
    DETAIL_MAX_CHARS characters (cut with "…"). The page must still insert it as text.
    """
    plain = " ".join(_CONTROL.sub(" ", strip_tags(text)).split())
    if len(plain) > DETAIL_MAX_CHARS:
        plain = plain[: DETAIL_MAX_CHARS - 1].rstrip() + "…"
    return plain
