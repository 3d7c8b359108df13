"""The web page in a real browser: headless Debian chromium renders / of a fresh server
(its scripts run), and the test reads the resulting DOM."""
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
import requests
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))
from spserver import Server  # noqa: E402

CHROMIUM = os.environ.get("SP_CHROMIUM", "/usr/bin/chromium")


class Page(HTMLParser):
    """Title, visible text and links of a DOM dump."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.text = []
        self.links = []
        self._stack = []

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        cur = self._stack[-1] if self._stack else ""
        if cur == "title":
            self.title += data
        elif cur not in ("script", "style"):
            self.text.append(data)


@pytest.fixture(scope="module")
def server():
    srv = Server(name="e2e")
    try:
        srv.start()
        yield srv
        srv.stop()
    finally:
        srv.cleanup()


def dump_dom(url):
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: run scripts/install-deps test"
    profile = tempfile.mkdtemp(prefix="sp-chromium-")
    try:
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             "--virtual-time-budget=10000", "--dump-dom", url],
            capture_output=True, text=True, timeout=180, env=dict(os.environ, HOME=profile))
        assert p.returncode == 0, f"chromium exited {p.returncode}\n{p.stderr[-3000:]}"
        return p.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_page_renders_with_title_text_and_docs_link(server):
    dom = dump_dom(server.base + "/")
    page = Page()
    page.feed(dom)
    assert "Scene Packer" in page.title, f"title: {page.title!r}"
    text = " ".join(" ".join(page.text).split())
    assert "Scene Packer" in text, text[:500]
    docs = [h for h in page.links if "openapi" in h.lower()]
    assert docs, f"no link to the API documentation among {page.links}"
    r = requests.get(urljoin(server.base + "/", docs[0]), timeout=30)
    assert r.status_code == 200
    doc = yaml.safe_load(r.content)
    assert doc["openapi"].startswith("3.") and "/api/releases" in doc["paths"]
    # Every other link of the page resolves too.
    for href in page.links:
        url = urljoin(server.base + "/", href)
        if url.startswith(server.base):
            assert requests.get(url, timeout=30).status_code == 200, href
