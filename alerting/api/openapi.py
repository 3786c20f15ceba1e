"""The OpenAPI 3.1 document of the API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from alerting.api.bodies import AckBody, CloseBody, SuppressBody

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                           "field": {"type": "string"}}}
_ALARM = {
    "type": "object",
    "required": ["id", "enterprise", "site", "point", "device", "rule", "level", "state", "value", "limit",
                 "started_at", "message"],
    "properties": {
        "id": {"type": "string"}, "enterprise": {"type": "string"}, "site": {"type": "string"},
        "point": {"type": "string"}, "device": {"type": "string"},
        "rule": {"enum": ["limit", "vote", "rainfall", "trend", "fault", "offline", "fire", "rollup"]},
        "level": {"type": ["string", "null"]},
        "state": {"enum": ["active", "acknowledged", "cleared", "closed"]},
        "value": {"type": ["number", "null"]}, "limit": {"type": ["number", "null"]},
        "started_at": {"type": "integer", "description": "ms since the Unix epoch"},
        "message": {"type": "string"}, "message_en": {"type": "string"},
        "acked_by": {"type": ["string", "null"]}, "acked_at": {"type": ["integer", "null"]},
        "ack_comment": {"type": ["string", "null"]}, "closed_by": {"type": ["string", "null"]},
        "closed_at": {"type": ["integer", "null"]}, "close_note": {"type": ["string", "null"]},
        "close_cause": {"type": ["string", "null"], "description": "real_hazard, device_fault, false_alarm, test or other; "
                                                                   "free text on closes recorded before these codes"},
        "close_measures": {"type": ["string", "null"]},
        "escalation": {"type": "integer", "description": "0 enterprise, 1 county duty desk, 2 prefecture"},
        "escalations": {"type": "array", "items": {"type": "object"}},
        "awaiting_feedback": {"type": "boolean", "description": "待反馈: second-level/red/fire, cleared by the data "
                                                                 "before anyone acknowledged it; waits for a disposal note"},
        "suppressed": {"type": "boolean"},
        "suppression": {"type": ["object", "null"], "description": "the suppression (屏蔽) in force: reason, by, since, expires_at"},
        "history": {"type": "array", "items": {"type": "object"},
                    "description": "GET of one alarm only: its lifecycle from the ledger, oldest first"},
    },
}
_RISK = {"type": "object", "required": ["enterprise", "color", "level", "active_alarms"],
         "properties": {"enterprise": {"type": "string"}, "color": {"enum": ["red", "orange", "yellow", "blue"]},
                        "level": {"type": "integer", "minimum": 0, "maximum": 3},
                        "active_alarms": {"type": "integer"}, "tailings_ponds": {"type": "array"}}}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


_ERRORS = {"401": {"description": "missing or invalid token", **_json(_ERROR)},
           "403": {"description": "another enterprise's data", **_json(_ERROR)}}
_NOT_FOUND = {"404": {"description": "no such alarm, or another enterprise's", **_json(_ERROR)}}
_ACTION_ERRORS = {**_ERRORS, **_NOT_FOUND,
                  "409": {"description": "refused by the lifecycle (e.g. closing an active alarm)", **_json(_ERROR)},
                  "422": {"description": "invalid body; `field` names the field", **_json(_ERROR)}}
_ALARM_ID = [{"name": "alarm_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _action(summary: str, body: dict) -> dict:
    return {"post": {"summary": summary, "parameters": _ALARM_ID, "requestBody": {"required": True, **_json(body)},
                     "responses": {"200": {"description": "the alarm after the action", **_json(_ALARM)},
                                   **_ACTION_ERRORS}}}


OPENAPI: dict = {
    "openapi": "3.1.0",
    "info": {"title": "hazmon duty API", "version": "1.0.0",
             "description": "Alarms, officers' actions and enterprise risk colour (data standard §9)."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/healthz": {"get": {"summary": "liveness; 503 while the alarm log is still being read", "security": [],
                             "responses": {"200": {"description": "ok"}, "503": {"description": "starting"}}}},
        "/api/v1/alarms": {"get": {
            "summary": "alarms visible to the token",
            "parameters": [{"name": "state", "in": "query", "schema": {"enum": ["active", "acknowledged", "cleared", "closed"]}},
                           {"name": "enterprise", "in": "query", "schema": {"type": "string"}},
                           {"name": "since", "in": "query", "description": "started at or after (ms since the epoch)",
                            "schema": {"type": "integer"}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5000,
                                                                         "default": 500}},
                           {"name": "cursor", "in": "query", "description": "`next` of the previous page, as given",
                            "schema": {"type": "string"}},
                           {"name": "awaiting_feedback", "in": "query", "description": "only 待反馈 alarms (true) or none of them",
                            "schema": {"enum": ["true", "false"]}}],
            "responses": {"200": {"description": "alarms, newest first (started_at, then id)",
                                  **_json({"type": "object", "properties": {
                                      "alarms": {"type": "array", "items": _ALARM},
                                      "next": {"type": ["string", "null"], "description": "cursor of the following page"}}})},
                          **_ERRORS, "400": {"description": "limit over 5 000 or not a cursor this API gave out",
                                             **_json(_ERROR)},
                          "422": {"description": "bad query parameter", **_json(_ERROR)}}}},
        "/api/v1/alarms/{alarm_id}": {"get": {"summary": "one alarm, however old, with its lifecycle", "parameters": _ALARM_ID,
                                              "responses": {"200": {"description": "the alarm", **_json(_ALARM)}, **_ERRORS,
                                                            **_NOT_FOUND}}},
        "/api/v1/suppressions": {"get": {
            "summary": "suppressions (屏蔽) in force: point, reason, who set it, since, expires_at",
            "responses": {"200": {"description": "suppressions", **_json({"type": "object", "properties": {
                "suppressions": {"type": "array", "items": {"type": "object"}}}})}, **_ERRORS}}},
        "/api/v1/alarms/{alarm_id}/ack": _action("acknowledge (签收)", AckBody.model_json_schema()),
        "/api/v1/alarms/{alarm_id}/close": _action("close with a disposal note (处置反馈) and its cause (真实险情/设备故障/误报/测试/其他); refused while active",
                                                   CloseBody.model_json_schema()),
        "/api/v1/enterprises/{enterprise_id}/risk": {"get": {
            "summary": "enterprise risk colour (红橙黄蓝) and its tailings ponds' colours",
            "parameters": [{"name": "enterprise_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "risk", **_json(_RISK)}, **_ERRORS}}},
        "/api/v1/enterprises/{enterprise_id}/points/{point_id}/suppress": {"post": {
            "summary": "maintenance suppression (屏蔽) of a point: duty desk only, a reason, at most 72 h, never a fire detector",
            "parameters": [{"name": "enterprise_id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "point_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"required": True, **_json(SuppressBody.model_json_schema())},
            "responses": {"200": {"description": "recorded"}, **_ACTION_ERRORS}}},
    },
}
