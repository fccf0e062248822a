"""The pool of seeded PostgreSQL test databases hands out the template again after every test.

The pool reloads only the tables a test changed (tests/conftest.py, `_reset_to_pristine`); a
change it missed would leak into the next test that draws the same database. Here writes of
every kind a test makes (insert, update, delete, a table of its own) are reset, and every table
is compared, row for row, with the seed rows the template keeps beside it.
"""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import PRISTINE, _pg_url, _public_tables


def _fingerprint(conn, schema: str, table: str) -> tuple[int, str]:
    """Rows and a digest of their text, in a fixed order: equal for equal contents."""
    count, digest = conn.execute(
        text(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), ''))"
            f' FROM "{schema}"."{table}" AS t'
        )
    ).one()
    return int(count), str(digest)


def _differences(conn) -> list[str]:
    """The tables whose rows differ from the seed copy."""
    return [
        table
        for table in _public_tables(conn, PRISTINE)
        if _fingerprint(conn, "public", table) != _fingerprint(conn, PRISTINE, table)
    ]


def test_a_used_database_comes_back_as_the_template(request):
    pool = request.getfixturevalue("_postgres_pool")
    name = pool.take()
    engine = create_engine(_pg_url(name), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            assert _differences(conn) == []
            # what tests do: change seed rows, delete some, add others, make a table of their own
            conn.execute(
                text(
                    "UPDATE network_records SET record_id = record_id || '-x' WHERE kind = 'nodes'"
                )
            )
            conn.execute(text("DELETE FROM api_tokens"))
            conn.execute(text("UPDATE users SET name = name || ' (renamed)'"))
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('pool-test', 'x')"))
            conn.execute(text("CREATE TABLE scratch (id int)"))
            conn.execute(text("INSERT INTO scratch VALUES (1)"))
            changed = set(_differences(conn))
        assert {"network_records", "users", "meta"} <= changed, changed
        pool.give_back(name)
        assert name in pool.free, "the reset failed and the database was dropped"
        with engine.begin() as conn:
            assert _differences(conn) == []
            assert conn.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 0
            conn.execute(text("DROP TABLE scratch"))
            # a second round on the same database, from the mark the first reset left: a delete
            # alone (no row newer than the mark) is found by the row count
            conn.execute(text("DELETE FROM meta WHERE key = (SELECT min(key) FROM meta)"))
            assert _differences(conn) == ["meta"]
        pool.give_back(name)
        with engine.connect() as conn:
            assert _differences(conn) == []
    finally:
        engine.dispose()
