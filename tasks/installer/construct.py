"""installer/construct.yaml -> ``Construct``: constructor's keys that apply to a shell installer.

Unknown keys, constructor keys that condoit's ``.sh`` installer does not implement, and
values of the wrong type are errors at ``file:line:col`` with a hint ("did you mean ...?").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RecipeError, RecipeProblem
from ..render.suggest import close_match

# key -> expected type: what condoit's shell installer does with constructor's format
KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "version": str, "channels": list, "specs": list, "exclude": list,
    "installer_type": str, "installer_filename": str, "default_prefix": str,
    "license_file": str, "welcome_text": str, "welcome_file": str,
    "conclusion_text": str, "conclusion_file": str, "pre_install": str, "post_install": str,
    "initialize_by_default": bool, "company": str, "keep_pkgs": bool,
}
REQUIRED = ("name", "version", "specs")
# constructor keys that make no sense for (or are not done by) condoit's .sh installer
UNSUPPORTED = (
    "packages", "user_requested_specs", "virtual_specs", "menu_packages", "ignore_duplicate_files",
    "extra_envs", "environment", "environment_file", "register_python", "register_python_default",
    "signing_identity_name", "notarization_identity_name", "signing_certificate", "welcome_image",
    "welcome_image_text", "header_image", "header_image_text", "icon_image", "default_image_color",
    "conda_default_channels", "conda_channel_alias", "channels_remap", "transmute_file_type",
    "pre_uninstall", "batch_mode", "check_path_length", "check_path_spaces", "nsis_template",
    "uninstall_name", "script_env_variables", "post_install_desc", "readme_text", "readme_file",
    "progress_notifications", "freeze_base", "write_condarc", "condarc", "initialize_conda",
    "build_outputs", "pkg_name", "pkg_domain", "default_location_pkg", "reverse_domain_identifier",
    "install_in_dependency_order", "attempt_hardlinks", "uninstall_with_conda_exe",
    "post_install_pages", "extra_files", "temp_extra_files", "exclude_from_gui",
)
LOCAL_CHANNEL = "local"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Construct:
    """What one construct.yaml asks for (paths resolved beside it; texts read)."""

    path: Path
    name: str
    version: str
    specs: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    filename: str = ""              # <name>-<version>-Linux-aarch64.sh unless installer_filename
    default_prefix: str = ""        # "" -> $HOME/<name lowercased>
    license_text: str = ""
    welcome_text: str = ""
    conclusion_text: str = ""
    pre_install: str = ""           # script texts, run by sh with PREFIX set
    post_install: str = ""
    initialize_by_default: bool = False
    company: str = ""

    def installer_name(self, platform: str) -> str:
        if self.filename:
            return self.filename
        os_name, _, arch = platform.partition("-")
        return f"{self.name}-{self.version}-{os_name.capitalize()}-{arch}.sh"

    def signature_data(self) -> dict[str, Any]:
        """Everything the installer's bytes depend on (the path is not)."""
        return {k: v for k, v in self.__dict__.items() if k != "path"}


def _problem(path: Path, node: Any, message: str, hint: str = "") -> RecipeProblem:
    mark = node.start_mark
    return RecipeProblem(path, mark.line + 1, mark.column + 1, message, hint)


def load_construct(path: Path) -> Construct:
    """Read and check ``path``; every problem is reported at once (RecipeError)."""
    import yaml
    try:
        text = path.read_text()
    except OSError as exc:
        raise RecipeError.at(path, 1, 1, f"cannot read the construct file: {exc.strerror}",
                             "write installer/construct.yaml (see installer/README.md)") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RecipeError.at(path, mark.line + 1 if mark else 1, mark.column + 1 if mark else 1,
                             f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(root, yaml.MappingNode):
        raise RecipeError.at(path, 1, 1, "a construct file is a mapping of keys (name, version, specs ...)")
    problems: list[RecipeProblem] = []
    values: dict[str, Any] = {}
    nodes: dict[str, Any] = {}
    for key_node, value_node in root.value:
        key = key_node.value
        if key in UNSUPPORTED:
            problems.append(_problem(path, key_node, f"constructor's key '{key}' is not supported by "
                                     "condoit's shell installer", f"supported keys: {', '.join(KEYS)}"))
            continue
        if key not in KEYS:
            close = close_match(key, [*KEYS, *UNSUPPORTED])
            problems.append(_problem(path, key_node, f"unknown key '{key}'",
                                     f"did you mean '{close}'?" if close else f"known keys: {', '.join(KEYS)}"))
            continue
        value = yaml.safe_load(yaml.serialize(value_node))
        if KEYS[key] is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)          # version: 1.0
        if not isinstance(value, KEYS[key]) or (KEYS[key] is list and not all(isinstance(v, str) for v in value)):
            want = {str: "a string", list: "a list of strings", bool: "true or false"}[KEYS[key]]
            problems.append(_problem(path, value_node, f"'{key}' must be {want}"))
            continue
        values[key], nodes[key] = value, value_node
    for key in REQUIRED:
        if key not in values and not any(p.message.endswith(f"'{key}' must be a string") for p in problems):
            problems.append(RecipeProblem(path, 1, 1, f"the key '{key}' is missing", "constructor requires it"))
    problems += _check_values(path, values, nodes)
    if problems:
        raise RecipeError(problems)
    here = path.parent

    def text_of(key_text: str, key_file: str) -> str:
        if key_file in values:
            return (here / values[key_file]).read_text()
        return values.get(key_text, "")

    return Construct(
        path=path, name=values["name"], version=values["version"], specs=tuple(values["specs"]),
        exclude=tuple(values.get("exclude", ())), filename=values.get("installer_filename", ""),
        default_prefix=values.get("default_prefix", ""),
        license_text=(here / values["license_file"]).read_text() if "license_file" in values else "",
        welcome_text=text_of("welcome_text", "welcome_file"),
        conclusion_text=text_of("conclusion_text", "conclusion_file"),
        pre_install=(here / values["pre_install"]).read_text() if "pre_install" in values else "",
        post_install=(here / values["post_install"]).read_text() if "post_install" in values else "",
        initialize_by_default=values.get("initialize_by_default", False), company=values.get("company", ""),
    )


def _check_values(path: Path, values: dict[str, Any], nodes: dict[str, Any]) -> list[RecipeProblem]:
    problems: list[RecipeProblem] = []

    def bad(key: str, message: str, hint: str = "") -> None:
        problems.append(_problem(path, nodes[key], message, hint))

    if "name" in values and not NAME_RE.fullmatch(values["name"]):
        bad("name", f"the installer name {values['name']!r} must be letters, digits, '.', '_' or '-'")
    if values.get("installer_type", "sh") != "sh":
        bad("installer_type", f"installer_type {values['installer_type']!r}: condoit makes shell installers only",
            "installer_type: sh")
    if "specs" in values and not values["specs"]:
        bad("specs", "'specs' is empty: name at least one package")
    for channel in values.get("channels", ()):
        if channel != LOCAL_CHANNEL:
            bad("channels", f"channel {channel!r}: installers are made from the stack's own channel",
                f"channels: [{LOCAL_CHANNEL}]")
    if values.get("keep_pkgs"):
        bad("keep_pkgs", "keep_pkgs: true is not supported (the installer keeps no package cache)")
    prefix = values.get("default_prefix", "")
    if prefix and " " in prefix:
        bad("default_prefix", "default_prefix must not contain spaces")
    for key in ("license_file", "welcome_file", "conclusion_file", "pre_install", "post_install"):
        if key in values and not (path.parent / values[key]).is_file():
            bad(key, f"{key}: {values[key]} is not a file beside {path.name}",
                f"a path relative to {path.parent}")
    for a, b in (("welcome_text", "welcome_file"), ("conclusion_text", "conclusion_file")):
        if a in values and b in values:
            bad(b, f"give '{a}' or '{b}', not both")
    return problems
