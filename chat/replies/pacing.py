"""How far apart the hub's frames go: GLMWEB_REPLY_FRAME_MS, stretched while the
event loop lags or the process carries many streams, up to GLMWEB_REPLY_FRAME_MAX_MS.

A frame, not a token, is the unit of the relay's cost (one encode, then the ASGI
server's send, its queue and a websocket write per socket). When a process carries
more streams than its core keeps up with, every callback runs late, the accepts of
new messages among them, and a new reply's first token waits behind the frames. Fewer,
larger frames then free the loop; the ceiling keeps reading smooth (a reader takes in
a few words per 100 ms). The first text of a reply never waits for a tick
(Hub.text_arrived), so this costs no first token.

Lag is a late signal: by the time the tick wakes late, new messages have already
waited. So the process also keeps to a budget of frames per second across all its
streams (each stream gets a frame per interval): a few dozen streams keep the base
tick, a hundred or more share the budget, before the loop falls behind.
"""

from __future__ import annotations

# Lateness of a timer wake-up that is just the loop's own jitter, not load.
JITTER_S = 0.005
# Each second of (smoothed) lateness beyond the jitter adds this many to the interval:
# a loop 10 ms late stretches a 35 ms tick to about 55 ms.
STRETCH_PER_LAG = 4.0
# Weight of the newest wake-up in the smoothed lateness (a few ticks' memory: one
# slow callback does not stretch the frames, a saturated loop does at once).
SMOOTHING = 0.3
# Reply frames per second the process sends at most (before the ceiling): 200 streams
# get a frame every 100 ms, 100 every 50 ms, up to 70 the base 35 ms.
FRAMES_PER_S = 2000.0


class FramePace:
    """The tick's interval, following how late the loop wakes the tick."""

    def __init__(self, base_s: float, ceiling_s: float) -> None:
        self.base_s = base_s
        self.ceiling_s = max(base_s, ceiling_s)
        self.lag_s = 0.0

    def woke(self, late_s: float) -> None:
        """Note that the tick woke `late_s` seconds after it was due."""
        self.lag_s += SMOOTHING * (max(0.0, late_s) - self.lag_s)

    def interval(self, streams: int = 0) -> float:
        """Return the seconds until the next tick, for `streams` replies streaming."""
        stretch = STRETCH_PER_LAG * max(0.0, self.lag_s - JITTER_S)
        return min(self.ceiling_s, max(self.base_s + stretch, streams / FRAMES_PER_S))
