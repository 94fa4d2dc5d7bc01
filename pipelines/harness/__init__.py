"""What drives or measures the platform and never runs in production: the district
simulator, the demo, evaluations against ground truth, benchmarks and replay of
real point files.
"""
