"""Run aiohttp-retry 2.9.1's own test suite, unchanged, against the installed aiohttp_retry.

The suite is taken from the 2.9.1 sdist at run time (``pip download``; nothing
is vendored). The sdist lacks the suite's test server, so ``tests/upstream/app.py``
stands in for it. Exits non-zero unless exactly the expected tests ran and passed.

    python -m tests.upstream.run            # download the sdist
    python -m tests.upstream.run --sdist F  # use an sdist already on disk
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

VERSION = "2.9.1"
EXPECTED_TESTS = 42
SUITE_FILES = ("tests/test_client.py", "tests/test_retry_options.py")
HERE = Path(__file__).resolve().parent

CONFTEST = """\
import aiohttp_retry


def pytest_report_header(config):
    return f"aiohttp_retry under test: {aiohttp_retry.__version__} from {aiohttp_retry.__file__}"
"""


def fetch_sdist(dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
        f"aiohttp-retry=={VERSION}", "-d", str(dest),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    found = sorted(dest.glob("aiohttp_retry-*.tar.gz"))
    if not found:
        sys.exit(f"pip download left no aiohttp_retry sdist in {dest}")
    return found[0]


def extract_suite(sdist: Path, suite: Path) -> None:
    (suite / "tests").mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            relative = member.name.split("/", 1)[-1]
            if relative in SUITE_FILES:
                source = tar.extractfile(member)
                if source is None:
                    sys.exit(f"{member.name} in {sdist} is not a file")
                (suite / relative).write_bytes(source.read())
    missing = [f for f in SUITE_FILES if not (suite / f).exists()]
    if missing:
        sys.exit(f"{sdist} lacks {missing}")
    (suite / "tests" / "__init__.py").write_text("")
    shutil.copy(HERE / "app.py", suite / "tests" / "app.py")
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="aiohttp_retry-2.9.1.tar.gz already on disk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aiohttp-retry-upstream-") as tmp:
        root = Path(tmp)
        sdist = args.sdist.resolve() if args.sdist else fetch_sdist(root / "download")
        suite = root / "suite"
        extract_suite(sdist, suite)
        report = root / "report.xml"
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}", "tests"]
        code = subprocess.run(cmd, cwd=suite, check=False).returncode
        totals = ET.parse(report).getroot().find("testsuite")
        if totals is None:
            sys.exit("pytest wrote no test suite report")
        counts = {k: int(totals.get(k, "0")) for k in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    print(f"upstream {VERSION} suite: {passed} passed, {counts['failures'] + counts['errors']} failed")
    if code != 0 or passed != EXPECTED_TESTS or counts["tests"] != EXPECTED_TESTS:
        print(f"expected exactly {EXPECTED_TESTS} tests to run and pass", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
