# without LibYAML or Cython setup.py quietly builds the pure-Python package: refuse that
export PYYAML_FORCE_LIBYAML=1 PYYAML_FORCE_CYTHON=1
$PYTHON -m pip install . --no-deps --no-build-isolation -vv
