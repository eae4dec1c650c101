# SPDX-License-Identifier: MIT
"""docs/vbctl.1 matches vbctl: every command of the table (as `vbctl help`
lists it) has an entry in COMMANDS and no entry is stale, every option of
`vbctl --help` and `vbctl help COMMAND` is documented, and the page renders
without groff warnings."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from vbtest import Tap, run, skip_all  # noqa: E402

t = Tap()
manpage = os.path.join(os.environ["top_srcdir"], "docs", "vbctl.1")
if not shutil.which("groff"):
    skip_all("groff not found (apt-get install groff-base)")
with open(manpage) as f:
    troff = f.read()
# The page as a reader sees it: long lines, no hyphenation, no bold.
rendered = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", "-rLL=300n",
                           "-rHY=0", manpage], capture_output=True, text=True,
                          check=True).stdout


def section(text, name, troff_source=False):
    """The text of section NAME (troff source or rendered)."""
    rx = r"^\.SH %s\n(.*?)(?=^\.SH )" if troff_source else r"^%s\n(.*?)(?=^\S)"
    m = re.search(rx % name, text, re.M | re.S)
    return m.group(1) if m else ""


helptext = run(["help"]).out
commands = re.findall(r"^  (\S+) {2,}", helptext.split("Commands:\n", 1)[1], re.M)
t.ok(len(commands) >= 9, "vbctl help lists the commands (%s)" % " ".join(commands))

# Entries in COMMANDS: ".TP" then ".B name ..." (top level, not options).
entries = re.findall(r"^\.TP\n\.B ([a-z][a-z\\-]*)",
                     section(troff, "COMMANDS", True), re.M)
entries = [e.replace("\\-", "-") for e in entries]
for c in commands:
    t.ok(c in entries, "man page documents command %s" % c)
for e in entries:
    t.ok(e in commands, "man page command %s exists in vbctl" % e)

# Options: global ones from --help, each command's from help COMMAND.
global_opts = re.findall(r"^  (-\w), (--[a-z-]+)", run(["--help"]).out, re.M)
t.ok(len(global_opts) >= 6, "--help lists the global options")
for short, long in global_opts:
    t.ok(re.search(r"^ +%s, %s\b" % (short, long), section(rendered, "OPTIONS"), re.M),
         "man page OPTIONS documents %s, %s" % (short, long))
commands_text = section(rendered, "COMMANDS")
for c in commands:
    out = run(["help", c]).out
    usage = out.splitlines()[0][len("Usage: vbctl "):]
    # A short tag shares its line with the text: "query  Show the ...".
    t.ok(re.search(r"^ +%s( {2,}|$)" % re.escape(usage), commands_text, re.M),
         "man page shows the usage of %s: %s" % (c, usage))
    for short, long in re.findall(r"^  (-\w), (--[a-z-]+)", out, re.M):
        t.ok(re.search(r"^ +%s, %s\b" % (short, long), commands_text, re.M),
             "man page documents %s %s, %s" % (c, short, long))

p = subprocess.run(["groff", "-man", "-ww", "-z", manpage], capture_output=True,
                   text=True)
t.ok(p.returncode == 0 and p.stderr == "", "groff renders it without warnings")
if p.stderr:
    t.diag(p.stderr)

sys.exit(t.done())
