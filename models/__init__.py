"""Statistics and learned models: pure functions and fit/score objects."""
from models.getis_ord import GiStarResult, gi_star, gi_star_permutation_p, grid_weights
from models.knox import KnoxResult, knox_test
from models.poisson_surprise import poisson_upper_tail, severity_for, surprise_score
from models.spatial_scan import Cluster, circular_scan

__all__ = [
    "GiStarResult", "gi_star", "gi_star_permutation_p", "grid_weights", "KnoxResult",
    "knox_test", "poisson_upper_tail", "severity_for", "surprise_score", "Cluster",
    "circular_scan",
]
