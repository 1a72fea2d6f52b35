"""The memo of the rendered stack (tasks/render/stack_memo.py): a call whose render inputs are
all unchanged takes the last stack without rendering (nor importing jinja2 or yaml); a change
of any input, of each kind a render reads, is noticed; a broken recipe is never memoised."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from render_helpers import located, recipe_dir, write

from doit_runner import ROOT, run_doit
from tasks.fsutil import file_version
from tasks.render.inputs import RACY_NS
from tasks.render.stack_memo import cached_stack, memo_path
from tasks.settings import load_settings
from tasks.stack import Stack


def settle() -> None:
    """Let the files just written age past the racy window (a render reading a file changed
    within it is not memoised)."""
    time.sleep(RACY_NS / 1e9 + 0.05)


class Memo:
    """A recipes root and cache, rendered through the memo, with what each call did."""

    def __init__(self, tmp_path: Path, **overrides: str):
        self.root, self.cache = tmp_path / "recipes", tmp_path / "cache"
        self.root.mkdir(exist_ok=True)
        self.overrides = overrides

    def settings(self, **more: str):
        return load_settings({"recipes": str(self.root), "cache": str(self.cache), **self.overrides, **more},
                             root=self.root.parent)

    def stack(self, **more: str) -> Stack:
        return cached_stack(self.settings(**more))

    def version(self, **more: str):
        return file_version(memo_path(self.settings(**more)))

    def hit(self, **more: str) -> Stack:
        """A call that must come from the memo (it is not rewritten)."""
        before = self.version(**more)
        assert before is not None, "no memo was written"
        stack = self.stack(**more)
        assert self.version(**more) == before, "rendered again although nothing changed"
        return stack

    def fresh(self, **more: str) -> Stack:
        """A first call, after the files settled: renders and memoises."""
        settle()
        stack = self.stack(**more)
        assert not stack.problems, [str(p) for p in stack.problems]
        assert self.version(**more) is not None, "the render was not memoised"
        return stack


def recipe(stack: Stack, name: str = "r"):
    return stack.recipe(name)


META = """\
package:
  name: r
  version: "1.0"
"""


def test_an_unchanged_stack_is_not_rendered_again(tmp_path):
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    first = memo.fresh()
    again = memo.hit()
    assert again == first and recipe(again).version == "1.0"


def test_recipe_text(tmp_path):
    memo = Memo(tmp_path)
    d = recipe_dir(memo.root, "r", META)
    memo.fresh()
    (d / "meta.yaml").write_text(META.replace("1.0", "2.0"))     # same size
    assert recipe(memo.stack()).version == "2.0"


def test_a_recipe_added_or_removed(tmp_path):
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    memo.fresh()
    recipe_dir(memo.root, "s", META.replace("name: r", "name: s"))
    assert sorted(r.name for r in memo.stack().recipes) == ["r", "s"]
    settle()
    memo.stack()
    shutil.rmtree(memo.root / "s")
    assert [r.name for r in memo.stack().recipes] == ["r"]


def test_a_file_read_by_load_file_regex(tmp_path):
    memo = Memo(tmp_path)
    meta = """\
    {% set v = load_file_regex(load_file='VERSION', regex_pattern='v=([0-9.]+)', from_recipe_dir=True).group(1) %}
    package:
      name: r
      version: {{ v }}
    """
    d = recipe_dir(memo.root, "r", meta, {"VERSION": "v=1.0\n"})
    assert recipe(memo.fresh()).version == "1.0"
    (d / "VERSION").write_text("v=3.1\n")
    assert recipe(memo.stack()).version == "3.1"


def test_an_imported_template_and_one_that_appears_before_it(tmp_path):
    """Templates are looked for in the recipe directory, then the recipes root: a template
    appearing in the recipe directory takes over from the root's."""
    memo = Memo(tmp_path)
    meta = """\
    {% import 'macros.j2' as m %}
    package:
      name: r
      version: {{ m.version() }}
    """
    recipe_dir(memo.root, "r", meta)
    write(memo.root / "macros.j2", "{% macro version() %}1.0{% endmacro %}\n")
    assert recipe(memo.fresh()).version == "1.0"
    write(memo.root / "macros.j2", "{% macro version() %}1.5{% endmacro %}\n")
    assert recipe(memo.stack()).version == "1.5"
    settle()
    memo.stack()
    write(memo.root / "r" / "macros.j2", "{% macro version() %}7.0{% endmacro %}\n")
    assert recipe(memo.stack()).version == "7.0"


def test_an_environment_variable_the_recipe_reads(tmp_path, monkeypatch):
    memo = Memo(tmp_path)
    meta = """\
    package:
      name: r
      version: "1.0"
    about:
      summary: {{ environ.get('CONDOIT_MEMO_TEST', 'unset') }} {{ os.environ.get('CONDOIT_MEMO_OTHER', '-') }}
    build:
      number: 5  # [environ.get('CONDOIT_MEMO_SEL') == 'yes']
    """
    for name in ("CONDOIT_MEMO_TEST", "CONDOIT_MEMO_OTHER", "CONDOIT_MEMO_SEL"):
        monkeypatch.delenv(name, raising=False)
    recipe_dir(memo.root, "r", meta)
    assert recipe(memo.fresh()).about["summary"] == "unset -"
    memo.hit()
    monkeypatch.setenv("CONDOIT_MEMO_TEST", "set")
    assert recipe(memo.stack()).about["summary"] == "set -"
    monkeypatch.setenv("CONDOIT_MEMO_OTHER", "x")
    assert recipe(memo.stack()).about["summary"] == "set x"
    assert recipe(memo.stack()).build.number == 0
    monkeypatch.setenv("CONDOIT_MEMO_SEL", "yes")
    assert recipe(memo.stack()).build.number == 5
    monkeypatch.setenv("CONDOIT_MEMO_UNREAD", "1")      # a variable no recipe reads
    memo.hit()


def test_a_patch_appearing_and_disappearing(tmp_path):
    memo = Memo(tmp_path)
    meta = """\
    package:
      name: r
      version: "1.0"
    source:
      url: https://example.invalid/r-1.0.tar.gz
      sha256: 0000000000000000000000000000000000000000000000000000000000000000
      patches:
        - fix.patch
    """
    d = recipe_dir(memo.root, "r", meta, {"fix.patch": "--- a\n+++ b\n"})
    assert recipe(memo.fresh()).sources[0].patches == (str(d / "fix.patch"),)
    (d / "fix.patch").unlink()
    gone = memo.stack()
    assert located(memo.root, gone.problems) == ["r/meta.yaml:8:7: patch file not found: fix.patch"]
    write(d / "fix.patch", "--- a\n+++ b\n")
    assert not memo.stack().problems


def test_files_of_the_recipe_directory(tmp_path):
    """build.sh and run_test.sh count by their presence."""
    memo = Memo(tmp_path)
    d = recipe_dir(memo.root, "r", META)
    assert recipe(memo.fresh()).build_script_path is None
    write(d / "build.sh", "true\n")
    write(d / "run_test.sh", "true\n")
    got = recipe(memo.stack())
    assert got.build_script_path == str(d / "build.sh")
    assert got.test.scripts == (str(d / "run_test.sh"),)


def test_variant_files(tmp_path):
    memo = Memo(tmp_path)
    meta = """\
    package:
      name: r
      version: "1.0"
    requirements:
      host:
        - zlib
    """
    d = recipe_dir(memo.root, "r", meta)
    write(memo.root / "conda_build_config.yaml", "zlib:\n  - '1.2'\n")
    assert recipe(memo.fresh()).requirements.host == ("zlib 1.2.*",)
    write(memo.root / "conda_build_config.yaml", "zlib:\n  - '1.3'\n")
    assert recipe(memo.stack()).requirements.host == ("zlib 1.3.*",)
    write(d / "conda_build_config.yaml", "zlib:\n  - '2.0'\n")      # a new file nearer the recipe
    assert recipe(memo.stack()).requirements.host == ("zlib 2.0.*",)
    extra = write(tmp_path / "extra.yaml", "zlib:\n  - '3.0'\n")      # doit variants=FILE, outside the root
    assert recipe(memo.stack(variants=str(extra))).requirements.host == ("zlib 3.0.*",)
    settle()
    memo.stack(variants=str(extra))
    write(extra, "zlib:\n  - '3.1'\n")
    assert recipe(memo.stack(variants=str(extra))).requirements.host == ("zlib 3.1.*",)


def test_another_recipes_version(tmp_path):
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "lib", META.replace("name: r", "name: lib"))
    recipe_dir(memo.root, "app", """\
    package:
      name: app
      version: "1.0"
    requirements:
      host:
        - lib
      run:
        - {{ pin_compatible('lib') }}
    """)
    assert recipe(memo.fresh(), "app").requirements.run == ("lib >=1.0,<2.0a0",)
    write(memo.root / "lib" / "meta.yaml", META.replace("name: r", "name: lib").replace("1.0", "4.2"))
    assert recipe(memo.stack(), "app").requirements.run == ("lib >=4.2,<5.0a0",)


def test_settings(tmp_path):
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", """\
    package:
      name: r
      version: "1.0"
    build:
      number: 1  # [aarch64]
      number: 2  # [x86_64]
    """)
    assert recipe(memo.fresh(target="linux-aarch64")).build.number == 1
    assert recipe(memo.stack(target="linux-64")).build.number == 2
    memo.hit(target="linux-aarch64")            # one memo per settings: both are kept
    memo.hit(target="linux-64")


def test_a_broken_recipe_is_reported_every_time_and_never_memoised(tmp_path):
    memo = Memo(tmp_path)
    d = recipe_dir(memo.root, "r", META)
    memo.fresh()
    write(d / "meta.yaml", """\
    package:
      name: r
      version: {{ verison }}
    """)
    settle()
    for _ in range(2):
        broken = memo.stack()
        assert located(memo.root, broken.problems) == \
            ["r/meta.yaml:3:15: undefined jinja2 variable: 'verison' is undefined"]
    assert memo.version() is not None       # the last good memo is left, and not used
    write(d / "meta.yaml", META.replace("1.0", "1.1"))
    assert recipe(memo.stack()).version == "1.1"


def test_a_stack_broken_from_the_start_writes_no_memo(tmp_path):
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", "package:\n  name: r\n  version: [1\n")
    settle()
    assert memo.stack().problems
    assert memo.version() is None


def test_a_volatile_render_is_not_memoised(tmp_path):
    """What cannot be recorded as reads (os.path.exists of any path, setup.py) is rendered every time."""
    memo = Memo(tmp_path)
    flag = tmp_path / "flag"
    recipe_dir(memo.root, "r", f"""\
    package:
      name: r
      version: "1.0"
    about:
      summary: {{{{ os.path.exists('{flag}') }}}}
    """)
    settle()
    assert recipe(memo.stack()).about["summary"] is False
    assert memo.version() is None
    flag.write_text("")
    assert recipe(memo.stack()).about["summary"] is True


def test_a_file_changed_just_before_the_render_is_not_memoised(tmp_path):
    """A change within the file system's clock tick might leave no trace in its version."""
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    memo.stack()
    assert memo.version() is None
    memo.fresh()


def test_a_damaged_memo_is_rendered_again(tmp_path):
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    memo.fresh()
    path = memo_path(memo.settings())
    path.write_bytes(path.read_bytes()[:40])
    assert recipe(memo.stack()).version == "1.0"
    memo.hit()                                  # written whole again


def test_the_memo_records_the_code_that_rendered(tmp_path):
    import marshal
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    memo.fresh()
    header, _ = marshal.loads(memo_path(memo.settings()).read_bytes())
    recorded = set(header["paths"])
    for module in ("render/recipe.py", "render/jinja_env.py", "render/schema.py", "model.py", "stack.py"):
        assert str(ROOT / "tasks" / module) in recorded, module
    import jinja2
    import yaml
    assert {jinja2.__file__, yaml.__file__} <= recorded


def _python(code: str, cwd: Path, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


LOAD_TASKS = """\
    import sys
    sys.path.insert(0, {tree!r})
    from tasks.engine import Engine
    from tasks.settings import load_settings
    from tasks.taskgen import all_tasks
    engine = Engine(load_settings({{"recipes": {recipes!r}, "cache": {cache!r}}}))
    names = [t.get("name") for t in all_tasks(engine)]
    print(len(names), sorted(m for m in ("jinja2", "yaml", "tasks.render.recipe") if m in sys.modules))
"""


def test_a_no_op_loads_the_tasks_without_jinja2_or_yaml(tmp_path):
    """The whole task loading of a doit call, in a process of its own, twice."""
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    settle()
    code = LOAD_TASKS.format(tree=str(ROOT), recipes=str(memo.root), cache=str(memo.cache))
    first = _python(code, ROOT).split(" ", 1)
    assert first[1].strip() == "['jinja2', 'tasks.render.recipe', 'yaml']"
    second = _python(code, ROOT).split(" ", 1)
    assert second == [first[0], "[]\n"]
    run = run_doit(memo.root, memo.cache, "list")
    assert run.returncode == 0 and "build" in run.output, run.output


def test_a_change_of_the_engine_source_renders_again(tmp_path):
    """A copy of the engine: touching one of its render modules makes the next call render."""
    tree = tmp_path / "engine"
    shutil.copytree(ROOT / "tasks", tree / "tasks", ignore=shutil.ignore_patterns("__pycache__"))
    memo = Memo(tmp_path)
    recipe_dir(memo.root, "r", META)
    settle()
    code = LOAD_TASKS.format(tree=str(tree), recipes=str(memo.root), cache=str(memo.cache))
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    assert "'jinja2'" in _python(code, tmp_path, env)
    assert _python(code, tmp_path, env).endswith("[]\n")
    selectors = tree / "tasks" / "render" / "selectors.py"
    selectors.write_text(selectors.read_text() + "\n# edited\n")
    time.sleep(RACY_NS / 1e9)
    assert "'jinja2'" in _python(code, tmp_path, env)
    assert _python(code, tmp_path, env).endswith("[]\n")
