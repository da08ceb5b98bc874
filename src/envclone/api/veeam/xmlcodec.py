"""Veeam's XML, both ways. Writing: a response model as elements in Veeam's namespace, its
``xml_attributes`` as attributes, lists as the repeated elements Veeam uses. Reading: a request
body parsed with DTDs, entities and external references refused (defusedxml), so that neither
an external entity nor an expansion bomb is ever resolved; any of them is a malformed body."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # builds responses; requests are parsed by defusedxml only
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET

from envclone.api.veeam.schemas import NAMESPACE, Wire
from envclone.errors import InvalidRequest

# A list field -> (its items' element name, whether the items sit in an element of the field's name).
ITEMS: dict[str, tuple[str, bool]] = {
    "Links": ("Link", True),
    "SupportedVersions": ("SupportedVersion", True),
    "Refs": ("Ref", False),
    "Jobs": ("Job", False),
    "Repositories": ("Repository", False),
    "BackupJobSessions": ("BackupJobSession", False),
    "LogonSessions": ("LogonSession", False),
}
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class MalformedXml(InvalidRequest, code="malformed_xml", status=400):
    """The request body is not well-formed XML, or uses a DTD or entities, which are refused."""


# --- writing -------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _element(model: Wire, tag: str) -> ET.Element:
    element = ET.Element(tag)
    for name, field in type(model).model_fields.items():
        key, value = field.alias or name, getattr(model, name)
        if value is None:
            continue
        if key in model.xml_attributes:
            element.set(key, _text(value))
        elif isinstance(value, list):
            item_tag, wrapped = ITEMS[key]
            parent = ET.SubElement(element, key) if wrapped else element
            parent.extend(_element(item, item_tag) for item in value)
        elif isinstance(value, Wire):
            element.append(_element(value, key))
        elif isinstance(value, dict):
            element.append(_free_form(key, value))
        else:
            ET.SubElement(element, key).text = _text(value)
    return element


def _free_form(key: str, value: Any) -> ET.Element:
    """Free-form JSON (a job's definition): keys as elements (``Entry Key=`` when a key is no XML
    name), list items as ``Item`` elements."""
    element = ET.Element(key) if _NAME.match(key) else ET.Element("Entry", Key=key)
    if isinstance(value, dict):
        element.extend(_free_form(str(k), v) for k, v in value.items())
    elif isinstance(value, list):
        element.extend(_free_form("Item", v) for v in value)
    else:
        element.text = _text(value)
    return element


def dumps(model: Wire, root: str) -> bytes:
    element = _element(model, root)
    element.set("xmlns", NAMESPACE)
    return DECLARATION + ET.tostring(element, encoding="unicode").encode()


# --- reading -------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if namespace != NAMESPACE:
        raise InvalidRequest(f"element {local} must be in the namespace {NAMESPACE}")
    return local


def _value(element: ET.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    if (element.text or "").strip():
        raise InvalidRequest(f"element {_local(element.tag)} mixes text and elements")
    fields: dict[str, Any] = {}
    for child in children:
        name = _local(child.tag)
        if name in fields:
            raise InvalidRequest(f"element {name} may occur at most once in {_local(element.tag)}")
        fields[name] = _value(child)
        if (child.tail or "").strip():
            raise InvalidRequest(f"text after element {name} is not allowed")
    return fields


def loads(data: bytes, root: str) -> dict[str, Any]:
    """The body's ``root`` element as a dict of its child elements (nested dicts, or text), for
    the request model to validate. Each element at most once: a repeated one is refused here."""
    if not data.strip():
        raise MalformedXml("the request body is empty; an XML document is required")
    try:
        element = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise MalformedXml(
            f"the request body uses a DTD or entities, which are refused ({type(exc).__name__})"
        ) from None
    except ET.ParseError as exc:
        raise MalformedXml(f"the request body is not well-formed XML: {exc}") from None
    if _local(element.tag) != root:
        raise InvalidRequest(f"the body must be a {root} element, not {_local(element.tag)}")
    value = _value(element)
    return value if isinstance(value, dict) else {}
