"""The SSE reader alone: bytes in, events out, whatever the network did to the bytes."""

from __future__ import annotations

import pytest

from glmweb.zhipu.sse import SSEDecoder, SSEEvent

CHINESE = "你好，世界🌏"
STREAM = (
    'data: {"n":1,"text":"' + CHINESE + '"}\n\n'
    ": keep-alive\n\n"
    "event: notice\nid: 7\ndata: first line\ndata: second line\n\n"
    "data: [DONE]\n\n"
).encode()
EXPECTED = [
    SSEEvent(('{"n":1,"text":"' + CHINESE + '"}').encode(), "message", ""),
    SSEEvent(b"first line\nsecond line", "notice", "7"),
    SSEEvent(b"[DONE]", "message", "7"),
]


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    start = 0
    for cut in [*cuts, len(data)]:
        events += decoder.feed(data[start:cut])
        start = cut
    return events


def test_sse_whole_stream_yields_every_event() -> None:
    assert SSEDecoder().feed(STREAM) == EXPECTED


def test_sse_split_at_every_byte_yields_the_same_events() -> None:
    assert decode_in_pieces(STREAM, list(range(1, len(STREAM)))) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_sse_split_in_two_anywhere_yields_the_same_events(cut: int) -> None:
    assert decode_in_pieces(STREAM, [cut]) == EXPECTED


def test_sse_split_inside_a_multibyte_character_keeps_the_text() -> None:
    data = f"data: {CHINESE}\n\n".encode()
    first_char = data.index(CHINESE[0].encode())
    for cut in range(first_char + 1, first_char + 3):  # inside the 3-byte 你
        (event,) = decode_in_pieces(data, [cut])
        assert event.data.decode() == CHINESE
    emoji = data.index("🌏".encode())
    (event,) = decode_in_pieces(data, [emoji + 1, emoji + 2, emoji + 3])
    assert event.data.decode() == CHINESE


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_sse_any_line_ending_yields_the_same_events(newline: bytes) -> None:
    data = STREAM.replace(b"\n", newline)
    assert SSEDecoder().feed(data) == EXPECTED
    assert decode_in_pieces(data, list(range(1, len(data)))) == EXPECTED


def test_sse_crlf_split_between_reads_is_one_line_end() -> None:
    # A CR ending one read and the LF starting the next must not become a blank line,
    # which would dispatch "a" on its own instead of "a\nb".
    events = decode_in_pieces(b"data: a\r\ndata: b\r\n\r\n", [8])
    assert events == [SSEEvent(b"a\nb")]


def test_sse_comment_and_keepalive_lines_yield_nothing() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b": ping\n\n:\n\n: another comment\n") == []
    assert decoder.feed(b"data: x\n\n") == [SSEEvent(b"x")]


def test_sse_event_and_id_fields_are_kept_and_event_name_resets() -> None:
    events = SSEDecoder().feed(b"event: error\nid: 42\ndata: {}\n\ndata: next\n\n")
    assert events == [
        SSEEvent(b"{}", "error", "42"),
        SSEEvent(b"next", "message", "42"),
    ]


def test_sse_retry_field_sets_reconnection_delay() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"retry: 3000\n\nretry: soon\n\n")
    assert decoder.retry == 3000


def test_sse_multiline_data_is_joined_with_newlines() -> None:
    events = SSEDecoder().feed(b'data: {\ndata:  "a": 1\ndata\ndata: }\n\n')
    assert events == [SSEEvent(b'{\n "a": 1\n\n}')]


def test_sse_data_without_space_after_colon_is_accepted() -> None:
    assert SSEDecoder().feed(b"data:[DONE]\n\n") == [SSEEvent(b"[DONE]")]


def test_sse_unknown_fields_and_blank_events_are_ignored() -> None:
    assert SSEDecoder().feed(b"foo: bar\n\n\n\nid\n\n") == []


def test_sse_unterminated_last_event_is_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: whole\n\ndata: cut off") == [SSEEvent(b"whole")]
    assert decoder.has_unfinished_event


def test_sse_leading_byte_order_mark_is_skipped_even_when_split() -> None:
    data = b"\xef\xbb\xbfdata: x\n\n"
    assert SSEDecoder().feed(data) == [SSEEvent(b"x")]
    assert decode_in_pieces(data, [1, 2]) == [SSEEvent(b"x")]
