"""The scenario file is validated strictly: typos and impossible values fail loudly, naming the key and file."""

from __future__ import annotations

import copy
from pathlib import Path

import pydantic
import pytest
import yaml

from commerce_sim.scenario import DEFAULT_SCENARIO, Scenario, ScenarioError, load_scenario, parse_scenario

SCENARIO_DIR = DEFAULT_SCENARIO.parent


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))


def write_yaml(directory: Path, data, name: str = "scenario.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def changed(data: dict, mutate) -> dict:
    copied = copy.deepcopy(data)
    mutate(copied)
    return copied


# ----------------------------------------------------------------------------- valid scenarios
def test_default_scenario_loads_with_the_documented_shop():
    scenario = load_scenario()
    assert scenario == load_scenario(DEFAULT_SCENARIO)
    assert scenario.name == "default"
    assert scenario.catalog.n_products == 200
    assert [c.id for c in scenario.channels] == ["web", "marketplace", "app"]
    assert len(scenario.warehouses) == 3
    assert scenario.customers.n_customers == 5000
    assert scenario.history_days == 365
    assert scenario.demand.elasticity_mean == -2.0
    assert any(event.name == "Black Friday" for event in scenario.demand.events)


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_is_valid(path):
    assert isinstance(load_scenario(path), Scenario)


def test_a_copied_scenario_file_loads_from_anywhere(tmp_path, default_data):
    path = write_yaml(tmp_path, default_data)
    assert load_scenario(path) == load_scenario()
    assert load_scenario(str(path)) == load_scenario()


def test_scenarios_are_immutable():
    scenario = load_scenario()
    with pytest.raises(pydantic.ValidationError):
        scenario.seed = 1  # type: ignore[misc]


# ----------------------------------------------------------------------------- unknown keys
@pytest.mark.parametrize(
    ("mutate", "dotted"),
    [
        (lambda d: d.update(seeed=1), "seeed"),
        (lambda d: d["demand"].update(elasticty_mean=-2.0), "demand.elasticty_mean"),
        (lambda d: d["demand"]["reference_price"].update(memmory=0.5), "demand.reference_price.memmory"),
        (lambda d: d["catalog"]["categories"][1].update(sharee=0.2), "catalog.categories.1.sharee"),
        (lambda d: d["channels"][2].update(fee=0.1), "channels.2.fee"),
    ],
    ids=["top-level", "nested", "deeply-nested", "in-a-list", "channel"],
)
def test_unknown_keys_are_rejected_with_their_dotted_path_and_the_file(tmp_path, default_data, mutate, dotted):
    path = write_yaml(tmp_path, changed(default_data, mutate))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"{dotted}: unknown key" in message


def test_every_bad_key_is_reported_at_once(tmp_path, default_data):
    def mutate(d):
        d["demand"]["elasticty_mean"] = -2.0
        d["catalog"]["n_products"] = -1
        d["customer"] = {}

    path = write_yaml(tmp_path, changed(default_data, mutate))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    for key in ("demand.elasticty_mean", "catalog.n_products", "customer"):
        assert key in message


# ----------------------------------------------------------------------------- invalid values
def _set(*path_and_value):
    *path, key, value = path_and_value

    def mutate(d):
        node = d
        for part in path:
            node = node[part]
        node[key] = value

    return mutate


INVALID_VALUES = [
    pytest.param(_set("catalog", "n_products", -5), ["catalog.n_products"], id="negative-n_products"),
    pytest.param(_set("catalog", "n_products", 0), ["catalog.n_products"], id="zero-n_products"),
    pytest.param(_set("customers", "n_customers", -1), ["customers.n_customers"], id="negative-n_customers"),
    pytest.param(_set("history_days", 0), ["history_days"], id="zero-history_days"),
    pytest.param(_set("demand", "elasticity_bounds", [-0.5, -4.0]), ["demand.elasticity_bounds", "low first"],
                 id="elasticity_bounds-reversed"),
    pytest.param(_set("demand", "elasticity_bounds", [-4.0, 0.5]), ["demand.elasticity_bounds"],
                 id="elasticity_bounds-positive"),
    pytest.param(_set("demand", "elasticity_mean", -5.0), ["demand", "elasticity_mean", "outside elasticity_bounds"],
                 id="elasticity_mean-outside-bounds"),
    pytest.param(_set("demand", "elasticity_mean", 0.5), ["demand.elasticity_mean"], id="elasticity_mean-positive"),
    pytest.param(lambda d: d["customers"]["segments"][2].update(preferred_channel="shop"),
                 ["customers.segments[2].preferred_channel", "'shop'"], id="segment-channel-unknown"),
    pytest.param(lambda d: d["channels"][1].update(id="web"), ["channel ids must be unique", "'web'"],
                 id="duplicate-channel-ids"),
    pytest.param(lambda d: d["warehouses"][1].update(id="WH-NORTH"), ["warehouse ids must be unique", "WH-NORTH"],
                 id="duplicate-warehouse-ids"),
    pytest.param(lambda d: d["catalog"]["categories"][1].update(name="kitchen"),
                 ["catalog.categories names must be unique"], id="duplicate-category-names"),
    pytest.param(lambda d: d["catalog"]["categories"][0].update(price_range=[60, 50]),
                 ["catalog.categories.0.price_range", "must be below"], id="price_range-reversed"),
    pytest.param(lambda d: d["catalog"]["categories"][0].update(price_range=[50, 50]),
                 ["catalog.categories.0.price_range", "must be below"], id="price_range-empty"),
    pytest.param(lambda d: d["catalog"]["categories"][0].update(price_range=[-5, 50]),
                 ["catalog.categories.0.price_range"], id="price_range-negative"),
    pytest.param(lambda d: d["channels"][0].update(demand_share=0), ["channels.0.demand_share"],
                 id="zero-demand-share"),
    pytest.param(lambda d: d["channels"][0].update(id="Web Shop"), ["channels.0.id"], id="bad-channel-id"),
    pytest.param(_set("channels", []), ["channels"], id="no-channels"),
    pytest.param(_set("data_defects", "missing_price_rate", 1.5), ["data_defects.missing_price_rate"],
                 id="probability-above-one"),
    pytest.param(_set("currency", "euro"), ["currency"], id="bad-currency"),
    pytest.param(_set("start_date", "2025-02-30"), ["start_date"], id="impossible-date"),
    pytest.param(lambda d: d.pop("catalog"), ["catalog: Field required"], id="missing-section"),
]


@pytest.mark.parametrize(("mutate", "expected"), INVALID_VALUES)
def test_invalid_values_are_rejected_naming_the_key(tmp_path, default_data, mutate, expected):
    path = write_yaml(tmp_path, changed(default_data, mutate))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: invalid scenario")
    for fragment in expected:
        assert fragment in message


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("competitor", "price_war_days", [21, 5]),
        ("competitor", "price_war_depth", [0.25, 0.1]),
        ("promotions", "discount_range", [0.3, 0.1]),
        ("promotions", "duration_days", [10, 3]),
        ("promotions", "lead_days", [21, 3]),
    ],
)
def test_reversed_ranges_are_rejected_naming_the_key(default_data, section, key, value):
    data = changed(default_data, _set(section, key, value))
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, source="ranges.yaml")
    assert f"{section}.{key}" in str(caught.value)


# ----------------------------------------------------------------------------- unreadable files
@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "list"), ("just a string\n", "str"), ("42\n", "int"), ("", "NoneType")],
    ids=["list", "string", "number", "empty-file"],
)
def test_a_scenario_that_is_not_a_mapping_is_rejected(tmp_path, text, kind):
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message
    assert "must be a mapping" in message
    assert kind in message


def test_a_missing_file_is_reported_with_its_path(tmp_path):
    path = tmp_path / "nope" / "scenario.yaml"
    with pytest.raises(ScenarioError, match="scenario file not found") as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)


def test_a_directory_is_not_a_scenario_file(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path)


def test_invalid_yaml_is_reported_with_the_file_and_the_parser_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ncatalog: {n_products: 10\nchannels: [\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not valid YAML")
    assert "line" in message  # the parser's position helps find the mistake


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8") as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)


def test_parse_scenario_names_its_source():
    with pytest.raises(ScenarioError, match=r"^from-the-api: a scenario must be a mapping"):
        parse_scenario(["not", "a", "mapping"], source="from-the-api")
    with pytest.raises(ScenarioError, match=r"^<dict>: invalid scenario"):
        parse_scenario({"seed": 1})


# ----------------------------------------------------------------------------- overrides
def test_with_overrides_changes_only_the_size_knobs():
    base = load_scenario()
    small = base.with_overrides(days=30, products=50, customers=400, seed=9)
    assert (small.history_days, small.catalog.n_products, small.customers.n_customers, small.seed) == (30, 50, 400, 9)
    assert small.demand == base.demand
    assert small.channels == base.channels
    assert small.catalog.categories == base.catalog.categories
    # the original is untouched, and no override means an equal copy
    assert (base.history_days, base.catalog.n_products, base.customers.n_customers, base.seed) == (365, 200, 5000, 42)
    assert base.with_overrides() == base
    assert base.with_overrides(seed=0).seed == 0  # zero is a value, not "no override"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [({"products": 2}, "catalog.n_products"), ({"customers": 5}, "customers.n_customers"),
     ({"days": 0}, "history_days"), ({"days": -3}, "history_days")],
)
def test_with_overrides_revalidates(overrides, key):
    with pytest.raises(ScenarioError) as caught:
        load_scenario().with_overrides(**overrides)
    message = str(caught.value)
    assert message.startswith("overrides: invalid scenario")
    assert key in message
