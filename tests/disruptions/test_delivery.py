"""Notices reach a subscriber's webhook: each matching change once, in order, signed, and sent
again after a failure. A real HTTP server on loopback receives them."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from corridor.disruptions import NoticeDraft
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store import disruptions as store
from corridor.store.disruptions_delivery import deliver_notices
from corridor.store.models import User
from corridor.store.network import load_stored_network
from corridor.store.seed import prepare
from corridor.webhooks import SIGNATURE_HEADER, verify
from corridor.webhooks.guard import parse_allowed

T0 = datetime(2026, 3, 3, tzinfo=UTC)


def draft(node: str, severity: str = "major") -> NoticeDraft:
    return NoticeDraft.model_validate(
        {
            "kind": "closure",
            "severity": severity,
            "elements": [{"kind": "node", "id": node}],
            "starts_at": T0,
            "expected_end": T0 + timedelta(days=2),
            "texts": {"en": f"{node} closed"},
        }
    )


def test_each_matching_notice_once_in_order_after_a_failed_post(db):
    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    received: list[tuple[bytes, str]] = []
    answers = [503]  # the first POST fails; later ones succeed

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = answers.pop(0) if answers else 204
            if status < 300:
                received.append((body, self.headers[SIGNATURE_HEADER]))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with db.session() as s:
            network = load_stored_network(s, PACKAGE_DATA_DIR)
            admin = s.scalar(select(User).where(User.email == "admin@demo.corridor"))
            forwarder = s.scalar(select(User).where(User.email == "forwarder@demo.corridor"))
            url = f"http://127.0.0.1:{server.server_address[1]}/hook"
            sub = store.subscribe(s, forwarder.organisation_id, {"countries": ["KZ"]}, url)
            secret = sub.secret
            for node in ("aktau_port", "poti_port", "kuryk_port"):  # KZ, GE, KZ
                store.publish(s, admin.organisation_id, admin.id, draft(node))
        allowed = parse_allowed(["127.0.0.0/8"])
        assert deliver_notices(db, network, allowed) == 0  # 503: nothing counted, cursor kept
        assert deliver_notices(db, network, allowed) == 2
        assert deliver_notices(db, network, allowed) == 0  # nothing new: nothing sent again
        with db.session() as s:
            store.publish(s, admin.organisation_id, admin.id, draft("aktau_port", "severe"))
        assert deliver_notices(db, network, allowed) == 1
    finally:
        server.shutdown()
        server.server_close()
    nodes = [
        c["notice"]["elements"][0]["id"]
        for body, _ in received
        for c in json.loads(body)["changes"]
    ]
    assert nodes == ["aktau_port", "kuryk_port", "aktau_port"]
    for body, signature in received:
        assert verify(secret, body, signature)


def test_a_loopback_webhook_is_refused_unless_allowed(db):
    prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    with db.session() as s:
        network = load_stored_network(s, PACKAGE_DATA_DIR)
        admin = s.scalar(select(User).where(User.email == "admin@demo.corridor"))
        store.subscribe(s, admin.organisation_id, {}, "http://127.0.0.1:9/hook")
        store.publish(s, admin.organisation_id, admin.id, draft("aktau_port"))
    assert deliver_notices(db, network) == 0  # refused target: never posted, retried later
