"""``Progbar``: Keras's progress bar, usable on its own or through ``ProgbarLogger``.

What it prints (``verbose=1``; the bar redraws in place on a terminal)::

    469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9051 - loss: 0.3121

and with ``verbose=2`` one line when the bar is finalized::

    469/469 - 2s - 4ms/step - accuracy: 0.9051 - loss: 0.3121

On a terminal (or a notebook) ``verbose=1`` redraws the line in place with
colours and an ETA while it runs. When the output is not a terminal (a log
file, a pipe) it writes nothing while it runs and one plain line, without
escape codes, when the bar is finalized: no line per step in the log.
"""

from __future__ import annotations

import math
import os
import sys
import time

_BOLD = "\x1b[1m"
_GREEN = "\x1b[32m"
_GREY = "\x1b[37m"
_RESET = "\x1b[0m"
_BAR_CHAR = "━"


def _is_dynamic_output() -> bool:
    """Whether the bar can redraw in place: a terminal, a notebook, or PyCharm's console."""
    stdout = sys.stdout
    return (
        (hasattr(stdout, "isatty") and stdout.isatty()) or "ipykernel" in sys.modules or "PYCHARM_HOSTED" in os.environ
    )


def _write(message: str):
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:  # a stream that cannot encode the bar characters
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace(_BAR_CHAR, "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(message)
    sys.stdout.flush()


def _format_value(avg) -> str:
    if isinstance(avg, (int, float)):
        return f"{avg:.4f}" if abs(avg) > 1e-3 else f"{avg:.4e}"
    return str(avg)


def _format_duration(seconds: float) -> str:
    """An ETA as ``'7s'``, ``'2:05'`` or ``'1:02:05'``."""
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_time_per_unit(time_per_unit: float, unit_name: str) -> str:
    """``'2s/step'``, ``'4ms/step'`` or ``'850us/step'``."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f"{time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f"{time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f"{time_per_unit * 1e6:.0f}us/{unit_name}"


class Progbar:
    """A progress bar with ETA, time per step and running metric values.

    Metrics are averaged over the steps seen (weighted by how many steps each
    update covers) unless they are *stateful*, in which case the last value is
    shown as it is. By default every metric is averaged; give either
    ``stateful_metrics`` (the exceptions that are shown as given) or
    ``stateless_metrics`` (the only ones that are averaged), not both.

    Args:
        target: total number of steps, or None when unknown (the bar then shows
            ``'    12/Unknown'``).
        width: width of the bar in characters.
        verbose: 0 silent, 1 the live bar, 2 one line when finalized.
        interval: minimum seconds between two redraws at ``verbose=1``.
        stateful_metrics: names of metrics shown as given (not averaged).
        stateless_metrics: names of the only metrics that are averaged.
        unit_name: name of a step in the time per step (``'step'``, ``'sample'``).

    Example:
        >>> bar = Progbar(target=100)
        >>> for step in range(100):
        ...     bar.update(step + 1, [("loss", loss)])
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: give either stateful_metrics (metrics shown as given) or stateless_metrics "
                f"(metrics averaged over steps), not both; got stateful_metrics={stateful_metrics!r} "
                f"and stateless_metrics={stateless_metrics!r}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._dynamic_display = _is_dynamic_output()
        self._values = {}  # name -> [weighted sum, weight]
        self._values_order = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _is_averaged(self, name) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, finalize):
        for name, value in values or ():
            if name not in self._values_order:
                self._values_order.append(name)
            if self._is_averaged(name) and not finalize:
                steps = max(current - self._seen_so_far, 1)
                if name in self._values:
                    self._values[name][0] += value * steps
                    self._values[name][1] += steps
                else:
                    self._values[name] = [value * steps, steps]
            else:
                # shown as given: the epoch's final logs are already averages
                self._values[name] = [value, 1]
        self._seen_so_far = current

    def _metrics_text(self) -> str:
        parts = []
        for name in self._values_order:
            total, count = self._values[name]
            avg = total / max(1, count) if isinstance(total, (int, float)) else total
            parts.append(f" - {name}: {_format_value(avg)}")
        return "".join(parts)

    def _step_duration(self, current, now) -> float:
        """Seconds per step, leaving out the first (slow, warming-up) step when there are more."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step

    def update(self, current, values=None, finalize=None):
        """Move the bar to step ``current`` and record metric values.

        Args:
            current: int, the number of steps done.
            values: list of ``(name, value)`` pairs for the latest step(s).
            finalize: whether this is the bar's last update; by default when
                ``current >= target`` (never when the target is unknown).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        now = time.time()
        per_step = self._step_duration(current, now)

        if self.verbose == 1:
            if not finalize and (not self._dynamic_display or now - self._last_update < self.interval):
                return
            self._draw_line(current, now, per_step, finalize)
        elif self.verbose == 2 and finalize:
            line = self._count_text(current) if self.target else f"{int(current)}"
            line += f" - {now - self._start:.0f}s - {_format_time_per_unit(per_step, self.unit_name)}"
            _write(line + self._metrics_text() + "\n")
        self._last_update = now

    def _count_text(self, current) -> str:
        digits = int(math.log10(self.target)) + 1
        return f"{int(current):{digits}d}/{int(self.target)}"

    def _draw_line(self, current, now, per_step, finalize):
        styled = self._dynamic_display
        bold, green, grey, reset = (_BOLD, _GREEN, _GREY, _RESET) if styled else ("", "", "", "")
        if self.target is not None and self.target > 0:
            filled = int(self.width * float(current) / self.target)
            filled = min(max(filled, 0), self.width)
            bar = f"{bold}{self._count_text(current)}{reset} "
            if filled:
                bar += f"{green}{_BAR_CHAR * filled}{reset}"
            bar += f"{grey}{_BAR_CHAR * (self.width - filled)}{reset}"
        else:
            bar = f"{int(current):7d}/Unknown"
        if self.target and not finalize:
            clock = _format_duration(per_step * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {bold}{clock}{reset} {_format_time_per_unit(per_step, self.unit_name)}" + self._metrics_text()
        line = bar + info
        visible = len(_strip_escapes(line))
        if styled:
            pad = " " * max(self._prev_total_width - visible, 0)
            message = "\r" + line + pad
        else:
            message = line
        if finalize or not styled:
            message += "\n"
        _write(message)
        self._prev_total_width = visible

    def add(self, n, values=None):
        """Advance the bar by ``n`` steps (see :meth:`update`)."""
        self.update(self._seen_so_far + n, values)


def _strip_escapes(text: str) -> str:
    for code in (_BOLD, _GREEN, _GREY, _RESET):
        text = text.replace(code, "")
    return text
