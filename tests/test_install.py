"""A normal (not editable) install runs the sandbox from anywhere, reading nothing of the source
tree: only the installed packages and the config folder it is pointed at.

The package goes into a fresh virtual environment with `pip install --no-deps`; its
dependencies come from the project's own environment through a `.pth` line (a venv made with
`--system-site-packages` from inside a venv would see the base interpreter's packages, not the
project's). The line adds the directory without running its `.pth` files, so the project's
editable install of this package stays invisible. An audit hook in the new environment records
every file or folder under the repository that the sandbox process opens or lists.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import CONFIG, ROOT

SCRIPT = "/start\n1\n村口垃圾三天没人收了\n1\n:admin qingxi\n:tickets\n"
# What a wheel is built from; everything else in the repository is not part of the package.
SOURCES = ("pyproject.toml", "README.md", "bot", "handlers", "nlp", "storage")
TIMEOUT = 120

# Loaded at start-up by a .pth line in the new environment: writes every path under the
# repository that the process opens or lists to the file named by FENGQIAO_AUDIT_LOG, except
# under the folders in FENGQIAO_AUDIT_ALLOW (the project's environment, where the dependencies
# live, and the test's own folder).
AUDIT = """
import os, sys

_LOG = os.environ.get("FENGQIAO_AUDIT_LOG")
_ROOT = os.environ.get("FENGQIAO_AUDIT_ROOT", "")
_ALLOWED = tuple(
    os.path.join(p, "") for p in os.environ.get("FENGQIAO_AUDIT_ALLOW", "").split(os.pathsep) if p
)
_EVENTS = {"open", "os.listdir", "os.scandir", "os.chdir"}


def _hook(event, args):
    if event not in _EVENTS or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    try:
        path = os.path.abspath(os.fsdecode(args[0]))
    except Exception:
        return
    if (path == _ROOT or path.startswith(_ROOT + os.sep)) and not path.startswith(_ALLOWED):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{event} {path}\\n")


if _LOG and _ROOT:
    sys.addaudithook(_hook)
"""


def _unavailable(reason: str) -> None:
    """Skip, except in CI, where a missing tool is a broken setup, not a reason to pass."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _backend_builds_offline() -> bool:
    """Whether setuptools here can build a wheel by itself (70.1+, or with `wheel`): then
    `--no-build-isolation` downloads nothing."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:  # the version only: importing setuptools here would replace distutils for pytest
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(p) for p in re.findall(r"\d+", version)[:2])
    return (major, minor) >= (70, 1)


def _install(tmp_path: Path) -> Path:
    """A fresh venv with the package installed from a copy of its sources; its bin folder."""
    if importlib.util.find_spec("pip") is None:
        _unavailable(f"pip is not installed for {sys.executable}")
    env_dir = tmp_path / "venv"
    try:
        # No pip of its own: pip and the dependencies come from the project's environment.
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    except Exception as exc:  # e.g. Debian without python3-venv
        _unavailable(f"cannot create a virtual environment: {exc}")
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=tmp_path,
    )
    assert site.returncode == 0, site.stderr
    target = Path(site.stdout.strip())
    ours = Path(sysconfig.get_paths()["purelib"])
    (target / "_fengqiao_project_deps.pth").write_text(f"{ours}\n", encoding="utf-8")
    (target / "_fengqiao_audit.py").write_text(AUDIT, encoding="utf-8")
    (target / "_fengqiao_audit.pth").write_text("import _fengqiao_audit\n", encoding="utf-8")

    source = tmp_path / "source"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    command = [str(python), "-m", "pip", "install", "--no-deps", "--no-input"]
    command += ["--disable-pip-version-check", "--no-cache-dir"]
    offline = _backend_builds_offline()
    if offline:
        command.append("--no-build-isolation")
    # Otherwise pip fetches the build backend (setuptools) for an isolated build: this
    # environment's setuptools is too old to build a wheel by itself.
    result = _run([*command, str(source)], cwd=tmp_path)
    output = result.stdout + result.stderr
    if (
        result.returncode != 0
        and not offline
        and "setuptools" in output
        and ("No matching distribution" in output or "Could not find a version" in output)
    ):
        _unavailable(
            "no build backend: this environment's setuptools cannot build a wheel without "
            "`wheel` (or setuptools 70.1+), and pip cannot download one:\n" + output[-2000:]
        )
    assert result.returncode == 0, output
    return python.parent


def test_installed_sandbox_reads_nothing_from_the_source_tree(tmp_path: Path) -> None:
    bin_dir = _install(tmp_path)
    python = bin_dir / "python"
    where = _run(
        [
            str(python),
            "-c",
            "import bot, handlers, nlp, storage, storage.migrations; "
            "print('\\n'.join(m.__file__ for m in (bot, handlers, nlp, storage)))",
        ],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    installed = (tmp_path / "venv").resolve()
    for module_file in where.stdout.split():
        assert Path(module_file).resolve().is_relative_to(installed), where.stdout

    config = tmp_path / "settings" / "config"
    shutil.copytree(CONFIG, config)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    audit_log = tmp_path / "audit.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FENGQIAO_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "FENGQIAO_CONFIG_DIR": str(config),
        "FENGQIAO_AUDIT_LOG": str(audit_log),
        "FENGQIAO_AUDIT_ROOT": str(ROOT.resolve()),
        "FENGQIAO_AUDIT_ALLOW": os.pathsep.join(
            str(p) for p in (Path(sys.prefix).resolve(), tmp_path.resolve())
        ),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    fengqiao = bin_dir / ("fengqiao.exe" if os.name == "nt" else "fengqiao")
    assert fengqiao.is_file(), sorted(p.name for p in bin_dir.iterdir())
    result = _run([str(fengqiao), "sandbox"], cwd=elsewhere, env=env, stdin=SCRIPT)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Database: data/sandbox.db" in out and (elsewhere / "data" / "sandbox.db").is_file()

    number = re.search(r"工单号:(\d{4}-\d{6})", out)
    assert number is not None, out
    card = out[out.index("═══ 📋 青溪村管理群") :]
    assert number.group(1) in card and "村口垃圾三天没人收了" in card, out
    admin = out[out.index("> :admin qingxi\n") :]
    assert "之前的消息" in admin and number.group(1) in admin, admin
    listing = out[out.index("> :tickets\n") :]
    assert re.search(rf"{number.group(1)}\s+待受理\s+环境卫生·投诉\s+青溪村\s+张三", listing)
    assert out.rstrip().endswith("再见 bye")

    read = audit_log.read_text(encoding="utf-8").splitlines() if audit_log.exists() else []
    assert not read, "the installed sandbox touched the source tree:\n" + "\n".join(read[:20])
