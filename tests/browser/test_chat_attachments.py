"""Images in a real browser: attach by the button, by drag-and-drop and by paste,
remove one before sending, get an answer about each image, and still see the
thumbnails (served only to their owner) after a reload."""

from __future__ import annotations

import base64
import io

from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_chat_streaming import CONVERSATION_URL, last_reply, new_chat


def png(size, colour) -> bytes:
    # RGBA stays PNG on the server, so the simulator reports the exact colour.
    out = io.BytesIO()
    Image.new("RGBA", size, (*colour, 255)).save(out, format="PNG")
    return out.getvalue()


DROP_OR_PASTE = """
async ([kind, files]) => {
  const transfer = new DataTransfer();
  for (const [name, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type: "image/png" }));
  }
  if (kind === "drop") {
    const zone = document.querySelector(".chat-main");
    const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
    zone.dispatchEvent(new DragEvent("dragover", init));
    zone.dispatchEvent(new DragEvent("drop", init));
  } else {
    const box = document.getElementById("composer-input");
    const init = { clipboardData: transfer, bubbles: true, cancelable: true };
    box.dispatchEvent(new ClipboardEvent("paste", init));
  }
}
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_attach_by_button_drop_and_paste_then_see_them_after_a_reload(page):
    new_chat(page)
    picker = page.locator("#model-picker")
    picker.select_option("glm-4-flash")
    expect(page.locator("#attach-button")).to_be_hidden()  # no vision: not offered
    picker.select_option("glm-4v-plus")
    expect(page.locator("#attach-button")).to_be_visible()

    with page.expect_file_chooser() as chooser:
        page.click("#attach-button")
    chooser.value.set_files(
        {
            "name": "red.png",
            "mimeType": "image/png",
            "buffer": png((40, 30), (255, 0, 0)),
        }
    )
    page.evaluate(
        DROP_OR_PASTE,
        [
            "drop",
            [
                ["green.png", b64(png((30, 20), (0, 255, 0)))],
                ["unwanted.png", b64(png((10, 10), (9, 9, 9)))],
            ],
        ],
    )
    page.evaluate(
        DROP_OR_PASTE, ["paste", [["blue.png", b64(png((20, 10), (0, 0, 255)))]]]
    )
    items = page.locator("#attach-tray .attach-item")
    expect(items).to_have_count(4)
    expect(
        page.locator('#attach-tray .attach-item[data-status="ready"]')
    ).to_have_count(4)
    items.filter(has_text="unwanted.png").locator(".attach-remove").click()
    expect(items).to_have_count(3)

    box = page.locator("#composer-input")
    box.fill("Describe these pictures")
    box.press("Enter")

    page.wait_for_url(CONVERSATION_URL)
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-status", "complete", timeout=20_000)
    text = reply.locator(".msg-body").inner_text()
    assert "3 image(s) and 0 video(s)" in text
    assert "[1] Image size 40x30, dominant colour #ff0000." in text
    assert "[2] Image size 30x20, dominant colour #00ff00." in text
    assert "[3] Image size 20x10, dominant colour #0000ff." in text
    expect(reply.locator(".msg-seen")).to_contain_text("3 attachments")
    expect(page.locator("#attach-tray .attach-item")).to_have_count(0)

    page.reload()
    thumbs = page.locator("li.msg-user .msg-attachment-img")
    expect(thumbs).to_have_count(3)
    assert [thumbs.nth(i).get_attribute("alt") for i in range(3)] == [
        "red.png",
        "green.png",
        "blue.png",
    ]
    page.wait_for_function(
        "[...document.querySelectorAll('.msg-attachment-img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    full = page.locator("li.msg-user .msg-attachment").first.get_attribute("href")
    status = page.evaluate(
        "async (href) => { const r = await fetch(href);"
        " return [r.status, r.headers.get('content-type')]; }",
        full,
    )
    assert status == [200, "image/png"]
