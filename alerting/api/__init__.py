"""The duty HTTP API (data standard §9) and the alarm page officers act on."""
