"""FHIR R4 XML read into the FHIR JSON form, so one mapping serves both official formats.

The conversion follows the two formats' rules (hl7.org/fhir/R4 ``xml.html`` and ``json.html``):
a resource's root element names its ``resourceType``; a primitive is an element whose ``value``
attribute holds the value (its ``id`` and ``extension`` go to ``_name`` in JSON); booleans and
numbers become JSON booleans and numbers; an element that may repeat becomes an array even when
it occurs once; the ``url`` of an extension and the ``id`` of a datatype are attributes;
a contained or bundled resource is wrapped in an element named for the property; a narrative's
``div`` is XHTML text. Which elements repeat and which are primitives of which type is read
from the ``fhir.resources`` R4B models.

An element the model does not know is kept under its name so that validation treats it as it
treats the same mistake in JSON. Parsing never loads DTDs, entities or anything from the network.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.utils import get_fhir_type_name, is_list_type, is_primitive_type
from lxml import etree

from exchange.errors import DataError

__all__ = ["FHIR_NAMESPACE", "is_xml", "xml_document"]

FHIR_NAMESPACE = "http://hl7.org/fhir"
_XHTML = "http://www.w3.org/1999/xhtml"
_PREFIX = "R4."  # fhir.resources' R4B models name their types with this prefix
_INTEGERS = frozenset({"integer", "positiveInt", "unsignedInt", "integer64"})
_MAX_DEPTH = 64
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,40})(?:\.[0-9]{1,40})?(?:[eE][+-]?[0-9]{1,4})?")


def is_xml(data: bytes) -> bool:
    """True when ``data`` starts (after a byte order mark and blanks) like an XML document."""
    return data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


def xml_document(data: bytes, what: str) -> dict[str, Any]:
    """The JSON form of the FHIR resource (or Bundle) in ``data``."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise DataError(f"{what} is not well-formed XML (line {exc.lineno or 0})", stage="parse") from None
    if root is None or not isinstance(root.tag, str) or etree.QName(root).namespace != FHIR_NAMESPACE:
        raise DataError(f"{what} is XML but not FHIR (its root is not in {FHIR_NAMESPACE})", stage="parse")
    return _resource(root, 0)


@cache
def _model(type_name: str) -> Any:
    try:
        model = get_fhir_model_class(type_name)
    except (ValueError, KeyError, AttributeError):
        return None
    return model


@cache
def _fields(type_name: str) -> dict[str, tuple[bool, str]] | None:
    """JSON name -> (repeats, FHIR type) of each element of a type (``None``: no such type)."""
    model = _model(type_name)
    if model is None:
        return None
    found: dict[str, tuple[bool, str]] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        if alias.startswith("_") or name in ("resource_type", "fhir_comments"):
            continue
        try:
            kind = get_fhir_type_name(field, prefix=_PREFIX)
        except ValueError:
            continue
        found[alias] = (is_list_type(field), ("primitive:" if is_primitive_type(field) else "") + kind)
    return found


def _resource(element: etree._Element, depth: int) -> dict[str, Any]:
    kind = etree.QName(element).localname
    model = _model(kind)
    if model is None or model.get_resource_type() != kind or kind == "Resource":
        raise DataError("XML element is not a FHIR resource type", stage="parse")
    document: dict[str, Any] = {"resourceType": kind}
    document.update(_complex(element, kind, depth))
    return document


def _complex(element: etree._Element, type_name: str, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise DataError(f"XML is nested more than {_MAX_DEPTH} levels deep", stage="parse")
    fields = _fields(type_name) or {}
    out: dict[str, Any] = {}
    for attribute in ("id", "url"):  # an element's id, an extension's url
        if element.get(attribute) is not None and attribute in fields:
            out[attribute] = element.get(attribute)
    extras: dict[str, list[Any]] = {}
    for child in element.iterchildren(etree.Element):  # elements only: no comments, no PIs
        name = _element_name(child)
        repeats, kind = fields.get(name, (False, ""))
        value, extra = _value(child, kind, depth)
        if repeats:
            out.setdefault(name, []).append(value)
            extras.setdefault(name, []).append(extra)
            continue
        if value is not None:
            out[name] = value
        if extra is not None:
            out["_" + name] = extra
    out.update({"_" + name: items for name, items in extras.items() if any(i is not None for i in items)})
    return out


def _element_name(child: etree._Element) -> str:
    qname = etree.QName(child)
    if qname.namespace != FHIR_NAMESPACE and (qname.namespace, qname.localname) != (_XHTML, "div"):
        raise DataError("XML holds an element outside the FHIR namespace", stage="parse")
    return str(qname.localname)


def _value(child: etree._Element, kind: str, depth: int) -> tuple[Any, dict[str, Any] | None]:
    """An element's JSON value and, for a primitive, its ``_name`` part."""
    if kind.startswith("primitive:"):
        return _primitive(child, kind.removeprefix("primitive:"), depth)
    if kind == "Resource":
        inner = list(child.iterchildren(etree.Element))
        return (_resource(inner[0], depth + 1) if len(inner) == 1 else {}), None
    if kind:
        return _complex(child, kind, depth + 1), None
    return {}, None  # unknown here: kept, so that validation refuses it as it would in JSON


def _primitive(element: etree._Element, kind: str, depth: int) -> tuple[Any, dict[str, Any] | None]:
    """A primitive's JSON value and its ``_name`` part (id and extensions), either may be None."""
    if kind == "xhtml":
        return etree.tostring(element, encoding="unicode", with_tail=False), None
    raw = element.get("value")
    value: Any = raw
    if raw is not None and kind == "boolean" and raw in ("true", "false"):
        value = raw == "true"
    elif raw is not None and (kind in _INTEGERS or kind == "decimal") and _NUMBER.fullmatch(raw):
        value = json.loads(raw)  # else left as text: validation refuses it as it would in JSON
    extra = _complex(element, "Element", depth + 1) if element.get("id") is not None or len(element) else None
    return value, extra or None
