"""Open a rendered page in headless Chromium with the network blocked, as a reader would."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class PageVisit:
    requests: list = field(default_factory=list)      # every URL the page asked for
    blocked: list = field(default_factory=list)       # non-file URLs (all blocked)
    failed: list = field(default_factory=list)        # requests that failed
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    images: int = 0
    broken_images: int = 0
    anchors_missing: list = field(default_factory=list)
    text: str = ""
    screenshot: bytes = b""


def visit(path: Path, screenshot: Path | None = None) -> PageVisit:
    from playwright.sync_api import sync_playwright

    out = PageVisit()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})

        def route(r):
            url = r.request.url
            out.requests.append(url)
            if url.startswith(("file:", "data:")):
                r.continue_()
            else:
                out.blocked.append(url)
                r.abort()

        page.route("**/*", route)
        page.on("requestfailed", lambda req: out.failed.append(req.url))
        page.on("console", lambda m: m.type == "error" and out.console_errors.append(m.text))
        page.on("pageerror", lambda e: out.page_errors.append(str(e)))
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        out.images = page.evaluate("document.images.length")
        out.broken_images = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
        out.anchors_missing = page.evaluate(
            "Array.from(document.querySelectorAll('a[href^=\"#\"]'))"
            ".map(a => a.getAttribute('href').slice(1))"
            ".filter(id => id && !document.getElementById(id))")
        out.text = page.inner_text("body")
        out.screenshot = page.screenshot(full_page=False)
        if screenshot is not None:
            Path(screenshot).write_bytes(out.screenshot)
        browser.close()
    return out
