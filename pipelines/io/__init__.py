"""I/O adapters: Kafka, Flink and Spark sessions, PostgreSQL serving tables, files the
jobs share (the watch list), and the district and key the settings name.

Nothing here decides anything: jobs above call these to read and write.
"""
