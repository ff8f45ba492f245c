"""The mutation list stays current: each known bug can still be put into the code it names."""

from __future__ import annotations

import pytest

from tests.mutants import MUTANTS, ROOT, Mutant


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda mutant: mutant.name)
def test_each_mutant_still_applies_to_its_file(mutant: Mutant) -> None:
    text = (ROOT / mutant.file).read_text()
    assert text.count(mutant.find) == 1, f"{mutant.name}: update its text in tests/mutants.py"
    for test in mutant.tests:
        assert (ROOT / test).is_file(), f"{mutant.name}: no {test}"


def test_names_are_unique() -> None:
    names = [mutant.name for mutant in MUTANTS]
    assert len(names) == len(set(names))
