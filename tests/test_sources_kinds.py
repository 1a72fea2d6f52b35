"""Source kinds: each one module registered in ``tasks.fetch.SOURCE_KINDS``; the schema, the
rendered recipe and the download/extract stages take everything kind-specific from there."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping

import pytest
import yaml

from render_helpers import problems, recipe_dir, render, stack
from sources_helpers import is_current, make_context, run_stage
from tasks import fetch
from tasks.fetch.base import FetchContext, FetchError, SourceKind
from tasks.fetch.cache import HASH_LENGTHS
from tasks.model import Source
from tasks.paths import Layout
from tasks.render.output import render_yaml
from tasks.stamps import stamp_result


# -- a toy kind: everything a new kind needs, in one class ------------------------------------
class InlineKind(SourceKind):
    """A source written in meta.yaml itself: ``inline_text`` becomes the file ``inline_name``."""

    name = "inline"
    selected_by = "inline_text"
    keys = {"inline_text": "str", "inline_name": "str"}

    def prepare(self, options: dict[str, Any], recipe_dir: Path, problem) -> dict[str, Any]:
        if "/" in options.get("inline_name", ""):
            problem("inline_name", "source/inline_name must be a plain file name")
        return options

    def _key(self, source: Source) -> str:
        return hashlib.sha256(source.get("inline_text").encode()).hexdigest()

    def fetch(self, source: Source, fctx: FetchContext) -> dict[str, Any]:
        entry = self.cached_path(source, {}, fctx.layout)
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(source.get("inline_text"))
        return {"kind": self.name, "sha256": self._key(source)}

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path:
        return layout.vcs("inline", self._key(source))

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        into.mkdir(parents=True)
        (into / source.get("inline_name", "inline.txt")).write_text(
            self.cached_path(source, fetched, fctx.layout).read_text())

    def clean(self, source: Source, layout: Layout) -> None:
        self.cached_path(source, {}, layout).unlink(missing_ok=True)


TOY = """\
package: {name: toy, version: '1'}
source:
  inline_text: hello from meta.yaml
  inline_name: greeting.txt
  folder: sub
"""


def test_a_new_kind_is_one_class_and_one_registration(tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.SOURCE_KINDS, "inline", InlineKind())        # the one line
    recipe = render(tmp_path, TOY)
    (source,) = recipe.sources
    assert (source.kind, dict(source.options), source.folder) == (
        "inline", {"inline_text": "hello from meta.yaml", "inline_name": "greeting.txt"}, "sub")
    assert yaml.safe_load(render_yaml(recipe))["source"] == {
        "inline_text": "hello from meta.yaml", "inline_name": "greeting.txt", "folder": "sub"}

    ctx = make_context(tmp_path, recipe)
    assert run_stage("download", recipe, ctx) is None
    entry = InlineKind().cached_path(source, {}, ctx.layout)
    assert stamp_result(ctx.layout.stamp("toy", "download")) == {
        "sources": [{"kind": "inline", "sha256": entry.name}]}
    assert run_stage("extract", recipe, ctx) is None
    assert (ctx.layout.work("toy", "extract") / "sub" / "greeting.txt").read_text() == "hello from meta.yaml"
    entry.unlink()                                           # the stamp vouches for the cache entry
    assert not is_current("download", recipe, ctx)
    assert run_stage("download", recipe, ctx) is None
    ctx.clean("download", "toy")                   # clean goes through the kind
    assert not entry.exists()


def test_a_new_kinds_keys_are_checked_like_the_others(tmp_path, monkeypatch):
    monkeypatch.setitem(fetch.SOURCE_KINDS, "inline", InlineKind())
    found = problems(tmp_path, TOY.replace("inline_name: greeting.txt", "inline_nme: a/b"), strict="1")
    assert found == ["r/meta.yaml:4:3: unknown key 'source/inline_nme'"]     # a warning unless strict
    found = problems(tmp_path / "2", TOY.replace("greeting.txt", "a/b"))
    assert found == ["r/meta.yaml:4:16: source/inline_name must be a plain file name"]


def test_keys_of_an_unregistered_kind_are_unknown(tmp_path):
    assert "r/meta.yaml:3:3: unknown key 'source/inline_text'" in problems(tmp_path, TOY, strict="1")


def _sample(key: str, type_: str) -> Any:
    if key in HASH_LENGTHS:
        return "0" * HASH_LENGTHS[key]
    return {"str": f"v-{key}", "int": 1, "bool": True, "list": [f"https://example.invalid/{key}.tgz"]}[type_]


def test_every_registered_kinds_keys_are_accepted_and_rendered(tmp_path):
    """One source entry per (kind, key): the kind's selecting key and that key."""
    entries: list[tuple[str, str, dict[str, Any]]] = []
    for kind in fetch.SOURCE_KINDS.values():
        for key in (*kind.keys, *kind.accepted):
            entry = {kind.selected_by: _sample(kind.selected_by, kind.keys[kind.selected_by]),
                     key: _sample(key, kind.keys.get(key, "str"))}
            entries.append((kind.name, key, entry))
    assert {name for name, _, _ in entries} == set(fetch.SOURCE_KINDS) - {"none"}
    meta = yaml.safe_dump({"package": {"name": "all", "version": "1"}, "source": [e for _, _, e in entries]})
    recipe = render(tmp_path, meta)
    rendered = yaml.safe_load(render_yaml(recipe))["source"]
    for (name, key, _), source, out in zip(entries, recipe.sources, rendered):
        kind = fetch.SOURCE_KINDS[name]
        assert source.kind == name
        if key in kind.keys:
            assert source.get(key) is not None and key in out, (name, key, out)
        else:                                   # accepted for conda-build, not used
            assert key not in source.options and key not in out


# -- path sources: content, not location ------------------------------------------------------
PATH_RECIPE = """\
package: {name: local, version: '1'}
source:
  path: src
"""


def _checkout(root: Path, text: str = "int main(void) { return 0; }\n"):
    recipes = root / "recipes"
    recipe_dir(recipes, "local", PATH_RECIPE, {"src/main.c": text, "src/README": "local tree\n"})
    s = stack(recipes)
    assert not s.problems, s.problems
    return s.recipes[0], make_context(root, *s.recipes)


def test_path_source_signature_is_its_content_not_its_location(tmp_path):
    recipe_a, ctx_a = _checkout(tmp_path / "checkout-a")
    recipe_b, ctx_b = _checkout(tmp_path / "elsewhere" / "checkout-b")
    assert recipe_a.sources[0].get("path") != recipe_b.sources[0].get("path")
    assert ctx_a.signature("download", recipe_a.name) == ctx_b.signature("download", recipe_b.name)
    assert str(tmp_path) not in str(fetch.download_inputs(recipe_a.sources[0]))
    for recipe, ctx in ((recipe_a, ctx_a), (recipe_b, ctx_b)):
        assert run_stage("download", recipe, ctx) is None
    assert stamp_result(ctx_a.layout.stamp("local", "download")) == \
        stamp_result(ctx_b.layout.stamp("local", "download"))
    assert ctx_a.signature("extract", recipe_a.name) == ctx_b.signature("extract", recipe_b.name)

    recipe_c, ctx_c = _checkout(tmp_path / "checkout-c", text="int main(void) { return 1; }\n")
    assert ctx_c.signature("download", recipe_c.name) != ctx_a.signature("download", recipe_a.name)


def test_path_source_that_is_a_file_keeps_its_name_in_the_identity(tmp_path):
    a, b = tmp_path / "a.c", tmp_path / "b.c"
    a.write_text("same\n")
    b.write_text("same\n")
    ident_a = fetch.download_inputs(Source(kind="path", path=str(a)))
    ident_b = fetch.download_inputs(Source(kind="path", path=str(b)))
    assert ident_a != ident_b and ident_a["sha256"] == ident_b["sha256"]


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(FetchError, match="unknown source kind 'nope'"):
        fetch.download_inputs(Source(kind="nope", line=4))


# -- the apt origin: a fallback of the url kind, its extra: key checked at render time ---------
def test_debian_source_extra_key_is_checked_when_rendering(tmp_path):
    meta = """\
    package: {name: x, version: '1'}
    source:
      url: https://example.invalid/x-1.tar.gz
      sha256: %s
    extra:
      debian_source: [x]
    """ % ("0" * 64)
    found = problems(tmp_path, meta)
    assert len(found) == 1 and found[0].startswith("r/meta.yaml:6:18: extra/debian_source must be a Debian")
