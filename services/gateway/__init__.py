"""The FHIR gateway: ``$person-info-query`` and ``$match`` over the enquiry pattern (docs/gateway.md).

Public API: :class:`Gateway`, :class:`GatewaySettings`, :func:`build_gateway`,
:func:`server_config`, :class:`Authenticator`, :func:`load_clients`, :func:`make_token`,
:func:`parse_query`, :func:`as_parameters`, :func:`as_bundle`, :data:`MATCH_GRADE`.
"""

from services.gateway._app import FHIR_JSON, Gateway
from services.gateway._auth import Authenticator, ClientRegistry, load_clients, make_token
from services.gateway._fhir import MATCH_GRADE, FhirProblem, as_bundle, as_parameters, parse_query
from services.gateway._server import build_gateway, serve, server_config
from services.gateway._settings import GatewaySettings

__all__ = [
    "FHIR_JSON",
    "MATCH_GRADE",
    "Authenticator",
    "ClientRegistry",
    "FhirProblem",
    "Gateway",
    "GatewaySettings",
    "as_bundle",
    "as_parameters",
    "build_gateway",
    "load_clients",
    "make_token",
    "parse_query",
    "serve",
    "server_config",
]
