from setuptools import Extension, setup

setup(name="fastext", version="1.0", packages=["fastext"],
      ext_modules=[Extension("fastext._speed", ["fastext/_speed.c"])])
