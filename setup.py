"""Packaging that pyproject.toml cannot say: the lessons go into the wheel as numvae/lessons/.

The lessons live at the top of the repository (``lessons/NN_topic.py``), where a student
runs them from a clone; the installed package carries the same files as
``numvae/lessons/`` so that ``numvae lessons list|run|export`` finds them. One copy in the
repository, mapped by ``package_dir``; the packages are found as pyproject.toml's
``packages.find`` found them before (namespace packages included). Everything else is in
pyproject.toml. The exercises' reference solutions live in tests/ and never ship.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["numvae", "numvae.*"]), "numvae.lessons"],
    package_dir={"numvae.lessons": "lessons"},
)
