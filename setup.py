# Scrapyd eggs are built with `setup.py bdist_egg` (scrapyd-deploy); everything else is in setup.cfg.
from setuptools import setup

setup()
