"""Reading the host-side capture of cli1's tap (lab/nfscap's JSON lines), incrementally."""
import json


class Capture:
    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.events = []

    def refresh(self):
        """Read what nfscap appended since the last call; returns every event so far."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.events
        end = data.rfind(b"\n")
        if end < 0:
            return self.events
        for line in data[:end].split(b"\n"):
            try:
                self.events.append(json.loads(line))
            except ValueError:
                pass
        self.offset += end + 1
        return self.events

    def between(self, t0, t1):
        return [e for e in self.refresh() if t0 <= e["t"] <= t1]

    def exchanges(self):
        """EXCHANGE_ID calls and replies (kinds "call" and "reply")."""
        return [e for e in self.refresh() if e.get("kind") in ("call", "reply")]


def load_file(path):
    return Capture(path).refresh()
