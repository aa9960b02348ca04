"""The course website in a real browser: build it, serve it on 127.0.0.1, open every page in
headless Chromium (Debian's ``chromium`` + ``chromedriver``, driven by selenium) and check what a
reader sees: no console errors, no request that leaves the machine, every image loaded, every
equation typeset by MathJax, interactive figures whose controls change the picture, working
search, and a downloadable notebook per chapter.

The site is built with ``make book`` (the same command readers use; the jupyter-cache under
``_build/.jupyter_cache`` makes a rebuild fast). Chromium comes from ``make browser``; when it is
missing the test fails and says so.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from _servers import serve_directory

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("0[0-9]_*.md"))
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def site() -> Path:
    """Build the site with `make book` (incremental thanks to the execution cache)."""
    # -o: the venv that runs this test is installed; never let `make` reinstall it from here
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "book"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, (
        "`make book` failed (first the end of its output, then the cells' error logs):\n"
        + result.stdout[-6000:] + result.stderr[-4000:] + _error_logs()
    )
    return SITE


def _error_logs() -> str:
    reports = SITE / "reports"
    if not reports.is_dir():
        return ""
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(reports.glob("*.log")))


@pytest.fixture(scope="module")
def base_url(site: Path):
    with serve_directory(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (os.path.exists(path) or shutil.which(Path(path).name))]
    if missing:
        pytest.fail(
            f"headless Chromium is needed for the site test but {', '.join(missing)} is missing: "
            "run `make browser` (apt-get install chromium chromium-driver) and re-run",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--disable-extensions", "--window-size=1280,900",
        # any host name but the local server resolves to nothing: a forgotten CDN link fails loudly
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(shutil.which("chromedriver") or CHROMEDRIVER)  # never let selenium download one
    driver = webdriver.Chrome(service=service, options=options)
    # generous waits (a safety net, not a measurement): a loaded 2-core CI machine once took
    # over 60 s to finish MathJax on the longest chapter at 390 px
    driver.set_page_load_timeout(180)
    driver.set_script_timeout(180)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def pages(site: Path) -> list[str]:
    names = sorted(p.name for p in site.glob("*.html"))
    assert {f"{c}.html" for c in CHAPTERS} <= set(names), f"chapters missing from the site: {names}"
    return names


def _load(driver, url: str) -> None:
    """Open ``url`` and wait until that page (not the previous one) has finished loading.

    ``driver.get`` was seen to return before the page a test then read was there (an
    empty footer, a missing play button), e.g. while index.html's redirect was pending;
    waiting for a complete document with the theme's footer makes the checks read a page.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    previous = driver.current_url
    driver.get(url)
    # index.html is a redirect (meta refresh) to intro.html: the page reached may differ from
    # ``url``, but it must not be the previous one
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && document.querySelector('footer') !== null"
            " && (document.URL === arguments[0] || document.URL !== arguments[1])", url, previous
        )
    )


# ----------------------------------------------------------------------------- page helpers
def _open(driver, url: str) -> dict:
    """Load a page, wait for images and MathJax, and return what the checks need."""
    driver.get_log("browser"), driver.get_log("performance")  # drop earlier pages' entries
    driver.get(url)
    driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const images = Array.from(document.images);
        images.forEach(img => { img.loading = "eager"; });
        const loaded = Promise.all(images.map(img => img.complete ? null :
            new Promise(resolve => { img.onload = img.onerror = resolve; })));
        const hasMath = document.querySelector(".math") !== null;
        const started = Date.now();
        function mathReady() {
            if (!hasMath) { return Promise.resolve(); }
            return new Promise(resolve => {
                (function poll() {
                    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                        MathJax.startup.promise.then(resolve, resolve);
                    } else if (Date.now() - started > 20000) { resolve(); }
                    else { setTimeout(poll, 50); }
                })();
            });
        }
        Promise.all([loaded, mathReady()]).then(() => setTimeout(() => done(true), 200));
        """
    )
    state = driver.execute_script(
        """
        return {
            brokenImages: Array.from(document.images)
                .filter(img => !(img.complete && img.naturalWidth > 0))
                .map(img => img.src.slice(0, 120)),
            imageCount: document.images.length,
            mathCount: document.querySelectorAll("span.math, div.math").length,
            typeset: document.querySelectorAll("mjx-container").length,
            texErrors: document.querySelectorAll("mjx-merror").length,
        };
        """
    )
    state["console"] = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    state["external"] = _external_requests(driver.get_log("performance"))
    return state


def _external_requests(entries: list[dict]) -> list[str]:
    urls = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        url = message["params"]["request"]["url"]
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOCAL_HOSTS:
            urls.append(url)
    return urls


@pytest.fixture(scope="module")
def page_states(browser, base_url, pages) -> dict[str, dict]:
    return {name: _open(browser, base_url + name) for name in pages}


# ------------------------------------------------------------------------------------ tests
def test_every_page_loads_without_console_errors(page_states):
    errors = {name: s["console"] for name, s in page_states.items() if s["console"]}
    assert not errors, f"console errors: {json.dumps(errors, indent=1)[:4000]}"


def test_no_request_leaves_the_machine(page_states):
    external = {name: s["external"] for name, s in page_states.items() if s["external"]}
    assert not external, f"requests to other hosts: {external}"


def test_every_image_is_loaded(page_states):
    broken = {name: s["brokenImages"] for name, s in page_states.items() if s["brokenImages"]}
    assert not broken, f"images that did not load: {broken}"
    for chapter in CHAPTERS:
        assert page_states[f"{chapter}.html"]["imageCount"] > 0, f"{chapter} shows no picture"


def test_equations_are_typeset_by_mathjax(page_states):
    with_math = {name: s for name, s in page_states.items() if s["mathCount"]}
    assert with_math, "no page has an equation: MathJax checks would be vacuous"
    for name, state in with_math.items():
        assert state["typeset"] >= state["mathCount"], (
            f"{name}: {state['mathCount']} equations but MathJax rendered {state['typeset']}"
        )
        assert state["texErrors"] == 0, f"{name}: {state['texErrors']} TeX errors"


MOVE_CONTROLS = """
const root = arguments[0];
const img = root.querySelector("img");
const report = [];
for (const control of root.querySelectorAll("input[type=range], select")) {
    const original = control.value, before = img.src;
    const count = control.tagName === "SELECT" ? control.options.length : (+control.max + 1);
    let changed = false;
    for (let i = 0; i < count && !changed; i++) {
        if (String(i) === original) { continue; }
        control.value = String(i);
        control.dispatchEvent(new Event("input", {bubbles: true}));
        control.dispatchEvent(new Event("change", {bubbles: true}));
        changed = img.src !== before;
    }
    control.value = original;
    control.dispatchEvent(new Event("input", {bubbles: true}));
    report.push({label: control.getAttribute("aria-label"), changed: changed, restored: img.src === before});
}
return report;
"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_has_an_interactive_figure_whose_controls_change_the_picture(
    chapter, browser, base_url, page_states
):
    _load(browser, base_url + f"{chapter}.html")
    cells = browser.find_elements("css selector", ".convlib-explore")
    assert cells, f"{chapter} has no interactive figure (convlib.widgets.explore)"
    for cell in cells:
        report = browser.execute_script(MOVE_CONTROLS, cell)
        assert report, f"{chapter}: an interactive figure without controls"
        assert any(r["changed"] for r in report), f"{chapter}: no control changes the picture: {report}"
        assert all(r["restored"] for r in report), f"{chapter}: moving back does not restore: {report}"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_play_button_animates_a_figure(browser, base_url, page_states):
    _load(browser, base_url + f"{CHAPTERS[0]}.html")
    play = browser.find_elements("css selector", ".convlib-explore button[data-play]")
    assert play, f"{CHAPTERS[0]} has no play button"
    img = play[0].find_element("xpath", "ancestor::div[@class='convlib-explore']//img")
    before = img.get_attribute("src")
    play[0].click()
    browser.execute_async_script("setTimeout(arguments[arguments.length - 1], 700)")
    assert img.get_attribute("src") != before


def test_search_finds_the_chapters(browser, base_url, page_states):
    _load(browser, base_url + "search.html?q=convolution")
    hits = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1], started = Date.now();
        (function poll() {
            const links = Array.from(document.querySelectorAll("#search-results li a"));
            const summary = document.querySelector("#search-results .search-summary");
            const finished = summary && /found|did not match/.test(summary.textContent);
            if (finished || Date.now() - started > 15000) {
                done(links.map(a => a.getAttribute("href")));
            } else { setTimeout(poll, 100); }
        })();
        """
    )
    found = {urllib.parse.urlparse(href).path.rsplit("/", 1)[-1] for href in hits}
    assert f"{CHAPTERS[1]}.html" in found, f"searching 'convolution' found only {sorted(found)}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_downloads_as_a_notebook_with_the_same_code(chapter, browser, base_url, page_states):
    import jupytext

    _load(browser, base_url + f"{chapter}.html")
    links = [a.get_attribute("href") for a in browser.find_elements("css selector", "a[href$='.ipynb']")]
    links = [link for link in links if link.startswith(base_url)]  # not the launch buttons
    assert links, f"{chapter} has no .ipynb download link"
    with urllib.request.urlopen(links[0]) as response:
        notebook = json.load(response)
    source = jupytext.read(ROOT / "book" / f"{chapter}.md")
    expected = ["".join(c.source) for c in source.cells if c.cell_type == "code"]
    got = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    # first the optional set-up cell (book/_ext/convlib_offsite.py), then the chapter's code
    assert notebook["cells"][0]["metadata"]["tags"] == ["convlib-setup"]
    assert notebook["nbformat"] == 4 and got[1:] == expected
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


# ------------------------------------------------------------------ widths, footer, search
OVERFLOW = """
const selectors = ["div.highlight pre", "div.cell_output pre", "div.output pre",
                   "mjx-container[display='true']", "div.math", "table"];
const wide = [];
for (const selector of selectors) {
    for (const element of document.querySelectorAll("article " + selector)) {
        if (element.offsetParent === null) { continue; }          // hidden ("show code")
        if (element.scrollWidth > element.clientWidth + 1) {
            wide.push(selector + ": " + element.textContent.trim().slice(0, 70));
        }
    }
}
return wide;
"""

READABLE = """
const width = window.innerWidth, problems = [];
if (document.documentElement.scrollWidth > width + 1) {
    problems.push("the page scrolls sideways: " + document.documentElement.scrollWidth);
}
for (const p of document.querySelectorAll("article p")) {
    if (p.offsetParent === null) { continue; }
    const size = parseFloat(getComputedStyle(p).fontSize), box = p.getBoundingClientRect();
    if (size < 14) { problems.push("text of " + size + "px: " + p.textContent.slice(0, 40)); }
    if (box.right > width + 1) { problems.push("text cut at the edge: " + p.textContent.slice(0, 40)); }
}
return problems;
"""


def _at_width(driver, width: int):
    driver.set_window_size(width, 900)


def test_no_code_output_or_equation_scrolls_sideways_at_1280px(browser, base_url, pages, page_states):
    _at_width(browser, 1280)
    wide = {}
    for name in pages:
        _open(browser, base_url + name)
        found = browser.execute_script(OVERFLOW)
        if found:
            wide[name] = found
    assert not wide, f"blocks wider than the column at 1280 px: {json.dumps(wide, indent=1)[:4000]}"


def test_text_stays_readable_at_390px(browser, base_url, pages, page_states):
    _at_width(browser, 390)
    try:
        problems = {}
        for name in pages:
            _open(browser, base_url + name)
            found = browser.execute_script(READABLE)
            if found:
                problems[name] = found
    finally:
        _at_width(browser, 1280)
    assert not problems, f"at 390 px: {json.dumps(problems, indent=1)[:4000]}"


def test_the_configured_footer_shows_on_every_page(browser, base_url, pages, page_states):
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    footer = config["sphinx"]["config"]["html_theme_options"]["extra_footer"]
    words = footer.split("<")[0].strip()
    for name in pages:
        _load(browser, base_url + name)
        # the page has several <footer>s (the previous/next links come first): read them all
        shown = browser.execute_script(
            "return Array.from(document.querySelectorAll('footer')).map(f => f.innerText).join('\\n')"
        )
        assert words in shown, f"{name}: the footer {words!r} is not shown (footer: {shown!r})"


def test_one_search_control_per_page(browser, base_url, page_states):
    _load(browser, base_url + f"{CHAPTERS[0]}.html")
    visible = browser.execute_script(
        """
        return Array.from(document.querySelectorAll(".search-button__button, .bd-search"))
            .filter(e => e.offsetParent !== null && !e.closest(".search-button__wrapper"))
            .map(e => e.className);
        """
    )
    assert len(visible) == 1, f"search controls shown: {visible}"


FIGURES = """
const figures = Array.from(document.querySelectorAll("article figure[id]"));
return figures.map(f => ({
    id: f.id,
    number: (f.querySelector("figcaption .caption-number") || {textContent: ""}).textContent.trim(),
    caption: (f.querySelector("figcaption .caption-text") || {textContent: ""}).textContent.trim(),
    alt: Array.from(f.querySelectorAll("img")).map(img => img.getAttribute("alt") || ""),
    width: Math.min(...Array.from(f.querySelectorAll("img")).map(img => img.getBoundingClientRect().width)),
    references: document.querySelectorAll(`article a[href='#${f.id}']`).length,
}));
"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_chapter_numbers_captions_and_references_its_figures(chapter, browser, base_url, page_states):
    _at_width(browser, 1280)
    _load(browser, base_url + f"{chapter}.html")
    figures = browser.execute_script(FIGURES)
    assert len(figures) >= 2, f"{chapter}: {len(figures)} numbered figures, expected its key figures"
    for figure in figures:
        assert figure["number"].startswith("Fig."), f"{chapter}: {figure['id']} has no number"
        assert len(figure["caption"]) > 30, f"{chapter}: {figure['id']} caption {figure['caption']!r}"
        assert figure["alt"] and all(len(a) > 30 for a in figure["alt"]), (
            f"{chapter}: {figure['id']} lacks alt text saying what it shows: {figure['alt']}"
        )
        assert figure["references"] >= 1, f"{chapter}: {figure['id']} is never referenced from the text"
        assert figure["width"] >= 300, f"{chapter}: {figure['id']} drawn {figure['width']:.0f} px wide"
