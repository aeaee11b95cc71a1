"""The Dagster pieces both the assets (``assets/``) and their checks (``checks/``) use: the
resources and the asset keys and partitions a check hangs on. Neither of the two imports the
other; the code locations (``assets/definitions.py``, ``assets/team_definitions.py``) put them
together."""
