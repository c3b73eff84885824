"""Screenshots of `archcalc report` pages for docs/ and the README, taken by the same headless
Chromium the browser tests use (Playwright with Debian's `chromium`).

    python tools/report_screenshots.py            # docs/gallery/report-resnet50.png, report-googlenet.png
    python tools/report_screenshots.py vgg16 --out /tmp

Each shot is the top of the page (1400×1000 CSS pixels): header, totals, charts, and the
beginning of the diagram and the table, with one diagram node clicked so the highlight shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shoot(spec: str, out: Path, chromium: str) -> Path:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / f"{spec}.html"
        subprocess.run([sys.executable, "-m", "archcalc", "report", spec, "-o", str(page_path)], check=True)
        target = out / f"report-{spec.replace('/', '_')}.png"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(page_path.as_uri())
            row = page.locator("tbody tr[data-kind=layer][data-node]").nth(1)
            row.click()  # show the link between the table and the diagram
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(target))
            browser.close()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=["resnet50", "googlenet"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery")
    args = parser.parse_args()
    chromium = os.environ.get("ARCHCALC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no Chromium found: apt-get install chromium, or set ARCHCALC_CHROMIUM")
    args.out.mkdir(parents=True, exist_ok=True)
    for spec in args.specs:
        print(shoot(spec, args.out, chromium))


if __name__ == "__main__":
    main()
