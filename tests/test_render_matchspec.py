"""Match specs of requirements: the reference's 1-3 parts, normalised, with clear errors."""
from __future__ import annotations

import pytest

from tasks.model import spec_name
from tasks.render.matchspec import SpecError, client_spec, normalize
from tasks.render.selectors import version_number


@pytest.mark.parametrize("spec, expected", [
    ("python", "python"),
    ("bsdiff4 1.1.4", "bsdiff4 1.1.4"),
    ("foo 1.0|1.4*", "foo 1.0|1.4*"),
    ("zlib >=1.2,<2", "zlib >=1.2,<2"),
    ("zlib >=1.2, <2", "zlib >=1.2,<2"),
    ("numpy>=1.11", "numpy >=1.11"),
    ("setuptools >= 40.0", "setuptools >=40.0"),
    ("python 3.11.* *_cpython", "python 3.11.* *_cpython"),
    ("openssl 3.0.20 h1234567_0", "openssl 3.0.20 h1234567_0"),
    ("perl *", "perl *"),
    ("libgcc-ng >=12", "libgcc-ng >=12"),
    ("pkg ==1.0", "pkg ==1.0"),
    ("pkg !=1.5", "pkg !=1.5"),
    ("pkg ~=1.4", "pkg ~=1.4"),
    ("pkg (>=1,<2)|>3", "pkg (>=1,<2)|>3"),
    ("conda-forge::zlib 1.2", "conda-forge::zlib 1.2"),
    ("pkg[version='>=1.0']", "pkg[version='>=1.0']"),
    ("  padded  1.0  ", "padded 1.0"),
])
def test_valid_specs(spec, expected):
    assert normalize(spec) == expected
    assert spec_name(normalize(spec)) == expected.split()[0].split("[")[0]


@pytest.mark.parametrize("spec, message", [
    ("", "empty requirement"),
    ("a b c d", "4 parts, expected 1 to 3"),
    ("Bad Name?", "invalid version constraint 'Name?'"),
    ("bad$name", "invalid package name 'bad$name'"),
    ("zlib >=1.2;<2", "invalid version constraint '>=1.2;<2'"),
    ("zlib >=1.2,", "empty constraint"),
    ("zlib 1.0||2.0", "empty constraint"),
    ("zlib (>=1", "unbalanced parentheses"),
    ("zlib 1.0 h$0", "invalid build string 'h$0'"),
    ("zlib >>1", "invalid version constraint '>>1'"),
    ("pkg[version='1'", "unclosed '['"),
])
def test_invalid_specs(spec, message):
    with pytest.raises(SpecError) as info:
        normalize(spec)
    assert message in info.value.message


@pytest.mark.parametrize("version, number", [("3.11", 311), ("3.8", 38), ("2.7.18", 27),
                                             ("3.12.* *_cpython", 312), ("311", 311), ("1.26", 126)])
def test_version_number_like_conda_build(version, number):
    assert version_number(version) == number


@pytest.mark.parametrize("spec, expected", [
    ("ncurses 6.4", "ncurses 6.4.*"),            # conda's fuzzy two-part spec
    ("zlib 1.2 h0_1", "zlib ==1.2 h0_1"),         # with a build string: the exact version
    ("x >=1,<2", "x >=1,<2"),
    ("z 1.2.*", "z 1.2.*"),
    ("python 3.11.* *_cpython", "python 3.11.* *_cpython"),
    ("openssl", "openssl"),
])
def test_client_spec_spells_out_conda_meaning(spec, expected):
    assert client_spec(spec) == expected
    import rattler
    rattler.MatchSpec(expected, strict=True)  # the real client accepts it
