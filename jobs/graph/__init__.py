"""The nightly relation-graph job: entity resolution, the typed graph, companion
vehicles, mining, risk, the watch list and the serving tables.
"""
