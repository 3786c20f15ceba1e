"""hazmon core: what every hazmon package shares.

The wire records of the data standard (``hazmon.wire``), the registry models and loader
(``hazmon.registry``), typed settings (``hazmon.settings``), secrets (``hazmon.secrets``),
Kafka topic names (``hazmon.topics``), the local server stack (``hazmon.stack``) and the
``hazmon`` command line (``hazmon.cli``).
"""

__version__ = "0.1.0"
