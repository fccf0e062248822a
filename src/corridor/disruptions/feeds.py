"""Notices for people's feed readers (Atom 1.0, RFC 4287) and for alerting systems (OASIS CAP 1.2).

CAP is the format national warning systems already exchange, so a ministry or a port can re-issue a
Corridor notice through its own channels without a converter.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from corridor.disruptions.model import ElementRef, Notice, NoticeStatus, Severity
from corridor.network import Network

ATOM = "http://www.w3.org/2005/Atom"
CAP = "urn:oasis:names:tc:emergency:cap:1.2"
#: CAP has four severities and no "info": a notice's own severity maps onto the nearest.
CAP_SEVERITY = {
    Severity.INFO: "Minor",
    Severity.MINOR: "Moderate",
    Severity.MAJOR: "Severe",
    Severity.SEVERE: "Extreme",
}


def _cap_time(moment: datetime) -> str:
    # CAP 1.2 section 3.3.2: no "Z"; UTC is written "-00:00".
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def element_name(element: ElementRef, network: Network) -> str:
    if element.kind == "node":
        return network.nodes[element.id].name
    if element.kind == "crossing":
        return network.crossings[element.id].name
    if element.kind == "service":
        return network.services[element.id].name
    link = network.links[element.id]
    return (
        f"{network.nodes[link.from_node].name} - {network.nodes[link.to_node].name} ({link.mode})"
    )


def title(notice: Notice, network: Network) -> str:
    names = ", ".join(element_name(e, network) for e in notice.elements)
    return f"{notice.kind.replace('_', ' ').capitalize()} ({notice.severity}): {names}"


def atom_feed(
    notices: Sequence[Notice], network: Network, base_url: str, language: str = "en"
) -> str:
    """An Atom feed of ``notices`` (newest first); each entry links to the notice in the API."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = "urn:corridor:notices"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "Corridor: disruption notices"
    updated = max((n.updated_at for n in notices), default=datetime(2026, 1, 1, tzinfo=UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated.isoformat()
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base_url}/api/v1/notices/feed.atom")
    for notice in sorted(notices, key=lambda n: n.updated_at, reverse=True):
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:corridor:notice:{notice.id}"
        state = " [ended]" if notice.status is NoticeStatus.CLOSED else ""
        ET.SubElement(entry, f"{{{ATOM}}}title").text = title(notice, network) + state
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = notice.updated_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}published").text = notice.created_at.isoformat()
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = notice.issuer_name
        ET.SubElement(
            entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base_url}/api/v1/notices/{notice.id}"
        )
        window = f"From {notice.starts_at:%Y-%m-%d %H:%M} UTC"
        if notice.end is not None:
            window += f" until {notice.end:%Y-%m-%d %H:%M} UTC"
        summary = ET.SubElement(entry, f"{{{ATOM}}}summary")
        summary.text = f"{window}. {notice.text(language)}"
    return ET.tostring(feed, encoding="unicode", xml_declaration=True)


def cap_alert(notice: Notice, network: Network, sender: str = "notices@corridor") -> str:
    """The notice as a CAP 1.2 alert: one ``info`` block per language, an area per element."""
    ET.register_namespace("", CAP)
    alert = ET.Element(f"{{{CAP}}}alert")

    def add(parent: ET.Element, tag: str, text: str) -> None:
        ET.SubElement(parent, f"{{{CAP}}}{tag}").text = text

    add(alert, "identifier", f"corridor-notice-{notice.id}-v{notice.version}")
    add(alert, "sender", sender)
    add(alert, "sent", _cap_time(notice.updated_at))
    add(alert, "status", "Actual")
    add(alert, "msgType", "Alert" if notice.version == 1 else "Update")
    add(alert, "scope", "Public")
    if notice.version > 1:
        add(
            alert,
            "references",
            f"{sender},corridor-notice-{notice.id}-v1,{_cap_time(notice.created_at)}",
        )
    now_closed = notice.status is NoticeStatus.CLOSED
    for language, text in notice.texts.items():
        info = ET.SubElement(alert, f"{{{CAP}}}info")
        add(info, "language", language)
        add(info, "category", "Transport")
        add(info, "event", notice.kind.replace("_", " "))
        add(info, "urgency", "Past" if now_closed else "Immediate")
        add(info, "severity", CAP_SEVERITY[notice.severity])
        add(info, "certainty", "Observed")
        add(info, "effective", _cap_time(notice.updated_at))
        add(info, "onset", _cap_time(notice.starts_at))
        if notice.end is not None:
            add(info, "expires", _cap_time(notice.end))
        add(info, "senderName", notice.issuer_name)
        add(info, "headline", title(notice, network)[:160])
        add(info, "description", text)
        for element in notice.elements:
            area = ET.SubElement(info, f"{{{CAP}}}area")
            add(area, "areaDesc", element_name(element, network))
            for lat, lon in _points(element, network):
                add(area, "circle", f"{lat:.4f},{lon:.4f} 10.0")
    return ET.tostring(alert, encoding="unicode", xml_declaration=True)


def _points(element: ElementRef, network: Network) -> list[tuple[float, float]]:
    if element.kind == "node":
        ids = [element.id]
    elif element.kind == "link":
        link = network.links[element.id]
        ids = [link.from_node, link.to_node]
    elif element.kind == "crossing":
        at = network.crossings[element.id].at
        ids = (
            [network.links[at].from_node, network.links[at].to_node]
            if at in network.links
            else [at]
        )
    else:
        ids = list(network.services[element.id].stops)
    return [(network.nodes[i].lat, network.nodes[i].lon) for i in ids]
