"""The page in a real headless browser (Debian's chromium, driven by Playwright; never ``playwright install``).

Against the real server process with the real perception tools and the real embedded chat model: upload the
example clip, watch the overview (timeline, transcript, people) appear, ask how the people feel, wait for the
streamed answer, and check what the page shows. Screenshots go to ``out/web/`` (and the test's tmp folder).
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from tests.web.conftest import WebServer

CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE = Path(__file__).parents[2] / "examples" / "interview.mp4"
SHOTS = Path(__file__).parents[2] / "out" / "web"
ANSWER_TIMEOUT_MS = 900_000  # the embedded model on 2 busy cores; about 40 s on an idle machine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: scripts/setup.sh installs it (apt-get install chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def _shot(page: object, name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def _loaded(page: object, selector: str) -> bool:
    """Whether the images matching ``selector`` all decode (a broken URL leaves naturalWidth at 0), waiting up to
    20 s for them to arrive."""
    check = f"""() => {{
        const imgs = [...document.querySelectorAll({selector!r})];
        return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
    }}"""
    try:
        page.wait_for_function(check, timeout=20_000)  # type: ignore[attr-defined]
    except PlaywrightTimeout:
        return False
    return True


def test_upload_ask_and_see_the_evidence(web_server: WebServer, browser: object, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page.goto(web_server.url)
    assert page.title() == "Mien"

    # A file that is not media is refused with the server's message, and the page goes on.
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n")
    page.set_input_files("#file", str(bad))
    page.wait_for_selector("#file-status.error")
    assert "notes.mp4 is not a video, image or audio file" in page.inner_text("#file-status")

    page.set_input_files("#file", str(EXAMPLE))
    page.wait_for_selector("#player video")
    assert page.inner_text("#file-status") == "interview.mp4: video, 10.0 s"
    page.wait_for_selector("#progress .bar", timeout=60_000)  # perception shows its stages while it runs
    page.wait_for_selector("#overview:not([hidden]) #timeline img", timeout=600_000)
    page.wait_for_function("document.querySelector('#timeline img').naturalWidth > 0")
    assert _loaded(page, "#timeline img")
    transcript = page.inner_text("#transcript")
    assert "0:00.0" in transcript and "wonderful" in transcript  # espeak-ng's "It is wonderful to be back ..."
    people = page.inner_text("#identities")
    assert "#1 (left): unknown" in people and "#2 (right): unknown" in people
    assert "nobody is enrolled" in people

    # Clicking a time in the transcript seeks the video there.
    page.locator("#transcript a.time").nth(1).click()
    seconds = float(page.locator("#transcript a.time").nth(1).inner_text().split(":")[1])
    page.wait_for_function(f"Math.abs(document.querySelector('#player video').currentTime - {seconds}) < 0.6")

    page.fill("#question", "How do the people in this clip feel?")
    page.click("#ask")
    page.wait_for_selector(".turn .tools li", timeout=ANSWER_TIMEOUT_MS)  # tools show while they run
    _shot(page, "web_during_answer.png", tmp_path)
    page.wait_for_selector(".turn:not(.pending) .label", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_function("[...document.querySelectorAll('.frames img')].every(i => i.complete)")
    _shot(page, "web_answer.png", tmp_path)

    turn = page.locator(".turn").last
    assert turn.locator(".label").inner_text() == "Happiness"  # both faces: the tools' label, not the model's
    assert len(turn.locator(".answer").inner_text().strip()) > 20
    tools = turn.locator(".tools li").all_inner_texts()
    assert any(t.startswith("read_emotions ") and t.endswith(" s") for t in tools), tools
    assert turn.locator(".frames img").count() >= 1 and _loaded(page, ".turn .frames img")
    assert "AU12" in turn.locator(".evidence").inner_text()
    # Every fact the prose cites ("[F3]") is spelled out under it, saying what kind of evidence it is.
    cited = sorted(set(re.findall(r"\bF\d+\b", turn.locator(".answer").inner_text())))
    shown = sorted(text.split(" ", 1)[0] for text in turn.locator(".facts li").all_inner_texts())
    assert shown == cited

    # The thread is listed; a fresh page resumes it with its turn, frames and all.
    thread_id = page.inner_text("#thread-label").removeprefix("thread ")
    page.goto(web_server.url)
    page.wait_for_selector("#threads li")
    page.click("#threads li >> text=How do the people in this clip feel?")
    page.wait_for_selector(".turn .label")
    assert page.inner_text("#thread-label") == f"thread {thread_id}"
    assert page.locator(".turn .label").inner_text() == "Happiness"
    page.wait_for_selector("#overview:not([hidden]) #timeline img")
    assert _loaded(page, ".turn .frames img")
    _shot(page, "web_resumed.png", tmp_path)
    # The conversation itself is in the checkpointer `mien chat` uses, under the same thread id.
    with sqlite3.connect(web_server.home / "threads.sqlite") as threads:
        stored = {row[0] for row in threads.execute("SELECT DISTINCT thread_id FROM checkpoints")}
    assert thread_id in stored
    assert web_server.process.poll() is None
