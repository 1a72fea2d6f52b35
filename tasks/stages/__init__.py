"""The stage registry: the whole pipeline, in order. Adding a stage is one module and one line here.

Per recipe (and per platform it is built for), each stage reads the results it declares:

    download   source: keys               -> downloads/<sha256>, VCS clones      (shared by platforms)
    extract    download                   -> the pristine tree                   (shared)
    patch      extract, the patches       -> the patched tree                    (shared)
    compile    patch, extract, index of what the host and build prefixes hold
                                          -> build.sh's files in the padded host prefix
    package    compile                    -> relocated, checked package in channel/<subdir>/
    index      package                    -> repodata.json lists it
    test       index, package (patch)     -> installed in a fresh prefix, tests run

Then, once for the whole stack:

    channel    index of every recipe      -> the channel checked, channeldata.json
    installer  index of what installer/construct.yaml can reach
                                          -> cache/installer/<name>-<version>-Linux-aarch64.sh
                                             (only by `doit installer`, not part of `doit build`)

doit gets one task generator per stage (tasks/taskgen.py) and ``build:<recipe>``.
"""
from __future__ import annotations

from .base import Stage
from .channel import ChannelStage
from .compile import CompileStage
from .download import DownloadStage
from .extract import ExtractStage
from .index import IndexStage
from .installer import InstallerStage
from .package import PackageStage
from .patch import PatchStage
from .test import TestStage

STAGES: dict[str, Stage] = {s.name: s for s in (
    DownloadStage(), ExtractStage(), PatchStage(), CompileStage(), PackageStage(), IndexStage(), TestStage(),
    ChannelStage(), InstallerStage(),
)}
