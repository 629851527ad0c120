"""The OpenAPI 3.1 document of the SingleView's JSON API, served at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI"]

_PURPOSE = {
    "name": "purpose",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "format": "uri"},
    "description": "Why you ask: a purpose code (legislation URI), see the 400 answer for the list.",
}
_SEARCH_ID = {
    "name": "search",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The search this view follows from (ties the audit entries together).",
}
_PERSON = {"name": "person_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERRORS = {
    "400": {"description": "Missing purpose or query."},
    "401": {"description": "Not signed in (session cookie or HTTP Basic)."},
    "503": {"description": "The audit entry could not be written, so nothing is shown."},
}


def _q(name: str, about: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": about,
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "MAIS SingleView",
        "version": "1",
        "description": "Who knows this person, and whom to call. Every call needs a purpose and is audited.",
    },
    "components": {
        "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
        }
    },
    "security": [{"basic": []}, {"session": []}],
    "paths": {
        "/api/search": {
            "get": {
                "summary": "Search people by name, date of birth, NHS number or other identifier, postcode",
                "parameters": [
                    _PURPOSE,
                    _q("given", "Given name (a nickname finds the person too)."),
                    _q("family", "Family name."),
                    _q("dob", "Date of birth, YYYY-MM-DD."),
                    _q("identifier", "NHS number or any other identifier value."),
                    _q("postcode", "Postcode."),
                ],
                "responses": {
                    "200": {
                        "description": "People, best first, each with PUB03 grade and probability.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "search": {"type": "string"},
                                        "people": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "person_id": {"type": "string"},
                                                    "grade": {"type": ["number", "null"]},
                                                    "probability": {"type": ["number", "null"]},
                                                    "display_name": {"type": "string"},
                                                    "agencies": {
                                                        "type": "array",
                                                        "items": {"type": "string"},
                                                    },
                                                },
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                },
            }
        },
        "/api/people/{person_id}": {
            "get": {
                "summary": "One person: every agency's record, who knows them, related people, "
                "timeline, why linked",
                "parameters": [_PERSON, _PURPOSE, _SEARCH_ID],
                "responses": {
                    "200": {"description": "The person."},
                    "404": {"description": "No such person."},
                    **_ERRORS,
                },
            }
        },
        "/api/people/{person_id}/fhir": {
            "get": {
                "summary": "The same person as a FHIR R4 Bundle of Patient and EpisodeOfCare resources",
                "parameters": [_PERSON, _PURPOSE, _SEARCH_ID],
                "responses": {
                    "200": {"description": "FHIR Bundle.", "content": {"application/fhir+json": {}}},
                    "404": {"description": "No such person."},
                    **_ERRORS,
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "The process is alive",
                "security": [],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "The subscriber is consuming",
                "security": [],
                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (no personal data)",
                "security": [],
                "responses": {"200": {"description": "text format"}},
            }
        },
    },
}
