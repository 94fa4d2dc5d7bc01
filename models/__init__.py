"""Statistics and learned models: pure functions and fit/score objects."""

from models.cluster_lifecycle import ClusterTracker, Detection
from models.emerging_hotspots import PATTERN_LABELS, PATTERNS, classify_emerging, mann_kendall
from models.empirical_bayes import PoissonGammaSmoother
from models.getis_ord import GiStar, GiStarResult, gi_star, gi_star_permutation_p, grid_weights
from models.hotspot_detector import HotspotDetector, Place, budget_threshold
from models.knox import KnoxResult, knox_test
from models.local_empirical_bayes import LocalPoissonGammaSmoother
from models.space_time_scan import (
    CylinderZones,
    iter_clusters,
    recurrence_interval_days,
    scan,
    simulate_null_maxima,
    union_bound_p,
)
from models.spatial_scan import Cluster, circular_scan

__all__ = [
    "GiStarResult",
    "gi_star",
    "gi_star_permutation_p",
    "grid_weights",
    "KnoxResult",
    "knox_test",
    "Cluster",
    "circular_scan",
    "PATTERNS",
    "PATTERN_LABELS",
    "classify_emerging",
    "mann_kendall",
    "PoissonGammaSmoother",
    "LocalPoissonGammaSmoother",
    "GiStar",
    "ClusterTracker",
    "Detection",
    "HotspotDetector",
    "Place",
    "budget_threshold",
    "CylinderZones",
    "iter_clusters",
    "recurrence_interval_days",
    "scan",
    "simulate_null_maxima",
    "union_bound_p",
]
