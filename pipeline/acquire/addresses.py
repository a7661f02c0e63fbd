"""Which network addresses a crawler may connect to. Pure, except resolve() which asks DNS."""

from __future__ import annotations

import ipaddress
import socket

from pipeline.acquire.errors import RefusedURL


def forbidden_reason(address: str) -> str | None:
    """Why this IP address must not be crawled by default, or None if it is a public address.
    IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged by the IPv4 address they carry."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        ip = ip.sixtofour
    for name in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "not-global"
    return None


def is_allowed(host: str, port: int, address: str, allow_hosts: tuple[str, ...]) -> bool:
    """An allow-list entry is "host", "host:port", "ip" or "ip:port" ("[::1]:8080" for IPv6)."""
    entries = {a.strip().lower() for a in allow_hosts}
    host = host.lower().strip("[]")
    candidates = {
        host,
        f"{host}:{port}",
        address,
        f"{address}:{port}",
        f"[{address}]:{port}",
        f"[{host}]:{port}",
    }
    return bool(entries & candidates)


def resolve(host: str, port: int) -> list[str]:
    """All addresses DNS gives for host (an IP literal resolves to itself, without a query)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedURL(f"cannot resolve {host}: {exc}", "dns") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_destination(host: str, port: int, allow_hosts: tuple[str, ...]) -> list[str]:
    """Resolve host and refuse it if any of its addresses is private, loopback, link-local or
    reserved and not on the allow-list. Called before every connection, redirects included."""
    addresses = resolve(host, port)
    for address in addresses:
        why = forbidden_reason(address)
        if why and not is_allowed(host, port, address, allow_hosts):
            raise RefusedURL(
                f"{host}:{port} resolves to {address} ({why}); pass --allow-host {host}:{port} to crawl it",
                "forbidden_address",
            )
    return addresses
