"""Adding agencies to a secured exchange: credentials, least-privilege ACLs, topics and schemas.

:func:`add_agency` applies one agency definition (see :mod:`exchange.security`) to a cluster as
its operator and returns the agency's client settings, secret included, exactly once;
:func:`apply_agencies` re-applies every definition (topics, ACLs, schemas) without touching
credentials. ``mais agency add|apply|list|acls`` is the command line.
"""

from __future__ import annotations

from services.agency._provision import (
    AgencyCredentials,
    ApplyReport,
    Operator,
    add_agency,
    apply_agencies,
    apply_agency,
)

__all__ = ["AgencyCredentials", "ApplyReport", "Operator", "add_agency", "apply_agencies", "apply_agency"]
