"""Video jobs in a real browser against the whole app (`manage.py runapp`: Daphne, a
Celery worker with beat on the embedded broker, the simulator)."""

from __future__ import annotations

from tests.browser.conftest import sign_up

GALLERY_VIDEO = "[data-section=gallery] .job video.player"


def test_queued_job_becomes_a_playable_video_without_a_reload(page):
    sign_up(page)
    page.goto("/videos/")
    page.fill(
        "textarea[name=prompt]", "A lantern drifting at sea [[sim:ready_after=1]]"
    )
    page.select_option("select[name=model]", "cogvideox-3")
    page.select_option("select[name=quality]", "quality")
    page.select_option("select[name=size]", "1280x720")
    page.click("button[type=submit].primary")
    page.wait_for_selector("[data-section=queue] .job")

    # From here on the page must update itself: count navigations and mark the
    # document, so a reload would show.
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("window.__sameDocument = true")
    queue_card = page.locator("[data-section=queue] .job").first
    assert queue_card.get_attribute("data-status") in {
        "queued",
        "submitted",
        "processing",
    }
    assert "A lantern drifting at sea" in queue_card.inner_text()

    page.wait_for_selector(GALLERY_VIDEO, timeout=60_000)
    page.wait_for_function(
        """selector => {
            const video = document.querySelector(selector);
            return video && video.readyState >= 1 && video.duration > 0;
        }""",
        arg=GALLERY_VIDEO,
        timeout=20_000,
    )
    played = page.evaluate(
        """async selector => {
            const video = document.querySelector(selector);
            video.muted = true;
            await video.play();
            await new Promise(resolve => setTimeout(resolve, 300));
            return {time: video.currentTime, error: video.error && video.error.code};
        }""",
        GALLERY_VIDEO,
    )
    assert played["error"] is None and played["time"] > 0, played
    assert page.evaluate("window.__sameDocument") is True
    assert navigations == []
    card = page.locator("[data-section=gallery] .job").first
    assert card.get_attribute("data-status") == "succeeded"
    assert page.locator("[data-section=queue] .job").count() == 0
    download = card.locator("a[download]")
    assert download.get_attribute("href").endswith("/video/?download=1")


def test_videos_page_fits_a_phone_in_chinese(zh_page):
    sign_up(zh_page)
    zh_page.goto("/videos/")
    assert zh_page.locator("h1").inner_text() == "视频"
    assert zh_page.locator("button[type=submit].primary").inner_text() == "生成视频"
    overflow = zh_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    zh_page.click("button[type=submit].primary")  # nothing typed, no image
    assert "描述" in zh_page.locator(".field-prompt .field-errors").inner_text()
