"""A pure-Python package: the same files serve every platform."""
import platform


def hello():
    print(f"hello from pydemo on {platform.machine()}")
