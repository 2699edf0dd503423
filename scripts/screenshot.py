"""Take the README's screenshot of a running instance: the home page, logged in as the demo admin.

    make run                                   # in another terminal
    .venv/bin/python scripts/screenshot.py     # → docs/screenshot.png

Options: --url (default http://127.0.0.1:5000), --out, --width/--height, --email/--password
(default: the demo admin). Uses Debian's Chromium (/usr/bin/chromium) through Playwright.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo.people import DEMO_LOGINS, DEMO_PASSWORD  # noqa: E402 - after the path is set

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def main(argv: list[str] | None = None) -> int:
    admin_email = next(email for label, email, *_ in DEMO_LOGINS if label == "admin")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.png"))
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--email", default=admin_email)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=args.url.rstrip("/"), viewport={"width": args.width, "height": args.height}, locale="en-GB"
        )
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("E-mail", exact=True).fill(args.email)
        page.get_by_label("Password", exact=True).fill(args.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        if "/login" in page.url:
            print(f"log-in as {args.email} failed: is the demo seeded (make run)?", file=sys.stderr)
            return 1
        page.goto("/")  # again, without the one-off "Welcome" flash
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out))
        browser.close()
    print(f"saved {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
