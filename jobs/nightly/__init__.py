"""The nightly baselines job: daily counts, smoothed cell rates, the week profile and
emerging hot-spot trends, from the lake into baselines and serving tables.
"""
