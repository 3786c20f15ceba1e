"""Grafana dashboards and provisioning as code: what the 24/7 duty desk watches (issue 7).

``hazmon dashboards build`` writes the dashboard JSON and provisioning YAML under
``settings.dashboards_dir``; ``hazmon dashboards push`` installs them into a running Grafana.
"""
