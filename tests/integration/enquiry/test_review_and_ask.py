"""The REVIEW queue worked through with ``mais enquiry review list|approve|deny``; ``mais enquiry ask``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from enquiry_it_helpers import CHILD, Env, make_env, person, write_policy

from exchange.purposes import purpose_from_text
from services.enquiry import build_request
from services.enquiry._policies import load_policy_file

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def _mais(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        env={**os.environ, **env.env_vars(), "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_review_queue_then_ask(
    kafka_bootstrap: str, schema_registry_url: str, tmp_path: Path, unique_topic: Any
) -> None:
    env = make_env(kafka_bootstrap, schema_registry_url, tmp_path, unique_topic)
    requester, responder = env.agency("southshire"), env.agency("northvale")
    uri = f"https://southshire.example.org/policies/s47-{env.suffix}.json"
    write_policy(tmp_path / "responder", "s47", [requester, responder], uri=uri, version="1")
    # the requester asks under version 2, which the responder does not hold: REVIEW
    newer = write_policy(tmp_path / "requester", "s47", [requester, responder], uri=uri, version="2")
    env.publish_people(responder, [person(0)])
    s47 = purpose_from_text("children-act-1989-s47")
    assert s47 is not None
    with env.responders([env.responder_config(responder, tmp_path / "responder")]):
        client = env.client(requester, f"enquiry.requester.{requester}")
        try:
            first = build_request(
                env.enquiry.organisation(requester), person(0), s47, [load_policy_file(newer)]
            )
            second = build_request(
                env.enquiry.organisation(requester), person(0), s47, [load_policy_file(newer)]
            )
            for request in (first, second):
                client.send(request)
                [pending] = list(client.gather(request, 30, {responder}, keep=True))
                assert (pending.kind, pending.decision) == ("decision", "REVIEW")
                assert pending.value["rationale"][0]["code"] == "policy-version-differs"
            listed = _mais(env, "enquiry", "review", "list", "--agency", responder)
            assert listed.returncode == 0, listed.stderr
            for request in (first, second):
                assert request["identifier"]["value"] in listed.stdout
            assert "policy-version-differs" in listed.stdout and CHILD["family"] not in listed.stdout
            approve = _mais(
                env,
                "enquiry",
                "review",
                "approve",
                first["identifier"]["value"],
                "--agency",
                responder,
                "--reviewer",
                "ig-officer",
            )
            deny = _mais(
                env,
                "enquiry",
                "review",
                "deny",
                second["identifier"]["value"],
                "--agency",
                responder,
                "--reviewer",
                "ig-officer",
            )
            assert approve.returncode == 0 and deny.returncode == 0, approve.stderr + deny.stderr
            again = _mais(
                env,
                "enquiry",
                "review",
                "approve",
                first["identifier"]["value"],
                "--agency",
                responder,
                "--reviewer",
                "x",
            )
            assert again.returncode == 2 and "Traceback" not in again.stderr
            assert re.search(r"is already (approved|answered)", again.stderr)
            answers = {}
            deadline = time.monotonic() + 60
            for request in (first, second):
                for answer in client.gather(request, max(1.0, deadline - time.monotonic()), {responder}):
                    if answer.kind == "response":
                        answers[request["identifier"]["value"]] = answer.value
            approved, denied = answers[first["identifier"]["value"]], answers[second["identifier"]["value"]]
            assert (approved["decision"], approved["match"], approved["contact"]["name"]) == (
                "REVIEW",
                True,
                f"{responder} safeguarding",
            )
            assert (denied["decision"], denied["match"], denied["contact"]) == ("DENY", False, None)
            assert denied["subjectIdentifier"] == [second["identifier"]]  # no personal data in a denial
            assert (
                "no request is waiting"
                in _mais(env, "enquiry", "review", "list", "--agency", responder).stdout
            )
        finally:
            client.close()

        # mais enquiry ask, with the version the responder holds: answered at once
        key = env.keys / f"enquiry.requester.{requester}.key"
        asked = _mais(
            env,
            "enquiry",
            "ask",
            "--as",
            requester,
            "--purpose",
            "https://www.legislation.gov.uk/ukpga/1989/41/section/47",
            "--policy",
            str(tmp_path / "responder" / "s47.json"),
            "--nhs-number",
            CHILD["nhs"],
            "--data",
            "contact",
            "--deadline",
            "30",
            "--expect",
            responder,
            "--audit-key",
            str(key),
        )
        assert asked.returncode == 0, asked.stdout + asked.stderr
        assert f"{responder}: PERMIT, KNOWN (PUB03 0.99" in asked.stdout
        assert "0113 496 0000" in asked.stdout and "1 answer(s)." in asked.stdout
        nobody = _mais(
            env,
            "enquiry",
            "ask",
            "--as",
            requester,
            "--purpose",
            "children-act-1989-s47",
            "--policy",
            str(tmp_path / "responder" / "s47.json"),
            "--nhs-number",
            "9000000009",
            "--deadline",
            "30",
            "--expect",
            responder,
            "--audit-key",
            str(key),
        )
        assert nobody.returncode == 0, nobody.stderr
        assert f"{responder}: PERMIT, not known" in nobody.stdout
        # usage errors: clear message, no traceback, nothing sent
        keyless = _mais(
            env,
            "enquiry",
            "ask",
            "--as",
            requester,
            "--purpose",
            "children-act-1989-s47",
            "--policy",
            str(newer),
            "--nhs-number",
            "9000000009",
        )
        assert (
            keyless.returncode == 2
            and "no audit signing key" in keyless.stderr
            and "Traceback" not in keyless.stderr
        )
        vague = _mais(
            env,
            "enquiry",
            "ask",
            "--as",
            requester,
            "--purpose",
            "s99",
            "--policy",
            str(newer),
            "--nhs-number",
            "9000000009",
        )
        assert vague.returncode == 2 and "unknown purpose 's99'" in vague.stderr
    report = env.verify()
    assert report.ok, [str(f) for f in report.findings]
