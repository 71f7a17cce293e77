"""Platform error bodies: `{"error": {"code": "1211", "message": "..."}}`.

Codes and wording follow the BigModel error-code table (docs/simulator.md lists the
HTTP status chosen for each, since the platform documents codes without statuses).
"""

from __future__ import annotations

import orjson

# code -> (HTTP status, message). `{field}` is filled in by `platform_error(field=...)`.
CODES: dict[str, tuple[int, str]] = {
    "500": (500, "内部错误。"),
    "1000": (401, "身份验证失败。"),
    "1001": (401, "Header中未收到Authorization参数，无法进行身份验证。"),
    "1002": (401, "Authorization Token非法，请确认Authorization Token正确传递。"),
    "1003": (401, "Authorization Token已过期，请重新生成/获取。"),
    "1004": (401, "Authorization Token验证失败，请确认Authorization Token正确传递。"),
    "1113": (429, "余额不足或无可用资源包,请充值。"),
    "1210": (400, "API 调用参数有误，请检查文档。"),
    "1211": (400, "模型不存在，请检查模型代码。"),
    "1212": (400, "当前模型不支持{field}调用方式。"),
    "1213": (400, "未正常接收到{field}参数。"),
    "1214": (400, "{field}参数非法。请检查文档。"),
    "1222": (404, "API 不存在。"),
    "1261": (400, "Prompt 超长。"),
    "1301": (
        400,
        "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的"
        "提示语，感谢您的配合。",
    ),
    "1302": (429, "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"),
    "1303": (429, "您当前使用该API的频率过高，请降低频率，或联系客服增加限额。"),
    "1304": (429, "该API已达今日调用次数限额，如有更多需求，请联系客服购买。"),
    "1305": (503, "当前API请求过多，请稍后重试。"),
}

# The code a `[[sim:status=N]]` directive answers with when no `code=` is given.
DEFAULT_CODE_FOR_STATUS = {
    400: "1210",
    401: "1000",
    429: "1302",
    500: "500",
    503: "1305",
}

ERROR_CONTENT_TYPE = b"application/json"


class PlatformError(Exception):
    """An error the platform would answer with; `body()` is the exact wire JSON."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def body(self) -> bytes:
        return orjson.dumps({"error": {"code": self.code, "message": self.message}})

    def as_event(self) -> dict[str, dict[str, str]]:
        """Return the error object as the platform puts it inside a stream."""
        return {"error": {"code": self.code, "message": self.message}}


def platform_error(
    code: str, *, field: str | None = None, status: int | None = None, detail: str = ""
) -> PlatformError:
    """Return the PlatformError for a business code, its message filled in."""
    default_status, template = CODES.get(code, (status or 400, "模拟错误。"))
    message = template.replace("{field}", field or "")
    if detail:
        message = f"{message} ({detail})"
    return PlatformError(status or default_status, code, message)
