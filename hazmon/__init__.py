"""hazmon core: only what every hazmon process agrees on.

The wire records of the data standard (``hazmon.wire``), the registry models and loader
(``hazmon.registry``), typed settings (``hazmon.settings``), secrets (``hazmon.secrets``), Kafka
topic names (``hazmon.topics``, ``hazmon.kafka_topics``), the upward exchange (``hazmon.exchange``),
logging and user errors. It imports no stage and nothing of ``hzctl`` (the command line, the demo,
the supervisor and the local stack): ``tests/foundation/test_import_boundaries.py`` checks it.
"""

__version__ = "0.1.0"
