"""Only the keys the program reads: a typo'd spotfleet: key is refused with a did-you-mean."""

from __future__ import annotations

import pytest

from stacks.errors import StackConfigError, UnknownConfigKeyError
from stacks.stack_config import KNOWN_KEYS, check_keys


def test_the_known_keys_and_other_namespaces_pass():
    check_keys([*KNOWN_KEYS, "aws:region", "aws:profile", "pulumi:tags"])
    check_keys([])


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("spotfleet:placement", "(did you mean spotfleet:placements?)"),
        ("spotfleet:namePrefx", "(did you mean spotfleet:namePrefix?)"),
        ("spotfleet:fleet", "(did you mean spotfleet:fleets?)"),
    ],
)
def test_a_typo_is_refused_with_the_closest_key(key, hint):
    with pytest.raises(UnknownConfigKeyError) as caught:
        check_keys(["spotfleet:fleets", key])
    assert f"{key}: unknown key {hint}; allowed keys: spotfleet:fleets" in str(caught.value)
    assert isinstance(caught.value, StackConfigError)


def test_every_unknown_key_is_named_at_once_and_one_far_from_any_gets_no_guess():
    with pytest.raises(UnknownConfigKeyError) as caught:
        check_keys(["spotfleet:zzz", "spotfleet:placement"])
    assert len(caught.value.problems) == 2
    assert "spotfleet:zzz: unknown key; allowed keys" in str(caught.value)
