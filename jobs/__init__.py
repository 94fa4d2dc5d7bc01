"""Nightly PySpark jobs, each a package of its stages: ``nightly`` (baselines and
trends) and ``graph`` (the relation graph and what is mined from it).
"""
