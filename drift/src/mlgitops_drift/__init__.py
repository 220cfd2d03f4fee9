"""mlgitops-drift: the drift check run by the CronJob mlgitops generates (docs/drift.md).

Reads the reference data and the current window (Parquet or CSV, through fsspec),
scores each feature (PSI on the reference's deciles, or the two-sample KS
statistic), pushes the scores and the run's timestamps to a Prometheus
Pushgateway, and starts retraining when a feature drifts and the spec asks for it.
"""

__version__ = "0.1.0"
