"""Put known bugs into a copy of the code, one at a time, and report which ones the tests miss.

    python tests/mutants.py                      # every mutant that runs on SQLite
    python tests/mutants.py --postgresql URL     # and those that need PostgreSQL (a scratch server)
    python tests/mutants.py --only pair-scope    # one by name

Each mutant is a rule removed or bent in the service, with the tests that must notice. The copy is
made from the working tree (uncommitted changes included), so the checkout is never touched. A
mutant whose text is no longer in its file is reported as stale: bring it up to date with the code.
Exit status 1 when a mutant survives or is stale. Run it before resolving an issue that adds rules,
and add a mutant for each rule it adds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Stop at the first failure: one is enough to say the mutant was caught.
PYTEST = (sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider")


@dataclass(frozen=True)
class Mutant:
    """A bug put into one file: `find` (exactly once in the file) becomes `replace`."""

    name: str
    what: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    postgresql: bool = False


MUTANTS = [
    Mutant(
        "pair-scope",
        "a token scoped to one programme reads another programme's pair",
        "qms/pairs/service.py",
        "if pair is None or actor.programme_id not in (None, programme_of(pair)):\n"
        '        raise NotFound(Text("There is no pair with the id %(id)s.", id=pair_id))',
        "if pair is None:\n"
        '        raise NotFound(Text("There is no pair with the id %(id)s.", id=pair_id))',
        ("tests/test_scope.py",),
    ),
    Mutant(
        "action-scope",
        "a token scoped to one programme reads another programme's corrective action",
        "qms/actions/service.py",
        "if action is None or not _visible(actor, action):",
        "if action is None:",
        ("tests/test_scope.py",),
    ),
    Mutant(
        "issued-document-scope",
        "a token scoped to one programme reads another programme's issued document",
        "qms/documents/service.py",
        "        or actor.programme_id not in (None, document.programme_id)\n",
        "",
        ("tests/test_scope.py",),
    ),
    Mutant(
        "close-with-done-action",
        "a deviation closes while an action is done but not yet verified effective",
        "qms/deviations/service.py",
        "_SETTLED = frozenset({ActionStatus.verified_effective, ActionStatus.ineffective})",
        "_SETTLED = frozenset(\n"
        "    {ActionStatus.verified_effective, ActionStatus.ineffective, ActionStatus.done}\n"
        ")",
        ("tests/test_deviations.py", "tests/test_actions.py"),
    ),
    Mutant(
        "coordinator-moves-deviations",
        "a coordinator may move deviations through their workflow",
        "qms/permissions.py",
        "Action.deviation_log,\n            # An action's owner",
        "Action.deviation_log,\n            Action.deviation_transition,\n"
        "            # An action's owner",
        ("tests/test_authorization.py",),
    ),
    Mutant(
        "author-approves",
        "the author of a procedure version approves it",
        "qms/procedures/service.py",
        "if actor.user_id is not None and actor.user_id == version.author_id:",
        "if False:",
        ("tests/test_procedures.py",),
    ),
    Mutant(
        "stale-version-accepted",
        "a change made against an old version of a record is accepted",
        "qms/concurrency.py",
        "if if_match != current:",
        "if False:",
        ("tests/test_deviations.py",),
    ),
    Mutant(
        "verify-ignores-head",
        "the audit chain verifies with its newest events deleted",
        "qms/audit/service.py",
        "if count != head_count or running != head_hash:",
        "if False:",
        ("tests/test_audit.py",),
    ),
    Mutant(
        "personal-data-to-everyone",
        "participants' names and e-mail addresses are shown to auditors",
        "qms/participants/service.py",
        "if actor.can(Action.participant_personal_read) and participant.personal is not None:",
        "if participant.personal is not None:",
        ("tests/test_participants.py",),
    ),
    Mutant(
        "import-keeps-part",
        "an import in all-or-nothing mode writes its good rows beside a bad one",
        "qms/evaluations/service.py",
        'if check.problems and mode == "all":',
        'if check.problems and mode == "none":',
        ("tests/test_imports.py",),
    ),
    Mutant(
        "writers-do-not-take-turns",
        "on PostgreSQL, units of work that write no longer take turns",
        "qms/engine.py",
        'conn.exec_driver_sql("SELECT id FROM audit_chain_head WHERE id = 1 FOR UPDATE")',
        'conn.exec_driver_sql("SELECT 1")',
        # Only the tests of what users do at the same moment: the low-level test of the lock
        # (tests/test_db.py) would catch it alone.
        ("tests/test_actions.py", "tests/test_deviations.py", "tests/test_followups.py"),
        postgresql=True,
    ),
    Mutant(
        "signature-meaning",
        "a move is signed with a meaning other than the one it attests",
        "qms/signatures/service.py",
        "if confirmation.meaning is not meaning:",
        "if False:",
        ("tests/test_signatures.py",),
    ),
    Mutant(
        "signing-password",
        "a page signs with any password typed",
        "qms/accounts/web.py",
        "if not password or not verify_password(password, user.password_hash):",
        "if not password:",
        ("tests/test_signatures.py",),
    ),
    Mutant(
        "signature-statement-unhashed",
        "the SHA-256 of a signature leaves out the statement signed",
        "qms/signatures/service.py",
        'content_sha256=content_hash({**content, "statement": said}),',
        "content_sha256=content_hash(content),",
        ("tests/test_signatures.py",),
    ),
]


def _copy_tree(target: Path) -> None:
    """Copy the working tree's tracked and new files (what git would commit) into target."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _run(mutant: Mutant, copy: Path, postgresql: str | None) -> tuple[str, float]:
    """Apply the mutant to the copy, run its tests, restore the file; return the verdict."""
    path = copy / mutant.file
    original = path.read_text()
    if original.count(mutant.find) != 1:
        return "STALE (its text is not in the file exactly once)", 0.0
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("QMS_TEST_DATABASE_URL", None)
    if mutant.postgresql:
        env["QMS_TEST_DATABASE_URL"] = postgresql or ""
    path.write_text(original.replace(mutant.find, mutant.replace))
    started = time.monotonic()
    try:
        result = subprocess.run(
            [*PYTEST, *mutant.tests],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.write_text(original)
    seconds = time.monotonic() - started
    if result.returncode == 1:
        failed = re.search(r"^FAILED (\S+)", result.stdout, re.MULTILINE)
        return f"caught by {failed.group(1) if failed else '?'}", seconds
    if result.returncode == 0:
        return "SURVIVED", seconds
    return f"ERROR (pytest exit {result.returncode}): {result.stdout[-500:]}", seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only the mutant of this name")
    parser.add_argument("--postgresql", help="a PostgreSQL server URL for the mutants that need it")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.only and len(chosen) != len(args.only):
        parser.error(f"no mutant named {set(args.only) - {m.name for m in chosen}}")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="qms-mutants-") as folder:
        copy = Path(folder)
        _copy_tree(copy)
        for mutant in chosen:
            if mutant.postgresql and not args.postgresql:
                print(f"{mutant.name}: {mutant.what}\n    not run: needs --postgresql")
                continue
            verdict, seconds = _run(mutant, copy, args.postgresql)
            failed += not verdict.startswith("caught")
            print(f"{mutant.name} ({seconds:.0f} s): {mutant.what}\n    {verdict}", flush=True)
    print(f"{len(chosen)} mutants, {failed} survived or stale")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
