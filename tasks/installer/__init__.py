"""``doit installer``: a self-extracting linux-aarch64 installer made from the stack, like
Miniconda made by constructor from a ``construct.yaml``.

    construct.py  installer/construct.yaml -> Construct (file:line errors, did you mean)
    solve.py      the specs and the install-time helper, solved against the local channel
    payload.py    a prefix laid out by py-rattler -> the payload's record stream (xz)
    shell.py      header.sh filled in, payload appended, sha256 beside it
    header.sh     the installer's POSIX shell part (options, checks, install steps)

The target needs a POSIX shell and coreutils only: the install-time helper
(recipes/condoit-unpack, built by the stack) and the libraries it needs ride uncompressed
in front of the payload.
"""

CONSTRUCT_FILENAME = "construct.yaml"
