"""Issue #7's targets, checked against one run. Each check returns a row: what, measured, verdict, gap."""

from .stats import Summary, ratio

MET, MISSED, NOT_RUN = "met", "**missed**", "not measured"


def _values(results, phase, n, manager, key):
    rounds = results.get(phase, {}).get(str(n), {}).get(manager, [])
    return Summary([r.get(key) for r in rounds if "error" not in r])


def _row(what, measured, verdict, gap=""):
    return {"target": what, "measured": measured, "verdict": verdict, "gap": gap}


def _ratio_target(results, n, key, limit, what):
    nixpm = _values(results, "main", n, "nixpm", key).median
    floor = _values(results, "main", n, "floor", key).median
    value = ratio(nixpm, floor)
    if value is None:
        return _row(what, "—", NOT_RUN)
    measured = f"{value:.2f}× ({nixpm:.1f} ms vs {floor:.1f} ms)"
    if value <= limit:
        return _row(what, measured, MET)
    return _row(what, measured, MISSED, f"{value - limit:+.2f}× over; {nixpm - floor * limit:+.1f} ms")


def _absolute_target(results, n, key, limit, unit, what, decimals=1):
    value = _values(results, "main", n, "nixpm", key).median
    if value is None:
        return _row(what, "—", NOT_RUN)
    measured = f"{value:.{decimals}f} {unit}".strip()
    if value <= limit:
        return _row(what, measured, MET)
    times = f" ({value / limit:.2f}× the limit)" if limit else ""
    return _row(what, measured, MISSED, f"{value - limit:+.{decimals}f} {unit}".strip() + times)


def evaluate(results):
    rows = []
    ns = sorted(int(n) for n in results.get("main", {}))
    target_ns = [n for n in (100, 1000) if n in ns] or ns
    for n in target_ns:
        rows.append(_ratio_target(results, n, "start_all_ms", 1.05, f"cold start ≤ 1.05× the floor, N={n}"))
    for n in target_ns:
        rows.append(_ratio_target(results, n, "restart_ms", 1.3,
                                  f"crash → restart ≤ 1.3× one spawn (the floor's restart), N={n}"))
    limits = {100: 3.5, 1000: 8.0}
    for n in target_ns:
        limit = limits.get(n, 3.5 if n < 1000 else 8.0)
        rows.append(_absolute_target(results, n, "rss_mib", limit, "MiB", f"daemon RSS ≤ {limit} MiB, N={n}", 2))
    for n in target_ns:
        rows.append(_absolute_target(results, n, "idle_wakeups", 0, "", f"zero wakeups when idle, N={n}", 0))
    status_limits = {100: 10.0, 1000: 30.0}
    for n in target_ns:
        limit = status_limits.get(n, 10.0 if n < 1000 else 30.0)
        rows.append(_absolute_target(results, n, "status_ms", limit, "ms", f"status of all N ≤ {limit:.0f} ms, N={n}"))
    for n in target_ns:
        rows.append(_ratio_target(results, n, "stop_ms", 1.25, f"orderly stop ≤ 1.25× the floor's kill-and-reap, N={n}"))
    rows.append(_chain_target(results))
    rows.append(_check_target(results))
    rows.extend(_linearity(results))
    return rows


def _chain_target(results):
    chain = results.get("chain")
    what = f"chain of {chain['n'] if chain else 100} ≤ 1.1× the flat start"
    if not chain:
        return _row(what, "—", NOT_RUN)
    flat, linked = Summary(chain["flat"]).median, Summary(chain["chain"]).median
    value = ratio(linked, flat)
    if value is None:
        return _row(what, "—", NOT_RUN)
    measured = f"{value:.2f}× ({linked:.1f} ms vs {flat:.1f} ms)"
    if value <= 1.1:
        return _row(what, measured, MET)
    return _row(what, measured, MISSED, f"{value - 1.1:+.2f}× over")


def _check_target(results):
    checks = results.get("check", {})
    n = max((int(k) for k in checks), default=None)
    what = "`nixpmctl check` of 10,000 instances < 1 s"
    if n is None or n < 10000:
        return _row(what, "—", NOT_RUN)
    value = Summary(checks[str(n)]).median
    measured = f"{value:.0f} ms"
    return _row(what, measured, MET) if value < 1000 else _row(what, measured, MISSED, f"{value - 1000:+.0f} ms")


def per_instance(results, n, key):
    """Median cost of `key` per instance at N=n (main or scale phase), in ms."""
    for phase in ("scale", "main"):
        value = _values(results, phase, n, "nixpm", key).median
        if value is not None:
            return value / n
    return None


def scale_ns(results):
    return sorted({int(n) for phase in ("main", "scale") for n in results.get(phase, {})})


def _linearity(results):
    """Nothing quadratic: the per-instance cost at the largest N stays within 1.5× of that at 1000 (or
    the smallest N run), for start, status and stop."""
    ns = scale_ns(results)
    rows = []
    if len(ns) < 2:
        return [_row("start/stop/status grow linearly", "—", NOT_RUN)]
    base = 1000 if 1000 in ns and ns[-1] > 1000 else ns[0]
    top = ns[-1]
    for key, label in (("start_all_ms", "start"), ("status_ms", "status"), ("stop_ms", "stop")):
        low, high = per_instance(results, base, key), per_instance(results, top, key)
        what = f"{label} grows linearly (per-instance cost at N={top} ≤ 1.5× that at N={base})"
        value = ratio(high, low)
        if value is None:
            rows.append(_row(what, "—", NOT_RUN))
            continue
        measured = f"{value:.2f}× ({high * 1000:.0f} µs vs {low * 1000:.0f} µs per instance)"
        rows.append(_row(what, measured, MET) if value <= 1.5 else _row(what, measured, MISSED, f"{value - 1.5:+.2f}× over"))
    return rows
