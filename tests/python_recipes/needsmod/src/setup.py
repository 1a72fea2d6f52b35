from distutils.core import setup

import condoit_missing_build_helper  # noqa: F401  (provided by no package of the host prefix)

setup(name="needsmod", version="1.0", py_modules=[])
