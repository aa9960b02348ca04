"""The course away from its website: what a reader downloads runs in their own Python.

The site is built with ``make book`` and served on 127.0.0.1. A fresh virtual environment
gets the readers' ``requirements.txt`` that the site serves (from this machine's package
index; the course's pins as constraints, so pip picks the versions the book was built
with); convlib itself comes from the site's wheel through the set-up cell that starts every
downloaded chapter notebook. Then every chapter's ``.ipynb``, downloaded from the served
site, is executed with nbclient in that environment, without the build's environment
switches (``CONVLIB_STATIC`` unset): it must run without error, with live ipywidgets.
Launch buttons are checked as links (opening them needs the internet).

This takes a few minutes: the environment is real (about 1.4 GB with torch, from pip's
cache) and the chapters run in full.
"""
from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.parse
import urllib.request
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest
from _servers import serve_directory
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("0[0-9]_*.md"))
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
WHEEL = f"convlib-{PROJECT['version']}-py3-none-any.whl"
CONFIG = (ROOT / "_config.yml").read_text()
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def site() -> Path:
    """Build the site with `make book` (incremental thanks to the execution cache)."""
    # -o: the venv that runs this test is installed; never let `make` reinstall it from here
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "book"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, "`make book` failed:\n" + result.stdout[-6000:] + result.stderr[-4000:]
    return SITE


@pytest.fixture(scope="module")
def base_url(site: Path):
    with serve_directory(site) as url:
        yield url


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def _links(base_url: str, page: str) -> list[str]:
    parser = _Links()
    parser.feed(_get(base_url + page).decode("utf-8"))
    return [urllib.parse.urljoin(base_url + page, href) for href in parser.hrefs]


def _clean_env() -> dict[str, str]:
    """The reader's environment: none of the build's switches, nothing of this checkout."""
    drop = {"CONVLIB_STATIC", "PYTHONPATH", "VIRTUAL_ENV", "CONVLIB_WHEEL", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    return env


@pytest.fixture(scope="module")
def reader(base_url, tmp_path_factory):
    """A fresh venv with the site's requirements.txt (not convlib) and a Jupyter kernel spec."""
    path = tmp_path_factory.mktemp("reader") / "venv"
    venv.EnvBuilder(with_pip=True).create(path)
    python = path / "bin" / "python"
    # pip takes no extras in a constraint: `name[extra]==1.2` constrains `name==1.2`
    constraints = path.parent / "constraints.txt"
    constraints.write_text(
        re.sub(r"^([A-Za-z0-9_.-]+)\[[^\]]*\]", r"\1",
               (ROOT / "requirements.txt").read_text(), flags=re.M)
    )
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(constraints), "-r", base_url + "wheels/requirements.txt"],
        capture_output=True, text=True, env=_clean_env(), cwd=path,
    )
    assert result.returncode == 0, f"pip install -r <site>/wheels/requirements.txt failed:\n{result.stderr[-4000:]}"
    subprocess.run(
        [str(python), "-m", "ipykernel", "install", "--prefix", str(path), "--name", "python3"],
        check=True, capture_output=True, env=_clean_env(),
    )
    yield path
    shutil.rmtree(path, ignore_errors=True)  # 1.4 GB: pytest would keep it in its tmp dirs


def _convlib_in(reader: Path) -> subprocess.CompletedProcess:
    code = "import convlib, importlib.metadata as m; print(convlib.__file__, m.version('convlib'))"
    return subprocess.run(
        [str(reader / "bin" / "python"), "-c", code], capture_output=True, text=True,
        env=_clean_env(), cwd=reader,
    )


def _execute(notebook: nbformat.NotebookNode, reader: Path, folder: Path, **env: str) -> None:
    """Run a notebook with nbclient on the reader's kernel, in ``folder``, as a reader would."""
    manager = KernelManager(
        kernel_name="python3",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(reader / "share/jupyter/kernels")]),
    )
    client = NotebookClient(
        notebook, km=manager, timeout=900, resources={"metadata": {"path": str(folder)}}
    )
    try:
        client.execute(env={**_clean_env(), **env})
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)


def _text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream")


@pytest.fixture(scope="module")
def course(base_url, tmp_path_factory) -> Path:
    """A folder with every chapter's notebook (from its page's download link) and the wheel."""
    folder = tmp_path_factory.mktemp("course")
    for chapter in CHAPTERS:
        links = [u for u in _links(base_url, f"{chapter}.html")
                 if u.startswith(base_url) and u.endswith(f"/{chapter}.ipynb")]
        assert links, f"{chapter}.html has no .ipynb download link"
        (folder / f"{chapter}.ipynb").write_bytes(_get(links[0]))
    (folder / WHEEL).write_bytes(_get(base_url + f"wheels/{WHEEL}"))
    return folder


def _setup_cell(course: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(course / f"{CHAPTERS[0]}.ipynb", as_version=4)
    return nbformat.v4.new_notebook(cells=[notebook.cells[0]], metadata=notebook.metadata)


@pytest.fixture(scope="module")
def installed(reader, course) -> str:
    """Run the first chapter's set-up cell where convlib is missing; return what it printed."""
    missing = _convlib_in(reader)
    assert missing.returncode != 0 and "No module named 'convlib'" in missing.stderr, (
        "the reader's environment has convlib before the set-up cell ran: the test would prove nothing"
    )
    notebook = _setup_cell(course)
    _execute(notebook, reader, course)
    return _text(notebook.cells[0])


# ------------------------------------------------------------------------------------ tests
def test_the_site_serves_the_wheel_and_the_readers_requirements(base_url):
    with zipfile.ZipFile(__import__("io").BytesIO(_get(base_url + f"wheels/{WHEEL}"))) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"convlib-{PROJECT['version']}.dist-info/METADATA").decode()
    assert {"convlib/__init__.py", "convlib/widgets.py", "convlib/grading/__init__.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    assert "Provides-Extra: course" in metadata
    requirements = _get(base_url + "wheels/requirements.txt").decode()
    listed = {re.split(r"[<>=!~ ]", line)[0] for line in requirements.splitlines()
              if line and not line.startswith("#")}
    expected = {re.split(r"[<>=!~ ]", r)[0] for r in PROJECT["optional-dependencies"]["course"]}
    assert expected <= listed and {"numpy", "torch", "ipywidgets"} <= listed


def test_every_chapter_notebook_starts_with_the_set_up_cell(course):
    for chapter in CHAPTERS:
        cells = nbformat.read(course / f"{chapter}.ipynb", as_version=4).cells
        assert cells[0].metadata.get("tags") == ["convlib-setup"], chapter
        assert "install_convlib()" in cells[0].source and WHEEL in cells[0].source
        assert max(len(line) for line in cells[0].source.splitlines()) <= 80
        assert not any(WHEEL in c.source for c in cells[1:]), "only the first cell installs"


def test_set_up_cell_installs_convlib_from_the_wheel_beside_the_notebook(installed, reader, course):
    assert "installed convlib from" in installed and (course / WHEEL).as_uri() in installed
    where = _convlib_in(reader)
    assert where.returncode == 0, where.stderr
    path, version = where.stdout.split()
    assert Path(path).is_relative_to(reader), f"convlib imported from {path}, not the reader's venv"
    assert version == PROJECT["version"]


def test_set_up_cell_takes_a_url_the_reader_gives(installed, reader, course, base_url):
    notebook = _setup_cell(course)
    _execute(notebook, reader, course, CONVLIB_WHEEL=base_url + f"wheels/{WHEEL}")
    assert f"installed convlib from {base_url}wheels/{WHEEL}" in _text(notebook.cells[0])


def test_set_up_cell_names_a_missing_wheel(installed, reader, course):
    notebook = _setup_cell(course)
    with pytest.raises(Exception, match="no convlib wheel at 'nowhere/convlib.whl'"):
        _execute(notebook, reader, course, CONVLIB_WHEEL="nowhere/convlib.whl")


def test_set_up_cell_does_nothing_where_convlib_is_installed(installed, reader, course):
    notebook = _setup_cell(course)
    _execute(notebook, reader, course)
    assert _text(notebook.cells[0]).strip() == "convlib is installed: nothing to do"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_downloaded_chapter_runs_in_the_readers_environment_with_live_widgets(
    chapter, installed, reader, course
):
    notebook = nbformat.read(course / f"{chapter}.ipynb", as_version=4)
    _execute(notebook, reader, course)  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    live = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    static = [o for o in outputs if "convlib-explore" in str(o.get("data", {}).get("text/html", ""))]
    source = "".join(c.source for c in notebook.cells[1:])
    assert "explore(" in source, f"{chapter} has no interactive figure"
    assert live and not static, f"{chapter}: interactive figures must be live ipywidgets here"


def _repository() -> tuple[str, str]:
    url = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", CONFIG, re.MULTILINE).group(1)
    org, repo = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", url).groups()
    return org, repo


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_launch_buttons_open_the_published_chapter_notebook(chapter, base_url):
    org, repo = _repository()
    notebook = f"_sources/{chapter}.ipynb"
    links = _links(base_url, f"{chapter}.html")
    expected = {
        "Binder": f"https://mybinder.org/v2/gh/{org}/{repo}/gh-pages?urlpath=lab/tree/{notebook}",
        "Colab": f"https://colab.research.google.com/github/{org}/{repo}/blob/gh-pages/{notebook}",
    }
    for name, url in expected.items():
        assert url in links, f"{chapter}: no {name} button opening {notebook}: {links}"
    hub = [u for u in links if "/hub/user-redirect/git-pull?" in u]
    assert hub and f"urlpath=lab/tree/{repo}/{notebook}" in hub[0] and "branch=gh-pages" in hub[0]
    # what the buttons open is on the site that `make publish` pushes to gh-pages
    cells = json.loads(_get(base_url + notebook))["cells"]
    assert cells[0]["metadata"]["tags"] == ["convlib-setup"]
    assert _get(base_url + f"wheels/{WHEEL}")[:2] == b"PK"
    assert "-r ../wheels/requirements.txt" in _get(base_url + "binder/requirements.txt").decode()


def test_intro_names_the_real_ways_to_run_and_links_the_pdf(base_url):
    page = _get(base_url + "intro.html").decode()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    org, repo = _repository()
    clone = f"git clone https://github.com/{org}/{repo}\n"
    assert clone in text, "the clone command names _config.yml's repository"
    site = f"https://{org.lower()}.github.io/{repo}/wheels"
    assert f"url={site}\n" in text, "the pip command's address is the site's wheels/"
    assert "-r $url/requirements.txt \\\n" in text and f"$url/{WHEEL}\n" in text
    assert "{{" not in text and "<the course repository>" not in text
    for name in ("intro.html", f"{CHAPTERS[0]}.html"):  # the intro's text and every header
        assert base_url + "convolution-course.pdf" in _links(base_url, name), name
