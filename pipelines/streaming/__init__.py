"""What runs in production on the stream: the Flink jobs (normalization, hotspots,
watch-list alerts) and the stores that drain topics into the lake and PostgreSQL.
"""
