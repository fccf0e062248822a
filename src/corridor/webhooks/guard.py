"""Server-side request forgery guard: webhooks go to the public internet unless allowed otherwise.

Why: a webhook URL is chosen by a tenant but fetched by the server, from inside its network. A URL
naming 127.0.0.1, 10.0.0.0/8, 169.254.169.254 (cloud metadata) or a host name resolving to one
would let any tenant probe or call internal services. Every address the name resolves to is
checked, at registration and again just before each delivery (DNS may change in between).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """A webhook URL that may not be called; ``reason`` is safe to show to the tenant."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _internal(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def parse_allowed(entries: Iterable[str]) -> list[Network]:
    """Settings entries (``127.0.0.1``, ``10.0.0.0/8``) as networks."""
    return [ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip()]


def resolve(host: str, port: int, unresolvable_ok: bool = False) -> list[Address]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        if unresolvable_ok:
            return []
        raise TargetRefused("the host name does not resolve") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_target(url: str, allowed: Iterable[Network] = (), registering: bool = False) -> None:
    """Raise TargetRefused unless ``url`` is http(s) to public addresses or to ``allowed`` ones.

    ``registering``: a name that does not resolve yet is accepted (DNS may be down or the
    receiver not deployed yet); every delivery checks again and refuses it until it resolves to
    public addresses.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("a webhook is an http(s) URL with a host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not accepted; use the signature header")
    nets = list(allowed)
    for address in resolve(parts.hostname, port, unresolvable_ok=registering):
        if _internal(address) and not any(address in net for net in nets):
            raise TargetRefused("the target is a loopback, private, link-local or reserved address")
