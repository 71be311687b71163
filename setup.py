"""Shim for tools that still call ``setup.py`` (scrapyd-deploy builds its egg
with ``setup.py bdist_egg``); the metadata lives in pyproject.toml."""

from setuptools import setup

setup()
