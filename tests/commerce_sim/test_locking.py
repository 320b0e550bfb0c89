"""One writer per world on disk: two processes, and no accepted system call is ever lost.

Slow: every test starts a second Python process (a few seconds of imports on a busy machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from commerce_sim.locking import WorldBusy
from commerce_sim.scenario import load_scenario, parse_scenario
from commerce_sim.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _scenario():
    data = load_scenario().with_overrides(products=12, customers=150, days=30).model_dump()
    for system in data["systems"].values():
        system.update(timeout_rate=0.0, rejection_rate=0.0, partial_rate=0.0)
    return parse_scenario(data)


@pytest.fixture
def world(tmp_path) -> Simulator:
    sim = Simulator.create(_scenario(), tmp_path / "sim", tmp_path / "landing")
    sim.advance(1)
    return sim


def _process(script: str, *args) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *map(str, args)], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _start(process: subprocess.Popen) -> None:
    """Wait until the other process has opened the world, then let it go."""
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    process.stdin.write("go\n")
    process.stdin.flush()


SET_PRICES = """
    import json, sys, time
    from pathlib import Path
    from commerce_sim.systems import CommerceSystems
    root, landing, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    until_dates = int(sys.argv[4]) if len(sys.argv) > 4 else 1  # keep calling until this many effective dates
    systems = CommerceSystems.open(root, landing)
    print("ready", flush=True)
    sys.stdin.readline()  # go
    effective, i = set(), 0
    while i < count or (len(effective) < until_dates and i < MAX_CALLS):
        product = f"P{i % 12 + 1:05d}"
        price = 5.0 + i % 15  # within the pricing engine's limits however many calls it takes
        receipt = systems.pricing.set_price(product, "web", price, idempotency_key=f"other-{i}")
        effective.add(receipt.effective_date)
        print(json.dumps({"product": product, "price": price, "status": receipt.status,
                          "effective": receipt.effective_date.isoformat()}), flush=True)
        i += 1
        time.sleep(0.05)
""".replace("MAX_CALLS", "400")  # ~20 s of calls at most


def _prices(sim: Simulator, date: str) -> pd.DataFrame:
    frame = pd.read_csv(sim.landing / "prices" / date / "prices.csv")
    return frame[frame["channel"] == "web"].set_index("product_id")


def test_a_stale_simulator_does_not_overwrite_a_call_made_by_another_process(world):
    stale = Simulator.open(world.root, world.landing)  # loaded before the other process changes anything
    other = _process(SET_PRICES, world.root, world.landing, 1)
    _start(other)
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    receipt = json.loads(out.splitlines()[0])
    assert receipt["status"] == "accepted"
    stale.advance(2)
    assert _prices(stale, receipt["effective"]).loc[receipt["product"], "regular_price"] == receipt["price"]
    assert "other-0" in Simulator.open(world.root, world.landing).state.receipts


def test_two_processes_writing_at_once_lose_nothing(world):
    # 15 calls at least, and on until they have landed on two simulated days. This process advances only
    # once the first call has landed, so on a loaded machine the advance cannot take the world's lock
    # before any call is made (all calls would then land after it, on one day).
    other = _process(SET_PRICES, world.root, world.landing, 15, 2)
    _start(other)
    first = other.stdout.readline()
    world.advance(12)  # meanwhile, in this process
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    out = first + out
    receipts = [json.loads(line) for line in out.splitlines()]
    assert len(receipts) >= 15 and {r["status"] for r in receipts} == {"accepted"}
    assert len({r["effective"] for r in receipts}) > 1  # the calls really came in between simulated days
    final = Simulator.open(world.root, world.landing)
    assert {f"other-{i}" for i in range(len(receipts))} <= set(final.state.receipts)
    if final.current_date.isoformat() <= receipts[-1]["effective"]:
        final.advance(1)  # the last call may have come after the last simulated day
    last = {}
    for r in receipts:  # the latest price set for each product wins
        last[r["product"]] = r
    for product, r in last.items():
        shown = _prices(final, r["effective"]).loc[product, "regular_price"]
        assert shown == r["price"], (product, r)


HOLD = """
    import sys, time
    from pathlib import Path
    from commerce_sim.simulator import Simulator
    sim = Simulator.open(Path(sys.argv[1]), Path(sys.argv[2]))
    with sim.lock():
        print("holding", flush=True)
        time.sleep(float(sys.argv[3]))
"""


def test_a_second_writer_waits_then_fails_with_a_clear_message(world):
    holder = _process(HOLD, world.root, world.landing, 2.0)
    assert holder.stdout.readline().strip() == "holding"
    impatient = Simulator.open(world.root, world.landing, lock_timeout=0.3)
    with pytest.raises(WorldBusy) as caught:
        impatient.advance(1)
    message = str(caught.value)
    assert "being changed by another process" in message and f"pid {holder.pid}" in message
    assert str(world.root) in message
    started = time.monotonic()
    patient = Simulator.open(world.root, world.landing, lock_timeout=30)
    patient.advance(1)  # waits for the holder to let go
    assert time.monotonic() - started > 0.5
    holder.communicate(timeout=30)
    assert Simulator.open(world.root, world.landing).current_date == world.scenario.start_date + pd.Timedelta(days=2)
