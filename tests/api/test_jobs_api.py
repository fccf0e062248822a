"""Jobs over HTTP: the owner follows its job to the result; nobody else sees it."""

from __future__ import annotations

import time
from typing import Any

from corridor.jobs import register
from corridor.store.accounts import principal_for
from tests.api.conftest import FORWARDER, OTHER


def squares(params: dict[str, Any], progress) -> dict[str, Any]:
    values = [int(v) for v in params["values"]]
    progress(0.5, "halfway")
    return {"squares": [v * v for v in values]}


register("test-squares", squares)


def test_the_owner_follows_a_job_to_its_result_and_others_get_404(api):
    headers = api.headers(FORWARDER)
    app = api.client.app
    with app.state.db.session() as s:
        who = principal_for(s, headers["Authorization"].removeprefix("Bearer "))
    assert who is not None
    job = app.state.jobs.submit("test-squares", {"values": [3, 4]}, who.organisation_id)
    deadline = time.monotonic() + 20
    while True:
        answer = api.client.get(f"/api/v1/jobs/{job.id}", headers=headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert answer.json()["state"] == "done"
    assert answer.json()["result"] == {"squares": [9, 16]}
    foreign = api.client.get(f"/api/v1/jobs/{job.id}", headers=api.headers(OTHER))
    assert foreign.status_code == 404
    assert foreign.json()["error"]["field"] == "job_id"
    assert api.client.get(f"/api/v1/jobs/{job.id}").status_code == 401
