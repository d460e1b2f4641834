"""`shop inventory reconcile`: the drifts between stock rows (on hand, reserved) and their movements, as a table and a
one-line summary."""

from __future__ import annotations

from rich.table import Table

from inventory.service import Drift


def repaired(drift: Drift, repair: bool) -> bool:
    """Whether `--repair` set the column to its movements (never below zero: such drifts are left for a person)."""
    return repair and drift.expected >= 0


def drift_table(found: list[Drift], repair: bool) -> Table:
    table = Table(title="Stock drift: recorded stock vs. the sum of its movements")
    table.add_column("item", overflow="fold")  # ids stay whole on a narrow terminal
    table.add_column("warehouse", overflow="fold")
    table.add_column("column")
    for column in ("recorded", "movements", "drift"):
        table.add_column(column, justify="right")
    table.add_column("state")
    for drift in found:
        state = ("repaired" if repaired(drift, repair) else
                 "not repaired: movements add up below zero" if repair else "found")
        table.add_row(drift.item_id, drift.warehouse_id, drift.column, str(drift.recorded), str(drift.expected),
                      f"{drift.recorded - drift.expected:+d}", state)
    return table


def summary(found: list[Drift], checked_items: int | None, repair: bool) -> str:
    scope = _count(checked_items, "item") if checked_items is not None else "all items"
    if not found:
        return f"no drift: every stock row of {scope} matches its movements"
    fixed = sum(repaired(drift, repair) for drift in found)
    items = len({drift.item_id for drift in found})
    told = f"; {fixed} repaired, {len(found) - fixed} left" if repair else "; run with --repair to fix them"
    return f"{_count(len(found), 'drifted row')} in {_count(items, 'item')} ({scope} checked){told}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def exit_code(found: list[Drift], repair: bool) -> int:
    """0 when nothing is left drifted, 1 when some drift remains."""
    return int(any(not repaired(drift, repair) for drift in found))
