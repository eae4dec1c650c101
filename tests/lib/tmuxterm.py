# SPDX-License-Identifier: MIT
"""tmuxterm.py - drive an interactive program through a real terminal, as
a person would: tmux runs it in a pseudo-terminal of a fixed size; keys
are sent with send-keys and the screen is read back with capture-pane.

API
  Term(argv, env=None, width=160, height=50)   start ARGV in a private tmux
                                  server (own socket in a temp dir).
      .type(text)                 type TEXT literally (no key names).
      .keys(*names)               press keys: "Tab", "Enter", "C-c", "C-d",
                                  "C-u", "Up", "Left", ...
      .screen() -> str            the screen and the scrollback above it,
                                  trailing blanks cut.
      .lines() -> [str]           its non-empty lines.
      .last_line() -> str         the last non-empty line (the prompt line).
      .cursor() -> (x, y)         cursor column and row.
      .wait(pred, timeout, what)  poll the screen until PRED(screen) holds;
                                  raises TimeoutError naming WHAT (with the
                                  screen) otherwise.
      .wait_text(text, timeout)   wait until TEXT is on screen.
      .alive() -> bool            the program is still running.
      .exit_status(timeout)       wait for the program to end: its exit
                                  status (128 + N for signal N).
      .close()                    kill the tmux server (and the program).
Every Term is closed at exit, even when the test fails.
"""

import os
import shutil
import subprocess
import tempfile
import time

# qemutest.py closes every track()ed object at exit, also after SIGTERM.
from qemutest import skip_all, track, untrack

WAIT_TIMEOUT = 30       # seconds: generous for a loaded 2-core CI machine


def require_tmux():
    path = shutil.which("tmux")
    if not path:
        skip_all("tmux not found (apt-get install tmux)")
    return path


class Term:
    def __init__(self, argv, env=None, width=160, height=50):
        self.tmux = require_tmux()
        self.dir = tempfile.mkdtemp(prefix="tmuxterm-")
        self.sock = os.path.join(self.dir, "tmux")
        conf = os.path.join(self.dir, "tmux.conf")
        # remain-on-exit keeps the pane and its last screen after the
        # program ends; no user or system config.
        with open(conf, "w") as f:
            f.write("set -g remain-on-exit on\nset -g history-limit 10000\n")
        self._closed = False
        track(self)
        envargs = []
        for k, v in (env or {}).items():
            envargs += ["-e", "%s=%s" % (k, v)]
        # The exit status goes to a file: tmux 3.3 does not always reap a
        # pane's program at once, so #{pane_dead_status} may lag. The
        # wrapper survives Ctrl-C (a trap, which exec resets in the
        # program, unlike an ignored signal) to write it.
        self.status_file = os.path.join(self.dir, "status")
        script = 'trap : INT; "$@"; echo $? > "$0"'
        self._tmux("-f", conf, "new-session", "-d", "-x", str(width),
                   "-y", str(height), *envargs, "--",
                   "sh", "-c", script, self.status_file, *argv)

    def _tmux(self, *args):
        return subprocess.run([self.tmux, "-S", self.sock] + list(args),
                              check=True, capture_output=True,
                              text=True).stdout

    def type(self, text):
        self._tmux("send-keys", "-l", text)

    def keys(self, *names):
        for name in names:
            self._tmux("send-keys", name)

    def screen(self):
        out = self._tmux("capture-pane", "-p", "-S", "-")
        return "\n".join(line.rstrip() for line in out.splitlines()).rstrip("\n")

    def lines(self):
        return [line for line in self.screen().splitlines() if line]

    def last_line(self):
        lines = self.lines()
        return lines[-1] if lines else ""

    def cursor(self):
        x, y = self._tmux("display-message", "-p",
                          "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait(self, pred, timeout=WAIT_TIMEOUT, what="the screen to change"):
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if pred(screen):
                return screen
            if time.monotonic() > deadline:
                raise TimeoutError("waited %g s for %s; screen:\n%s"
                                   % (timeout, what, screen))
            time.sleep(0.02)    # poll the screen: tmux has no "changed" hook

    def wait_last_line(self, text, timeout=WAIT_TIMEOUT):
        """Wait until the last line is TEXT (trailing blanks aside: the
        screen has none), e.g. a prompt and what is typed after it."""
        want = text.rstrip()
        return self.wait(lambda s: self.last_line() == want, timeout,
                         "last line %r" % want)

    def wait_text(self, text, timeout=WAIT_TIMEOUT):
        return self.wait(lambda s: text in s, timeout, repr(text))

    def alive(self):
        return not os.path.exists(self.status_file)

    def exit_status(self, timeout=WAIT_TIMEOUT):
        """Wait for the program to end; its exit status (128 + N when
        signal N killed it, as the shell reports it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.status_file) as f:
                    text = f.read()
                if text.endswith("\n"):
                    return int(text)
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the program did not exit within %g s; screen:\n%s"
                                   % (timeout, self.screen()))
            time.sleep(0.02)    # a file: poll it

    def close(self):
        if self._closed:
            return
        self._closed = True
        untrack(self)
        subprocess.run([self.tmux, "-S", self.sock, "kill-server"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def scenario(tap, desc, fn):
    """Run FN, one scenario of a terminal test: a wait in it that times
    out is a failure of DESC with the screen shown (then the next one)."""
    try:
        return fn()
    except TimeoutError as e:
        tap.ok(False, desc)
        tap.diag(str(e))
        return None
