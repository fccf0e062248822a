import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from corridor.customs import ledger


def hashes(n):
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33])
def test_incremental_frontier_equals_the_rfc9162_tree_hash(n):
    frontier = ledger.MerkleFrontier()
    for h in hashes(n):
        frontier.append(h)
    assert frontier.root() == ledger.merkle_root(hashes(n))


def test_two_leaf_tree_by_hand():
    a, b = hashes(2)
    expected = hashlib.sha256(
        b"\x01"
        + hashlib.sha256(b"\x00" + bytes.fromhex(a)).digest()
        + hashlib.sha256(b"\x00" + bytes.fromhex(b)).digest()
    ).hexdigest()
    assert ledger.merkle_root([a, b]) == expected


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_inclusion_proofs_verify_and_fail_for_the_wrong_leaf(n):
    items = hashes(n)
    root = ledger.merkle_root(items)
    for i, h in enumerate(items):
        proof = ledger.inclusion_proof(items, i)
        assert ledger.verify_inclusion(h, i, n, proof, root)
        assert not ledger.verify_inclusion(hashes(n + 1)[-1], i, n, proof, root)


def build(n, key):
    entries, prev = [], ledger.GENESIS
    for seq in range(1, n + 1):
        body = {"seq": seq, "action": "arrive", "office": f"o{seq}"}
        h = ledger.entry_hash(prev, body)
        entries.append(ledger.Entry(seq, body, prev, h, "k", ledger.sign(key, h)))
        prev = h
    return entries


def test_verify_accepts_a_good_log_and_names_the_first_bad_record():
    key = Ed25519PrivateKey.generate()
    keys = {"k": key.public_key()}
    entries = build(6, key)
    report = ledger.verify(entries, keys)
    assert report.ok
    assert report.records == 6
    assert report.root == ledger.merkle_root([e.record_hash for e in entries])

    altered = list(entries)
    altered[3] = ledger.Entry(
        4,
        {**entries[3].body, "office": "elsewhere"},
        entries[3].prev_hash,
        entries[3].record_hash,
        "k",
        entries[3].signature,
    )
    report = ledger.verify(altered, keys)
    assert (report.ok, report.first_bad) == (False, 4)
    assert "altered" in report.reason

    forger = Ed25519PrivateKey.generate()
    forged = list(entries)
    forged[1] = ledger.Entry(
        2,
        entries[1].body,
        entries[1].prev_hash,
        entries[1].record_hash,
        "k",
        ledger.sign(forger, entries[1].record_hash),
    )
    report = ledger.verify(forged, keys)
    assert (report.first_bad, "invalid signature" in report.reason) == (2, True)

    replayed = [
        *entries,
        ledger.Entry(
            7,
            entries[2].body,
            entries[2].prev_hash,
            entries[2].record_hash,
            "k",
            entries[2].signature,
        ),
    ]
    report = ledger.verify(replayed, keys)
    assert report.first_bad == 7
    assert "chain broken" in report.reason
