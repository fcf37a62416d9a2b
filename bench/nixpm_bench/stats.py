"""Summaries of per-round values: the median and the range, and how they print."""

import statistics

# key -> (label, unit, decimals). Every metric is "lower is better".
METRICS = {
    "start_first_ms": ("cold start: first service running", "ms", 1),
    "start_all_ms": ("cold start: all N running", "ms", 1),
    "restart_ms": ("crash → restart (SIGKILL, median of 20 services)", "ms", 2),
    "rss_mib": ("supervisor RSS with N running", "MiB", 2),
    "anon_mib": ("… of which anonymous (heap, stacks; not file-backed)", "MiB", 2),
    "pss_mib": ("supervisor PSS (shared pages divided among their users)", "MiB", 2),
    "helpers_pss_mib": ("helper processes' PSS (runsv, s6-supervise)", "MiB", 2),
    "total_mib": ("supervisor RSS + helpers' PSS", "MiB", 2),
    "idle_cpu_ms": ("supervisor CPU time per 10 idle s", "ms", 2),
    "idle_wakeups": ("supervisor wakeups per 10 idle s", "", 0),
    "idle_helper_wakeups": ("helpers' wakeups per 10 idle s", "", 0),
    "status_ms": ("status of all N through the CLI", "ms", 1),
    "stop_ms": ("orderly stop of all N", "ms", 1),
}


class Summary:
    def __init__(self, values):
        self.values = [v for v in values if v is not None]

    def __bool__(self):
        return bool(self.values)

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    @property
    def low(self):
        return min(self.values) if self.values else None

    @property
    def high(self):
        return max(self.values) if self.values else None


def number(value, decimals):
    if value is None:
        return "—"
    if decimals == 0:
        return f"{value:.0f}"
    return f"{value:.{decimals}f}"


def cell(summary, decimals):
    """"12.3 (11.0–14.2)": the median, then the range over rounds when there is more than one round."""
    if not summary:
        return "—"
    text = number(summary.median, decimals)
    if len(summary.values) > 1 and summary.low != summary.high:
        text += f" ({number(summary.low, decimals)}–{number(summary.high, decimals)})"
    return text


def ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return None
    if denominator == 0:
        return None if numerator else 1.0
    return numerator / denominator


def ratio_text(value):
    if value is None:
        return "—"
    return f"{value:.2f}×"
