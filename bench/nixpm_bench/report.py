"""The markdown report: results per N with ratios, the targets, the chain, the scale curve, the machine
and how each manager was driven. Everything comes from the results dictionary (also saved as JSON)."""

from . import targets
from .stats import METRICS, Summary, cell, number, ratio, ratio_text


def _summaries(rounds, key):
    return Summary([r.get(key) for r in rounds if "error" not in r])


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _label(key):
    label, unit, _ = METRICS[key]
    return f"{label} ({unit})" if unit else label


def _metric_keys(by_manager):
    keys = []
    for key in METRICS:
        if any(_summaries(rounds, key) for rounds in by_manager.values()):
            keys.append(key)
    return keys


def results_section(n, by_manager, managers):
    present = [m for m in managers if m in by_manager]
    keys = _metric_keys(by_manager)
    out = [f"### N = {n}", ""]
    rows = []
    for key in keys:
        decimals = METRICS[key][2]
        rows.append([_label(key)] + [cell(_summaries(by_manager[m], key), decimals) for m in present])
    out.append(_table(["metric"] + present, rows))
    errors = [(m, r["error"]) for m in present for r in by_manager[m] if "error" in r]
    for manager, error in errors:
        first_line = error.strip().splitlines()[0] if error.strip() else "?"
        out.append(f"\n- {manager}: a round failed: {first_line}")
    out.append("")

    others = [m for m in present if m != "floor"]
    if "floor" in present and others:
        out += [f"Each manager ÷ the floor, N = {n} (medians; 1.00× is the floor):", ""]
        rows = []
        for key in keys:
            floor = _summaries(by_manager["floor"], key).median
            rows.append([_label(key)] + [ratio_text(ratio(_summaries(by_manager[m], key).median, floor))
                                         for m in others])
        out += [_table(["metric"] + [f"{m} ÷ floor" for m in others], rows), ""]
    peers = [m for m in present if m not in ("nixpm",)]
    if "nixpm" in present and peers:
        out += [f"nixpm ÷ each, N = {n} (below 1.00× nixpm is cheaper):", ""]
        rows = []
        for key in keys:
            mine = _summaries(by_manager["nixpm"], key).median
            rows.append([_label(key)] + [ratio_text(ratio(mine, _summaries(by_manager[m], key).median))
                                         for m in peers])
        out += [_table(["metric"] + [f"nixpm ÷ {m}" for m in peers], rows), ""]
    return "\n".join(out)


def targets_section(results):
    rows = [[r["target"], r["measured"], r["verdict"], r["gap"] or ""] for r in targets.evaluate(results)]
    return "\n".join(["### Targets (issue #7, section 4)", "",
                      _table(["target", "measured (median)", "verdict", "gap"], rows), ""])


def chain_section(results):
    chain = results.get("chain")
    if not chain:
        return ""
    flat, linked = Summary(chain["flat"]), Summary(chain["chain"])
    value = ratio(linked.median, flat.median)
    return "\n".join([
        f"### Dependency chain of {chain['n']} (nixpm)", "",
        _table(["start of " + str(chain["n"]), "until all running (ms)"],
               [["flat (no dependencies)", cell(flat, 1)], ["chain (each depends on the previous)", cell(linked, 1)],
                ["chain ÷ flat", ratio_text(value)]]),
        "", "The peers have no dependencies between services (supervisord only orders by priority, runit and s6 "
        "without s6-rc not at all, pm2 not at all), so the chain runs for nixpm only.", ""])


def scale_section(results):
    ns = targets.scale_ns(results)
    if not ns:
        return ""
    rows = []
    for n in ns:
        row = [f"{n:,}"]
        check = results.get("check", {}).get(str(n))
        row.append(number(Summary(check).median, 0) if check else "—")
        for manager in ("nixpm", "floor"):
            for key in ("start_all_ms", "status_ms", "stop_ms"):
                rounds = results.get("scale", {}).get(str(n), {}).get(manager) or \
                    results.get("main", {}).get(str(n), {}).get(manager) or []
                value = _summaries(rounds, key).median
                if value is None:
                    row.append("—")
                else:
                    row.append(f"{value:.0f} ({value * 1000 / n:.0f} µs/inst.)")
        rows.append(row)
    header = ["N", "nixpmctl check (ms)", "nixpm start", "nixpm status", "nixpm stop",
              "floor start", "floor status", "floor stop"]
    notes = results.get("scale_notes", [])
    return "\n".join(["### Scale: cost against N (medians, ms)", "", _table(header, rows), ""] +
                     [f"- {note}" for note in notes] + [""])


def machine_section(results):
    machine = results["machine"]
    rows = [[k, v] for k, v in machine.items()]
    rows += [[f"{m} version", v] for m, v in results.get("versions", {}).items()]
    return "\n".join(["### Machine and versions", "", _table(["", ""], rows), ""])


def commands_section(results):
    rows = []
    for manager, commands in results.get("commands", {}).items():
        rows.append([manager] + [commands.get(k, "—") for k in ("start", "status", "stop", "restart")])
    out = ["### How each manager was driven", "",
           _table(["manager", "start", "status", "stop", "restart after SIGKILL"], rows), ""]
    for manager, reason in results.get("skipped", {}).items():
        out.append(f"- skipped {manager}: {reason}")
    return "\n".join(out + [""])


def render(results):
    options = results["options"]
    managers = results["managers"]
    out = [
        f"Run of {results['started']} ({results['duration_s']:.0f} s): `{results['command']}`",
        "",
        f"{options['rounds']} rounds, managers interleaved (the order rotates every round); each cell is the "
        "median over rounds with the range in parentheses. Idle figures are per 10 s "
        f"(window: {options['idle_seconds']:g} s). Lower is better everywhere.",
        "",
        targets_section(results),
        "## Results", "",
    ]
    for n in sorted(results.get("main", {}), key=int):
        out.append(results_section(n, results["main"][n], managers))
    out.append(chain_section(results))
    out.append(scale_section(results))
    out.append(machine_section(results))
    out.append(commands_section(results))
    return "\n".join(part for part in out if part is not None)
