"""Issue 10: the C libraries CPython needs (zlib, sqlite, expat, libuuid, yaml, gdbm), built
once with the shipped stack (the session's build), installed by py-rattler into a fresh prefix unlike the build
prefix, and used there by aarch64 programs under qemu: the packages' own tools, and a C
program (compiled here with zig for glibc 2.17) that links every library through the
prefix's RPATH alone."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from doit_runner import ROOT
from tasks.envs import create_env
from tasks.glibc_report import main as glibc_report
from tasks.settings import load_settings
from tasks.toolchain import zig_binary

RECIPES = ("zlib", "sqlite", "expat", "libuuid", "yaml", "gdbm")
QEMU_ENV = {"PATH": "/usr/bin:/bin", "QEMU_LD_PREFIX": "/usr/aarch64-linux-gnu"}  # no LD_LIBRARY_PATH


@pytest.fixture(scope="module")
def clibs_channel(python_layer) -> Path:
    """The shipped stack's session build (tests/conftest.py): the libraries were built and
    passed their own tests there."""
    done = python_layer.run.ran | python_layer.run.uptodate
    assert {f"test:{name}" for name in RECIPES} <= done, sorted(done)
    return python_layer.cache


@pytest.fixture(scope="module")
def clibs_prefix(clibs_channel, tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp("install") / ("a-longer-install-prefix-than-the-build-used-" * 2) / "env"
    settings = load_settings({"cache": str(clibs_channel), "recipes": str(ROOT / "recipes")}, root=ROOT)
    records = create_env(list(RECIPES), prefix, settings)
    assert set(RECIPES) <= {r.name for r in records}
    return prefix


def run(args: list, env: dict[str, str] = QEMU_ENV) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


def test_every_package_needs_at_most_glibc_2_17(clibs_channel, capsys):
    status = glibc_report(["--max", "2.17", str(clibs_channel / "channel" / "linux-aarch64")])
    report = capsys.readouterr().out
    assert status == 0, report
    for name in RECIPES:
        assert f"\n{name}-" in report, report


def test_sqlite_shell_runs_from_the_install_prefix(clibs_prefix, tmp_path):
    sqlite3 = clibs_prefix / "bin" / "sqlite3"
    assert run([sqlite3, ":memory:", "select sqlite_version()"]).stdout.strip() == "3.40.1"
    db = tmp_path / "t.db"
    script = ("create virtual table docs using fts5(body);"
              "insert into docs values ('cross built for aarch64'), ('run under qemu');"
              "select count(*) from docs where docs match 'qemu';")
    assert run([sqlite3, db, script]).stdout.strip() == "1"
    # every library the shell needs comes from the install prefix (its RPATH), libc from the
    # system: the aarch64 loader lists them (the variable is set for the guest only, by qemu)
    loaded = run([sqlite3, "--version"], env={**QEMU_ENV, "QEMU_SET_ENV": "LD_TRACE_LOADED_OBJECTS=1"}).stdout
    found = dict(line.split()[:3:2] for line in loaded.splitlines() if " => " in line)
    for lib in ("libsqlite3.so.0", "libreadline.so.8", "libz.so.1", "libtinfow.so.6"):
        assert Path(found[lib]).resolve().parent == (clibs_prefix / "lib").resolve(), loaded
    assert found["libc.so.6"] == "/lib/libc.so.6", loaded


def test_xmlwf_and_gdbmtool_run_from_the_install_prefix(clibs_prefix, tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<a><b></a>\n")
    assert "mismatched tag" in run([clibs_prefix / "bin" / "xmlwf", bad]).stdout
    db = tmp_path / "t.gdbm"
    assert run([clibs_prefix / "bin" / "gdbmtool", "-n", db, "store", "k", "v"]).returncode == 0
    assert run([clibs_prefix / "bin" / "gdbmtool", "-r", db, "fetch", "k"]).stdout.strip() == "v"


C_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <zlib.h>
#include <expat.h>
#include <yaml.h>
#include <uuid/uuid.h>
#include <gdbm.h>
#include <ndbm.h>
#include <sqlite3.h>

static int elements;
static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs) { elements++; }

int main(int argc, char **argv) {
    /* zlib: a round trip */
    const char *text = "condoit condoit condoit condoit";
    unsigned char packed[128], unpacked[128];
    uLongf packed_len = sizeof packed, unpacked_len = sizeof unpacked;
    if (compress(packed, &packed_len, (const Bytef *)text, strlen(text) + 1) != Z_OK) return 10;
    if (uncompress(unpacked, &unpacked_len, packed, packed_len) != Z_OK) return 11;
    if (strcmp((char *)unpacked, text) != 0) return 12;
    printf("zlib %s\n", zlibVersion());

    /* expat: three elements */
    XML_Parser xml = XML_ParserCreate(NULL);
    XML_SetStartElementHandler(xml, on_start);
    const char *doc = "<a><b/><c x='1'/></a>";
    if (XML_Parse(xml, doc, (int)strlen(doc), 1) != XML_STATUS_OK) return 20;
    XML_ParserFree(xml);
    printf("expat %s elements=%d\n", XML_ExpatVersion(), elements);

    /* libyaml: scalars of a small mapping */
    yaml_parser_t parser;
    yaml_event_t event;
    const char *yaml = "name: condoit\narch: [aarch64, x86_64]\n";
    int scalars = 0, done = 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
    while (!done) {
        if (!yaml_parser_parse(&parser, &event)) return 30;
        scalars += event.type == YAML_SCALAR_EVENT;
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    printf("yaml %s scalars=%d\n", yaml_get_version_string(), scalars);

    /* libuuid: generate, unparse, parse back */
    uuid_t id, back;
    char str[37];
    uuid_generate_random(id);
    uuid_unparse(id, str);
    if (uuid_parse(str, back) != 0 || uuid_compare(id, back) != 0) return 40;
    printf("uuid %zu\n", strlen(str));

    /* gdbm, and its ndbm interface (what CPython's _gdbm and _dbm use) */
    char path[4096];
    snprintf(path, sizeof path, "%s/t.gdbm", argv[1]);
    GDBM_FILE db = gdbm_open(path, 0, GDBM_NEWDB, 0644, NULL);
    if (!db) return 50;
    datum key = {"k", 1}, value = {"v", 1};
    if (gdbm_store(db, key, value, GDBM_REPLACE) != 0) return 51;
    datum got = gdbm_fetch(db, key);
    if (got.dsize != 1 || got.dptr[0] != 'v') return 52;
    gdbm_close(db);
    snprintf(path, sizeof path, "%s/t.ndbm", argv[1]);
    DBM *ndbm = dbm_open(path, O_RDWR | O_CREAT, 0644);
    if (!ndbm || dbm_store(ndbm, key, value, DBM_REPLACE) != 0) return 53;
    dbm_close(ndbm);
    printf("gdbm %d.%d\n", gdbm_version_number[0], gdbm_version_number[1]);

    /* sqlite: column metadata is compiled in (CPython's sqlite3 module can use it) */
    sqlite3 *sql;
    const char *type;
    if (sqlite3_open(":memory:", &sql) != SQLITE_OK) return 60;
    if (sqlite3_exec(sql, "create table t(x integer)", NULL, NULL, NULL) != SQLITE_OK) return 61;
    if (sqlite3_table_column_metadata(sql, NULL, "t", "x", &type, NULL, NULL, NULL, NULL) != SQLITE_OK) return 62;
    printf("sqlite %s %s\n", sqlite3_libversion(), type);
    sqlite3_close(sql);
    return 0;
}
"""


def test_a_c_program_links_every_library_through_the_prefix(clibs_prefix, tmp_path):
    source = tmp_path / "use_clibs.c"
    source.write_text(C_PROGRAM)
    program = tmp_path / "use_clibs"
    compiled = subprocess.run(
        [zig_binary(), "cc", "-target", "aarch64-linux-gnu.2.17", "-O1", "-o", program, source,
         f"-I{clibs_prefix}/include", f"-L{clibs_prefix}/lib", f"-Wl,-rpath,{clibs_prefix}/lib",
         "-lz", "-lexpat", "-lyaml", "-luuid", "-lgdbm", "-lgdbm_compat", "-lsqlite3"],
        capture_output=True, text=True, timeout=600)
    assert compiled.returncode == 0, compiled.stderr
    result = run([program, tmp_path])
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert result.stdout.splitlines() == [
        "zlib 1.2.13", "expat expat_2.5.0 elements=3", "yaml 0.2.5 scalars=5", "uuid 36",
        "gdbm 1.23", "sqlite 3.40.1 INTEGER"], result.stdout
