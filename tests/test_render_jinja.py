"""jinja2 stage: conda-build's context and functions, variants, and line mapping."""
from __future__ import annotations

import pytest
from render_helpers import problems, recipe_dir, render, stack, write

from tasks.render.pins import apply_pin_expressions


def test_set_filters_environ_os(tmp_path, monkeypatch):
    monkeypatch.setenv("CONDOIT_TEST_VALUE", "from-env")
    meta = """\
    {% set name = "MyPkg" %}
    {% set version = "2.10" %}
    {% set major = version.split('.')[0] %}
    package:
      name: {{ name|lower }}
      version: {{ version }}
    about:
      summary: {{ environ.get('CONDOIT_TEST_VALUE', 'none') }} {{ os.sep }} {{ major }}
      description: {{ environ.get('CONDOIT_UNSET_VALUE', 'fallback') }}
    """
    recipe = render(tmp_path, meta)
    assert (recipe.name, recipe.version) == ("mypkg", "2.10")
    assert recipe.about["summary"] == "from-env / 2"
    assert recipe.about["description"] == "fallback"


@pytest.mark.parametrize("target, c, cxx, fortran, cdt", [
    ("linux-aarch64", "gcc_linux-aarch64", "gxx_linux-aarch64", "gfortran_linux-aarch64",
     "libx11-devel-cos7-aarch64"),
    ("linux-64", "gcc_linux-64", "gxx_linux-64", "gfortran_linux-64", "libx11-devel-cos6-x86_64"),
])
def test_compiler_stdlib_cdt(tmp_path, target, c, cxx, fortran, cdt):
    meta = """\
    package: {name: comp, version: '1'}
    requirements:
      build:
        - {{ compiler('c') }}
        - {{ compiler('cxx') }}
        - {{ compiler('fortran') }}
        - {{ stdlib('c') }}
        - {{ cdt('libx11-devel') }}
    """
    recipe = render(tmp_path, meta, target=target)
    assert recipe.requirements.build == (c, cxx, fortran, f"sysroot_{target}", cdt)


def test_compiler_honours_variant_keys(tmp_path):
    root = tmp_path / "recipes"
    write(root / "conda_build_config.yaml", """\
    c_compiler:
      - clang
    c_compiler_version:
      - 17
    c_stdlib_version:
      - "2.28"
    cxx_compiler_version:    # [osx]
      - 16                   # [osx]
    unused_key:
      - 1
    """)
    recipe_dir(root, "r", """\
    package: {name: comp, version: '1'}
    requirements:
      build:
        - {{ compiler('c') }}
        - {{ compiler('cxx') }}
        - {{ stdlib('c') }}
    """)
    recipe = stack(root).recipes[0]
    assert recipe.requirements.build == ("clang_linux-aarch64 17", "gxx_linux-aarch64",
                                         "sysroot_linux-aarch64 2.28")
    assert dict(recipe.variant) == {"c_compiler": "clang", "c_compiler_version": "17",
                                    "c_stdlib_version": "2.28", "target_platform": "linux-aarch64"}


def test_variant_values_as_jinja_variables(tmp_path):
    root = tmp_path / "recipes"
    write(root / "conda_build_config.yaml", "zlib:\n  - 1.2\nopenssl:\n  - '3'\nlibpng: 1.60\n")
    write(root / "r" / "conda_build_config.yaml", "openssl:\n  - 3.0\n")
    recipe_dir(root, "r", """\
    package: {name: v, version: '1'}
    requirements:
      host:
        - zlib {{ zlib }}
        - openssl {{ openssl }}
        - libpng {{ libpng }}
    """)
    recipe = stack(root).recipes[0]
    assert recipe.requirements.host == ("zlib 1.2", "openssl 3.0", "libpng 1.60")
    assert dict(recipe.variant) == {"zlib": "1.2", "openssl": "3.0", "libpng": "1.60"}


def test_pin_subpackage_outputs_and_exact(tmp_path):
    meta = """\
    {% set version = "1.2.13" %}
    package: {name: zlib-split, version: "{{ version }}"}
    build:
      number: 5
    outputs:
      - name: libzlib
        build:
          run_exports:
            - {{ pin_subpackage('libzlib', max_pin='x.x') }}
      - name: zlib
        requirements:
          host:
            - {{ pin_subpackage('libzlib', exact=True) }}
          run:
            - {{ pin_subpackage('libzlib', min_pin='x.x', max_pin='x.x.x') }}
            - {{ pin_subpackage('zlib-split', min_pin=None, max_pin='x') }}
    """
    recipe = render(tmp_path, meta)
    libzlib, zlib = recipe.outputs
    assert libzlib.build.run_exports.weak == ("libzlib >=1.2.13,<1.3.0a0",)
    assert libzlib.build.number == 5          # outputs inherit build/number
    assert zlib.requirements.host == ("libzlib 1.2.13 *_5",)
    assert zlib.requirements.run == ("libzlib >=1.2,<1.2.14.0a0", "zlib-split <2.0a0")


def test_pin_compatible_against_stack_and_variant(tmp_path):
    root = tmp_path / "recipes"
    recipe_dir(root, "lib", "package: {name: libfoo, version: '3.1.4'}\n")
    recipe_dir(root, "app", """\
    package: {name: app, version: '1'}
    requirements:
      host:
        - libfoo
        - numpy
      run:
        - {{ pin_compatible('libfoo', max_pin='x.x') }}
        - {{ pin_compatible('numpy') }}
        - {{ pin_compatible('unknown') }}
        - {{ pin_compatible('bounded', lower_bound='1.0', upper_bound='2.0') }}
    """)
    app = stack(root, numpy="1.26").recipe("app")
    assert app.requirements.run == ("libfoo >=3.1.4,<3.2.0a0", "numpy >=1.26,<2.0a0", "unknown",
                                    "bounded >=1.0,<2.0")


@pytest.mark.parametrize("version, min_pin, max_pin, expected", [
    ("3.0.20", "x.x.x.x.x.x", "x", ">=3.0.20,<4.0a0"),
    ("1.2.13", "x.x.x.x.x.x", "x.x", ">=1.2.13,<1.3.0a0"),
    ("1.1.1w", "x.x.x", "x.x.x", ">=1.1.1w,<1.1.2a"),
    ("2.5", "x", "x.x.x", ">=2,<2.6.0a0"),
    ("9e", None, "x", "<10a"),
])
def test_pin_expressions(version, min_pin, max_pin, expected):
    assert apply_pin_expressions(version, min_pin, max_pin) == expected


def test_load_file_regex_setup_py_data_and_pkg_vars(tmp_path):
    meta = """\
    {% set data = load_setup_py_data() %}
    {% set m = load_file_regex(load_file='VERSION.txt', regex_pattern='version = ([0-9.]+)', from_recipe_dir=True) %}
    {% set nothing = load_file_regex(load_file='missing.txt', regex_pattern='x') %}
    package:
      name: {{ data.get('name', 'regex') }}
      version: {{ m.group(1) }}
    build:
      number: 3
      string: py{{ PY_VER|replace('.', '') }}_{{ PKG_BUILDNUM }}
    about:
      summary: {{ PKG_NAME }}-{{ PKG_VERSION }} {{ nothing }} {{ PYTHON }}
    """
    recipe = render(tmp_path, meta, files={"VERSION.txt": "version = 4.5.6\n"})
    assert (recipe.name, recipe.version) == ("regex", "4.5.6")
    assert recipe.build.string == "py311_3"
    # a file of the source, not fetched at render time: a placeholder, and noted
    assert recipe.about["summary"] == "regex-4.5.6 0 $PYTHON"
    assert recipe.needs_source == ("load_setup_py_data('setup.py')", "load_file_regex('missing.txt')")


def test_undefined_is_false_in_conditions_but_an_error_when_used(tmp_path):
    meta = """\
    {% set channel_targets = channel_targets or 'conda-forge main' %}
    package:
      name: cond
      version: '1'
    {% if maybe_unset is defined or maybe_unset == 'x' %}
    build: {number: 9}
    {% endif %}
    about:
      summary: {{ channel_targets }}
    """
    recipe = render(tmp_path, meta)
    assert recipe.about["summary"] == "conda-forge main"
    assert recipe.build.number == 0


def test_line_numbers_survive_jinja_blocks(tmp_path):
    meta = """\
    {% set flag = false %}
    package:
      name: lines
      version: '1'
    {% if flag %}
    about:
      summary: one
      home: two
    {% endif %}
    requirements:
      run:
    {% for p in ["a", "b", "c"] %}
        - {{ p }}
    {% endfor %}
        - broken spec here extra
    """
    assert problems(tmp_path, meta) == [
        "r/meta.yaml:15:7: requirements/run: bad match spec 'broken spec here extra': 4 parts, expected 1 to 3"]


def test_whitespace_control_keeps_output_and_lines(tmp_path):
    meta = """\
    package:
      name: ws
      version: '1'
    requirements:
      run:
    {%- for p in ["a", "b"] %}
        - {{ p }}
    {%- endfor %}
        - c >=1,,2
    """
    assert problems(tmp_path, meta) == [
        "r/meta.yaml:9:7: requirements/run: bad match spec 'c >=1,,2': empty constraint in '>=1,,2'"]


def test_template_cache_is_used_and_equivalent(tmp_path):
    meta = "{% set v = '1.0' %}\npackage: {name: cached, version: '{{ v }}'}\n"
    first = render(tmp_path / "a", meta)
    cache = tmp_path / "a" / "cache" / "render"
    assert list(cache.rglob("*.marshal"))
    second = render(tmp_path / "a", meta)
    assert first == second


def test_variant_pins_bare_requirements(tmp_path):
    root = tmp_path / "recipes"
    write(root / "conda_build_config.yaml", """\
    zlib:
      - 1.2
    libjpeg_turbo:
      - '3'
    python:
      - 3.12.* *_cpython
    numpy:
      - '1.26'
    """)
    recipe_dir(root, "r", """\
    package: {name: pinned, version: '1'}
    requirements:
      build:
        - zlib
      host:
        - zlib >=1.2.11
        - libjpeg-turbo
        - python
        - numpy x.x
      run:
        - zlib
        - libjpeg-turbo
        - python
    outputs:
      - name: sub
        requirements:
          host:
            - zlib
    """)
    recipe = stack(root).recipes[0]
    assert recipe.requirements.build == ("zlib 1.2.*",)
    assert recipe.requirements.host == ("zlib >=1.2.11", "libjpeg-turbo 3.*", "python 3.12.* *_cpython",
                                        "numpy 1.26")
    assert recipe.requirements.run == ("zlib", "libjpeg-turbo", "python")
    assert recipe.outputs[0].requirements.host == ("zlib 1.2.*",)
    assert set(recipe.variant) == {"zlib", "libjpeg_turbo", "python", "numpy"}
