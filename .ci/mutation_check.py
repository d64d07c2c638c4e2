"""Check a finished `mutmut run`: the score, and that every surviving mutant is a known equivalent one.

Run from the project root after `mutmut run`:

    python .ci/mutation_check.py [--min-score 95]

The score counts killed and timed-out mutants over all of them. Each mutant that
survives must be listed, with the reason it cannot change behaviour, in
tests/equivalent_mutants.txt (`<mutant name>: <reason>`); a survivor not listed there
is a rule no test checks, and fails the check. Listed names that no longer survive
are reported, so the list stays short.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

EQUIVALENTS = Path("tests/equivalent_mutants.txt")


def listed() -> dict[str, str]:
    """The equivalent mutants and their reasons."""
    found = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition(": ")
            found[name.strip()] = reason.strip()
    return found


def main() -> int:
    """Print the score and the unexplained survivors; 0 when the check passes, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-score", type=float, default=95.0, help="percent of mutants killed or timed out")
    args = parser.parse_args()
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "export-cicd-stats"], check=True, capture_output=True)
    stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    results = subprocess.run([*mutmut, "results"], check=True, capture_output=True, text=True).stdout
    survivors = {line.split(":")[0].strip() for line in results.splitlines() if line.strip().endswith("survived")}
    equivalents = listed()
    score = 100.0 * (stats["killed"] + stats["timeout"]) / stats["total"]
    print(f"mutants: {stats['total']}, killed {stats['killed']}, timed out {stats['timeout']}, "
          f"survived {stats['survived']}; score {score:.1f} % (at least {args.min_score:g} % required)")  # fmt: skip
    unexplained = sorted(survivors - set(equivalents))
    for name in unexplained:
        print(f"  survived, not a listed equivalent: {name}  (mutmut show '{name}')")
    for name in sorted(set(equivalents) - survivors):
        print(f"  listed as equivalent but no longer survives: {name}")
    problems = stats["no_tests"] + stats["suspicious"] + stats["segfault"] + stats["check_was_interrupted_by_user"]
    if problems:
        print(f"  mutants without tests, suspicious, crashed or interrupted: {problems}")
    return 0 if score >= args.min_score and not unexplained and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
