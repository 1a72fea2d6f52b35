from distutils.core import setup

setup(name="pydemo", version="1.0", packages=["pydemo"])
