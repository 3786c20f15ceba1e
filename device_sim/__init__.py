"""Simulated county for hazmon: signal models, scenarios that carry their own ground truth, a
county generator, and MQTT devices. The Python API other components' tests use:

    from device_sim import load_scenario, generate, shipped_scenarios
    scenario = load_scenario(path)                  # pydantic model, validated
    run = generate(scenario, registry, start_ms)    # deterministic: same inputs, same messages
    run.wire_records()                              # what ingest puts on Kafka, in arrival order
    scenario.expect, scenario.forbid                # the alarms it must / must not produce

See docs/device_sim.md.
"""

from device_sim.scenario import ExpectedAlarm, Scenario, load_scenario, shipped_scenarios
from device_sim.stream import DeviceMessage, Reading, ScenarioRun, generate

__all__ = ["DeviceMessage", "ExpectedAlarm", "Reading", "Scenario", "ScenarioRun", "generate", "load_scenario",
           "shipped_scenarios"]
