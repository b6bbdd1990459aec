"""Blocking and the search: rules unioned, pairs found once and grouped, best group first."""

from __future__ import annotations

import numpy as np
import pytest

import mailer.dedupe.blocking
import mailer.dedupe.search
from mailer.dedupe.blocking import RULES, block, block_digests, digest_array, pairs_touching, rule_codes, rule_pairs
from mailer.dedupe.keys import CustomerFields, KeyTable
from mailer.dedupe.search import connected_components, find_pairs
from tests.dedupe.labelled import customer_fields, generate_labelled_set


def table_of(rows: list[tuple[str, str, str, str, str]]) -> KeyTable:
    """Build a table from (customer_no, name, line1, postal_code, city) rows in the US."""
    return KeyTable.from_customers(
        CustomerFields(
            customer_no=no, name=name, line1=line1, line2="", city=city, region="IL", postal_code=postal,
            country="US",
        )
        for no, name, line1, postal, city in rows
    )


def test_rules_are_unioned_so_one_bad_field_hides_no_pair() -> None:
    table = table_of([
        ("C1", "Mary Jones", "40 Elm St", "62704", "Springfield"),
        ("C2", "Mary Jones", "40 Elm Street", "62705", "Springfield"),  # a mistyped ZIP
        ("C3", "Mray Jones", "40 Elm St", "62704", "Chatham"),  # another town, a typo in the name
        ("C4", "Peter Brown", "7 Oak Ave", "62799", "Peoria"),
    ])
    blocked = block(table)
    pairs = set(zip(blocked.a.tolist(), blocked.b.tolist(), strict=True))
    assert {(0, 1), (0, 2), (1, 2)} <= pairs
    assert not any(3 in pair for pair in pairs)
    assert set(blocked.by_rule) == {rule.name for rule in RULES}
    postal = dict(zip((r.name for r in RULES), RULES, strict=True))["postal"]
    a, b = rule_pairs(table, postal)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 2)]


def test_a_street_is_a_block_of_its_own_when_number_town_and_postcode_are_mistyped() -> None:
    table = table_of([
        ("C1", "Amber Whillas", "3 Meilene Retirement", "3987", "Whitfield"),
        ("C2", "Amberr Coulson", "26 Meilene Retirement", "3986", "Whitfeld"),
    ])
    blocked = block(table)
    assert list(zip(blocked.a.tolist(), blocked.b.tolist(), strict=True)) == [(0, 1)]
    assert blocked.by_rule["street_name"].size == 1


def test_a_large_block_is_compared_in_windows() -> None:
    table = table_of([(f"C{i:04d}", f"Person{i:04d} Smith", f"{i} Oak St", "62704", "Springfield") for i in range(300)])
    postal = dict(zip((r.name for r in RULES), RULES, strict=True))["postal"]
    a, _ = rule_pairs(table, postal, window=10)
    assert a.size == sum(min(9, 299 - i) for i in range(300))


def test_blocking_gives_each_customers_key_digests_as_stored_and_read_back() -> None:
    table = KeyTable.from_customers(customer_fields(generate_labelled_set(300, seed=6).rows))
    digests = block(table).digests
    assert digests.shape == (len(table), len(RULES))
    assert np.array_equal(digests, block_digests(table))
    assert np.array_equal(digest_array([row.tobytes() for row in digests]), digests)
    # Customers share a digest exactly when they share the key; no key is 0.
    for r, rule in enumerate(RULES):
        keys = [rule.key(table, i) for i in range(len(table))]
        assert [key == "" for key in keys] == (digests[:, r] == 0).tolist()
        assert all((keys[i] == keys[j]) == (digests[i, r] == digests[j, r])
                   for i in range(0, len(table), 7) for j in range(0, len(table), 11))


def test_keys_and_orders_worked_out_once_a_group_pair_what_each_customers_own_would() -> None:
    # A key (an order) is computed once for customers alike in the columns it is made from; every
    # customer's own key and order, as a few new customers' are, must pair the same customers.
    table = KeyTable.from_customers(customer_fields(generate_labelled_set(1200, seed=9).rows))
    width = np.int64(len(table))
    a, b = pairs_touching(table, range(len(table)), window=4)
    assert np.array_equal(block(table, window=4).ids, a * width + b)
    for rule in RULES:
        keys = [rule.key(table, i) for i in range(len(table))]
        coded = rule_codes(table, rule)
        assert coded.rows.tolist() == [i for i, key in enumerate(keys) if key]
        assert [coded.keys[code] for code in coded.codes.tolist()] == [key for key in keys if key]


def test_the_union_of_the_rules_pairs_holds_each_pair_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    table = KeyTable.from_customers(customer_fields(generate_labelled_set(600, seed=11).rows))
    width = np.int64(len(table))
    expected = np.unique(np.concatenate([a * width + b for a, b in (rule_pairs(table, rule) for rule in RULES)]))
    # Merged in place a few values at a time, as a large file's pairs are.
    monkeypatch.setattr(mailer.dedupe.blocking, "_MOVE_CHUNK", 97)
    assert np.array_equal(block(table).ids, expected)


def test_connected_components_group_a_chain() -> None:
    groups = connected_components(np.array([1, 2, 7]), np.array([2, 3, 8]))
    assert groups == {1: 1, 2: 1, 3: 1, 7: 7, 8: 7}


def test_search_groups_a_person_typed_three_times_and_lists_every_pair() -> None:
    labelled = generate_labelled_set(600, seed=4)
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    search = find_pairs(table)
    found, stats = search.found, search.stats
    assert stats.pairs_found == len(found) > 0
    assert all(a < b for a, b in zip(found.a.tolist(), found.b.tolist(), strict=True))
    assert found.cluster.min() == 1 and np.all(np.diff(found.cluster) >= 0)
    for cluster in np.unique(found.cluster).tolist():
        members = found.take(found.cluster == cluster)
        people = set(members.a.tolist()) | set(members.b.tolist())
        assert len(members) == len(people) * (len(people) - 1) // 2
    assert found.probability[found.cluster == 1].max() == found.probability.max()


def test_an_empty_file_finds_nothing() -> None:
    search = find_pairs(KeyTable())
    found, stats = search.found, search.stats
    assert len(found) == 0 and stats.pairs_compared == 0


def test_a_model_fitted_on_a_sample_of_the_pairs_finds_what_the_whole_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    labelled = generate_labelled_set(1200, seed=5)
    table = KeyTable.from_customers(customer_fields(labelled.rows))
    search = find_pairs(table)
    whole, stats = search.found, search.stats
    monkeypatch.setattr(mailer.dedupe.blocking, "TRAINING_PAIRS", stats.pairs_compared // 4)
    # Scored in several chunks, shared among worker processes as a large file's are.
    monkeypatch.setattr(mailer.dedupe.search, "COMPARE_CHUNK", 4_000)
    search = find_pairs(table)
    sampled, sampled_stats = search.found, search.stats
    assert sampled_stats.pairs_compared == stats.pairs_compared
    found = set(zip(whole.a.tolist(), whole.b.tolist(), strict=True))
    found_on_sample = set(zip(sampled.a.tolist(), sampled.b.tolist(), strict=True))
    assert len(found) > 100
    assert len(found & found_on_sample) >= 0.95 * len(found | found_on_sample)
