"""Learned models of the connector: anomaly detection, duration prediction.

Modules
-------
``features``
    The ten window features of the anomaly models (:data:`FEATURE_NAMES`).
``isolation``
    :class:`~connector.ml.isolation.IsolationForestDetector`, a per-tag
    Isolation Forest over sliding windows, and
    :class:`~connector.ml.isolation.AnomalyWatch`, its per-reading adapter.
``deviation``
    :class:`~connector.ml.deviation.DeviationDetector`, the multi-signal
    streaming detector that ``python -m connector replay`` runs.
``registry``
    Versioned model files with metadata, activation and rollback, and the
    ``model_version`` outbox item.
``duration``
    Repair-duration regression (random forest) on the FLEXO LOSSTIME
    history, ``predict_hours`` and the ``prediction`` outbox item.
``skab_eval``
    The SKAB benchmark evaluation (``python -m connector.ml.skab_eval``).
``io``, ``cli``
    CSV reading; the model subcommands of ``python -m connector``.

scikit-learn, numpy and joblib are imported by these modules only, so the
daemon itself does not need them unless a model is used.
"""
