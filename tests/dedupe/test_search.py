"""Blocking and the search: pairs found once, best first, and the cost of a search."""

from __future__ import annotations

import numpy as np

from mailer.dedupe.blocking import plan_blocks
from mailer.dedupe.keys import CustomerFields, KeyTable, match_keys
from mailer.dedupe.search import find_pairs


def table_of(rows: list[tuple[str, str, str, str, str]]) -> KeyTable:
    """Build a table from (customer_no, name, line1, postal_code, city) rows in the US."""
    return KeyTable.from_customers(
        CustomerFields(
            customer_no=no, name=name, line1=line1, line2="", city=city, region="IL", postal_code=postal,
            country="US",
        )
        for no, name, line1, postal, city in rows
    )


def found(table: KeyTable, **options: object) -> set[tuple[str, str]]:
    pairs, _ = find_pairs(table, **options)  # type: ignore[arg-type]
    return {
        tuple(sorted((table.customer_nos[a], table.customer_nos[b])))  # type: ignore[misc]
        for a, b in zip(pairs.a.tolist(), pairs.b.tolist(), strict=True)
    }


def test_search_finds_pairs_across_postal_codes_through_the_name_blocks() -> None:
    table = table_of([
        ("C1", "Mary Jones", "40 Elm St", "62704", "Springfield"),
        ("C2", "Mary Jones", "40 Elm Street", "62705", "Springfield"),  # a mistyped ZIP
        ("C3", "Mary Jones", "40 Elm St", "62704", "Chatham"),  # the same ZIP, another town
        ("C4", "Peter Brown", "7 Oak Ave", "62704", "Springfield"),
    ])
    assert found(table) == {("C1", "C2"), ("C1", "C3")}


def test_search_reports_each_pair_once_best_first() -> None:
    table = table_of([
        ("C1", "Mary Jones", "40 Elm St", "62704", "Springfield"),
        ("C2", "Mary Jones", "40 Elm St", "62704", "Springfield"),
        ("C3", "Mary Jnoes", "40 Elm St", "62704", "Springfield"),
    ])
    pairs, stats = find_pairs(table)
    assert len(pairs) == 3 == stats.pairs_found
    assert list(pairs.score) == sorted(pairs.score, reverse=True)
    assert pairs.score[0] == 100
    assert all(a < b for a, b in zip(pairs.a, pairs.b, strict=True))


def big_block(size: int) -> KeyTable:
    """Customers all in one ZIP, each with its own name and street."""
    streets = ["Oak", "Elm", "Pine", "Maple", "Cedar", "Birch", "Walnut", "Cherry"]
    return table_of([
        (f"C{i:05d}", f"Person{i:05d} Surname{i % 97:02d}", f"{i} {streets[i % 8]} St", "62704", "Springfield")
        for i in range(size)
    ])


def test_big_blocks_are_cut_into_windows_so_work_stays_near_linear() -> None:
    compared = {}
    for size in (1000, 2000):
        table = big_block(size)
        plan = plan_blocks(table, max_block=64)
        _, stats = find_pairs(table, plan=plan)
        assert stats.pairs_compared == plan.pairs_to_compare
        # Every customer meets at most max_block others in each block it is in, not all the others.
        assert stats.pairs_compared <= plan.records.size * 64
        compared[size] = stats.pairs_compared
    assert compared[2000] <= 2.1 * compared[1000]


def test_plan_covers_neighbours_in_a_window_and_not_far_rows() -> None:
    # Nameless customers in one ZIP: a single block, no name blocks.
    table = table_of([(f"C{i:03d}", "", f"{i} Oak St", "62704", "Springfield") for i in range(500)])
    plan = plan_blocks(table, max_block=64)
    assert plan.block_count == 1
    rows = plan.records
    near = plan.covers(rows[:-1].tolist(), rows[1:].tolist())
    assert near.all()
    far = plan.covers(rows[:100].tolist(), rows[400:].tolist())
    assert not far.any()


def test_a_duplicate_pair_inside_a_big_block_is_found() -> None:
    table = big_block(1500)
    table.append("D1", match_keys(
        name="Person00700 Surname21", line1="700 Cedar Street", line2="", city="Springfield", region="IL",
        postal_code="62704", country="US",
    ))
    assert ("C00700", "D1") in found(table, max_block=64)


def test_no_customers_no_pairs() -> None:
    pairs, stats = find_pairs(KeyTable())
    assert len(pairs) == 0
    assert stats.pairs_compared == 0
    assert np.asarray(pairs.score).size == 0
