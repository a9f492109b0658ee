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


#: axe-core, installed from the npm registry by `make axe` (pinned in the Makefile).
AXE = Path(__file__).resolve().parents[1] / ".cache" / "node_modules" / "axe-core" / "axe.min.js"

# Pairs of <text> boxes of one SVG figure that overlap by more than a pixel each way.
_OVERLAPS = """
() => {
  const out = [];
  document.querySelectorAll('figure.em-chart svg').forEach((svg, f) => {
    const boxes = Array.from(svg.querySelectorAll('text'))
      .filter(t => t.textContent.trim())
      .map(t => ({text: t.textContent.trim(), r: t.getBoundingClientRect()}));
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push([f, boxes[i].text, boxes[j].text]);
    }
  });
  return out;
}
"""

# <text> of an SVG figure that reaches more than a pixel beyond the figure's own box: cut off
# for a reader (the figures are drawn at their laid-out size, not cropped to their content)
_OUTSIDE = """
() => {
  const out = [];
  document.querySelectorAll('figure.em-chart svg').forEach((svg, f) => {
    const s = svg.getBoundingClientRect();
    svg.querySelectorAll('text').forEach(t => {
      const r = t.getBoundingClientRect();
      if (t.textContent.trim() && (r.left < s.left - 1 || r.right > s.right + 1
          || r.top < s.top - 1 || r.bottom > s.bottom + 1))
        out.push([f, t.textContent.trim()]);
    });
  });
  return out;
}
"""


@dataclass
class PageCheck:
    figures: int = 0
    text_boxes: int = 0
    overlaps: list = field(default_factory=list)      # (figure, text, text) overlapping
    outside: list = field(default_factory=list)       # (figure, text) cut off by its figure
    unlabelled_figures: int = 0                       # SVG figures without an accessible name
    violations: list = field(default_factory=list)    # axe-core violations (id, impact, nodes)
    pdf_pages: int = 0                                # A4 pages when printed
    text: str = ""


def check_page(path: Path, axe: bool = True, pdf: bool = True) -> PageCheck:
    """Open a report and measure what a reader meets: figures, axe-core results, A4 pages."""
    import re

    from playwright.sync_api import sync_playwright

    out = PageCheck()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
            ("file:", "data:")) else r.abort())
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        out.figures = page.evaluate("document.querySelectorAll('figure.em-chart svg').length")
        out.text_boxes = page.evaluate(
            "document.querySelectorAll('figure.em-chart svg text').length")
        out.unlabelled_figures = page.evaluate(
            "Array.from(document.querySelectorAll('figure.em-chart svg'))"
            ".filter(s => !(s.getAttribute('aria-label') || '').trim()).length")
        out.overlaps = page.evaluate(_OVERLAPS)
        out.outside = page.evaluate(_OUTSIDE)
        out.text = page.inner_text("body")
        if axe:
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("async () => await axe.run(document, {resultTypes: "
                                   "['violations']})")
            out.violations = [(v["id"], v["impact"], len(v["nodes"]),
                               v["nodes"][0]["html"][:120] if v["nodes"] else "")
                              for v in result["violations"]]
        if pdf:
            data = page.pdf(format="A4", print_background=True)
            out.pdf_pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
        browser.close()
    return out
