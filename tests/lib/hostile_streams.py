# SPDX-License-Identifier: MIT
"""hostile_streams.py - the catalogue of misbehaving QMP servers that
test-vbctl-hostile.py runs every vbctl command against.

Each entry is (Stream, expect): expect maps a command key (see COMMANDS in
the test) or "*" (any other) to what vbctl must do:
  OK              exit 0
  FAIL(regex)     exit 1 (QEMU said no), stderr matching regex
  FAULT(regex)    exit 3 (protocol or connection fault), stderr matching
                  regex: the message names what was wrong.
A message over the size limit may also be cut short by the -t deadline (a
slow, sanitized build): either answer is right. Streams that break one
reply only name the commands that send that request
(USES); every other command must work as against a good QEMU.
"""

import json

from fakeqmp import (GREETING, VIRTIO_PATH, Stream, balloon_event, close, drip,
                     error, flood, raw, ret, silence)


class Expect:
    def __init__(self, rc, regex=None, out=None):
        self.rc, self.regex, self.out = rc, regex, out

    def __repr__(self):
        return "exit %s%s" % ("/".join(map(str, self.rc)) if isinstance(self.rc, tuple) else self.rc, " /%s/" % self.regex if self.regex else "")


OK = Expect(0)


def OUT(regex):
    """exit 0 and stdout matching REGEX."""
    return Expect(0, None, regex)


def FAIL(regex):
    return Expect(1, regex)


def FAULT(regex):
    return Expect(3, regex)


# Which commands (keys of the test's COMMANDS and SLOW) send which request.
TOP = {"top", "top-json"}
PROM = {"fleet-prom"}
FLEET_CMDS = TOP | PROM | {"list", "fleet-query", "fleet-stats", "fleet-set", "fleet-set-wait"}
FIND = {"stats", "qom-list", "qom-get", "qom-set", "qmp-qom", "shell", "doctor",
        "fleet-stats", "check"} | TOP | PROM
USES = {
    "query-balloon": {"query", "set-wait", "shell", "doctor", "list", "fleet-query",
                      "check", "fleet-set-wait"} | TOP | PROM,
    "query-memory-size-summary": {"set", "set-pct", "set-wait", "doctor", "list",
                                  "fleet-set", "check", "fleet-set-wait"} | TOP | PROM,
    "balloon": {"set", "set-pct", "set-wait", "fleet-set", "check", "fleet-set-wait"},
    "qom-list:/machine/peripheral-anon": FIND,
    "qom-list:balloon": {"qom-list", "qom-set"},
    "qom-get:guest-stats-polling-interval": {"stats", "qom-get", "doctor", "fleet-stats",
                                             "check"} | TOP | PROM,
    "qom-get:guest-stats": {"stats", "doctor", "fleet-stats", "check"} | TOP | PROM,
    "qom-get:type": {"qmp-qom", "shell", "check"},
    "qom-set": {"qom-set", "check"},
    "query-status": {"qmp", "doctor", "list", "check"},
}
ALL = "*"


def affects(key, expect, **others):
    """EXPECT for the commands that send request KEY, OK for the rest."""
    e = {c: expect for c in USES[key]}
    e.update(others)
    e[ALL] = OK
    return e


def line(obj):
    return json.dumps(obj).encode() + b"\r\n"


GOOD_GREETING = line(GREETING)
# A fleet command names the request that went unanswered, and says
# "no QMP greeting" while connecting.
TIMEOUT = r"did not answer (\S+ )?within"
NO_GREETING = r"no answer within 1 s|no QMP greeting from \S+ within 1 s|never greeted"
CLOSED = r"connection closed by QEMU"


def greeting_stream(name, greeting, expect, **kw):
    return (Stream(name, greeting=greeting, **kw), {ALL: expect})


def first_reply(name, answer, expect, **others):
    """Every command but qmp_capabilities answered by ANSWER; events, which
    sends nothing after the negotiation, gets its event as usual."""
    e = {ALL: expect, "events": OK}
    e.update(others)
    return (Stream(name, replies={"*": answer}), e)


def field(name, key, value, expect, **others):
    return (Stream(name, replies={key: ret(value) if not callable(value) else value}),
            affects(key, expect, **others))


def event_flood(i):
    return line({"event": "FLOOD", "data": {"i": i},
                 "timestamp": {"seconds": 1, "microseconds": 0}})


# Replies to ids never sent, and blanks between messages, made once and
# sent over and over: faster than vbctl reads, so every read finds the
# socket full.
WRONG_IDS = b"".join(line({"return": {}, "id": 1000000 + j}) for j in range(2000))
SPACES = b" " * 65536


def wrong_id_flood(i):
    return WRONG_IDS


def spaces(i):
    return SPACES


TIMEOUT_OR_NOTHING = r"^$|" + TIMEOUT
NOT_THE_SHAPE = r'"actual"|"base-memory"|"name" and "type"|did not return a list'
# Those whose first request is the search (doctor, check and top ask
# other things first).
NO_BALLOON = {c: FAIL(r"no balloon device") for c in FIND - {"shell", "doctor", "check"} - TOP
              - PROM}
# Commands that read guest-stats but show only the statistics they know.
NOT_SHOWN = {c: OK for c in USES["qom-get:guest-stats"] - {"stats"}}
HUGE = 5 << 20      # over QMP_MAX_MESSAGE_BYTES (4 MiB)
_BIG = {}


def big(head, unit, count, tail):
    """HEAD + UNIT * COUNT + TAIL, made once per server: the streams that
    send megabytes answer at once, without starving the other
    connections of the same server."""
    key = (head, unit, count, tail)
    if key not in _BIG:
        _BIG[key] = head + unit * count + tail
    return _BIG[key]


def stats_with(**members):
    def answer(c, req):
        from fakeqmp import stats_now
        s = stats_now(c.actual)
        for k, v in members.items():
            k = k.replace("_", "-")
            if k in s:
                s[k] = v
            else:
                s["stats"][k] = v
        ret(s)(c, req)
    return answer


def balloon_with_event_nulls(c, req):
    """balloon: moves the model's balloon, then BALLOON_CHANGE events whose
    "actual" is null, negative, a string."""
    from fakeqmp import set_target, vm_event
    set_target(req.get("arguments") or {}, c)
    c.pending = [vm_event("BALLOON_CHANGE", {"actual": a}) for a in (None, -1, "1")]
    c.pending.append(vm_event("BALLOON_CHANGE", None))
    ret({})(c, req)


# A query-qmp-schema reply with JSON null (or the wrong type) in every
# member the shell reads, a type that is its own element, and lists that
# are not lists.
HOSTILE_SCHEMA = [
    None, 5, "entry", {"name": None, "meta-type": "command"},
    {"name": "balloon", "meta-type": "command", "arg-type": None, "ret-type": None},
    {"name": "set-action", "meta-type": "command", "arg-type": "A", "ret-type": "R"},
    {"name": "A", "meta-type": "object", "tag": None, "variants": None,
     "members": [{"name": None, "type": None, "default": None}, None, 5,
                 {"name": "panic", "type": "E"}, {"name": "nested", "type": "B"}]},
    {"name": "B", "meta-type": "object", "members": {"a": 1}, "variants": "x", "tag": "kind"},
    {"name": "E", "meta-type": "enum", "values": [None, "x", 5, {"a": None}]},
    {"name": "R", "meta-type": "array", "element-type": "R"},
    {"name": "qom-list", "meta-type": "command", "arg-type": "Q", "ret-type": "ALT"},
    {"name": "Q", "meta-type": "object", "tag": "path",
     "members": [{"name": "path", "type": "str"}],
     "variants": [None, 3, {"case": None, "type": None}, {"case": "x", "type": "A"}]},
    {"name": "ALT", "meta-type": "alternate", "members": [None, {"type": None}, {"type": "ALT"}]},
    {"name": "str", "meta-type": "builtin", "json-type": None},
    {"name": "int", "meta-type": None},
    {"name": "query-x", "meta-type": "command", "arg-type": "B", "ret-type": "E"},
    {"name": "EV", "meta-type": "event"}, {"name": None, "meta-type": "event"},
    {"name": "EV2", "meta-type": None},
    {"name": "transaction", "meta-type": "command", "arg-type": "T", "ret-type": None},
    {"name": "T", "meta-type": "object", "members": [{"name": "actions", "type": "TA"}]},
    {"name": "TA", "meta-type": "array", "element-type": "U"},
    {"name": "U", "meta-type": "object", "tag": "type",
     "members": [{"name": "type", "type": "UT"}, {"name": None, "type": None}],
     "variants": [None, {"case": None, "type": None}, {"case": "abort", "type": "W"}]},
    {"name": "UT", "meta-type": "enum", "values": [None, "abort", 1]},
    {"name": "W", "meta-type": "object", "members": [None, {"name": "data", "type": None}]},
]
HOSTILE_COMMANDS = [None, 5, {"name": None}, {"name": 7}, {"name": "balloon"}]
HOSTILE_PROPS = [{"name": None, "type": None}, {"name": "x", "type": None}]

CATALOGUE = [
    # ---- the greeting and the negotiation -------------------------------
    greeting_stream("close-at-once", b"", FAULT(CLOSED), before=lambda c: c.close()),
    greeting_stream("greeting-silence", None, FAULT(NO_GREETING)),
    greeting_stream("greeting-garbage", b"hello\r\n", FAULT(r"not a QMP server: invalid JSON")),
    greeting_stream("greeting-hmp-banner", b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ",
                    FAULT(r"not a QMP server")),
    greeting_stream("greeting-array", b"[1, 2]\r\n", FAULT(r"not a QMP server: invalid message: not a JSON object")),
    greeting_stream("greeting-no-QMP", line({"hello": 1}), FAULT(r"not a QMP server: no greeting")),
    greeting_stream("greeting-QMP-null", line({"QMP": None}), FAULT(r"not a QMP server: no greeting")),
    greeting_stream("greeting-QMP-string", line({"QMP": "7.2"}), FAULT(r"not a QMP server: no greeting")),
    greeting_stream("greeting-truncated", lambda c: (c.send(GOOD_GREETING[:20]), c.close()),
                    FAULT(CLOSED)),
    greeting_stream("greeting-truncated-open", GOOD_GREETING[:20], FAULT(NO_GREETING)),
    greeting_stream("greeting-drip-slow", lambda c: drip(GOOD_GREETING, 0.05)(c, {}),
                    FAULT(NO_GREETING)),
    greeting_stream("greeting-nul", b'{"QMP": {"version": \x00}}\r\n', FAULT(r"NUL byte")),
    greeting_stream("greeting-non-utf8", b'{"QMP": {"version": "\xff\xfe"}}\r\n', FAULT(r"invalid utf-8")),
    greeting_stream("greeting-deep", b'{"QMP": ' + b"[" * 100 + b"]" * 100 + b"}\r\n",
                    FAULT(r"nested deeper than 64 levels")),
    greeting_stream("greeting-huge", lambda c: c.send(big(b'{"QMP": {"x": "', b"a", HUGE, b'"}}\r\n')),
                    FAULT(r"larger than 4194304 bytes|" + NO_GREETING)),
    greeting_stream("greeting-huge-number", b'{"QMP": {"version": ' + b"9" * 40 + b"}}\r\n",
                    FAULT(r"out of the 64-bit range")),
    greeting_stream("greeting-whitespace-flood", lambda c: flood(spaces)(c, {}), FAULT(NO_GREETING)),
    greeting_stream("greeting-event-flood", lambda c: flood(event_flood)(c, {}),
                    FAULT(r"more than 4096 events")),
    (Stream("greeting-then-close", greeting=lambda c: (c.send(GOOD_GREETING), c.close())),
     {ALL: FAULT(CLOSED)}),
    (Stream("greeting-extra-members", greeting=line(
        {"QMP": {"version": {"qemu": {"micro": "x", "minor": None, "major": 99},
                             "package": None}, "capabilities": None,
                 "future": [1, {"a": None}]}})), {ALL: OK}),
    (Stream("events-before-greeting",
            before=lambda c: [c.send(event_flood(i)) for i in range(10)]), {ALL: OK}),
    (Stream("caps-error", replies={"qmp_capabilities": error(
        "CommandNotFound", "Capabilities negotiation is already complete")}),
     {ALL: FAULT(r"qmp_capabilities failed: Capabilities negotiation")}),
    (Stream("caps-error-no-desc", replies={"qmp_capabilities": error("GenericError", None)}),
     {ALL: FAULT(r"qmp_capabilities failed: an error reply without a description")}),
    (Stream("caps-error-nulls", replies={"qmp_capabilities": lambda c, req: c.send_json(
        {"error": {"class": None, "desc": None}, "id": req.get("id")})}),
     {ALL: FAULT(r"qmp_capabilities failed")}),
    (Stream("caps-silence", replies={"qmp_capabilities": silence()}),
     {ALL: FAULT(NO_GREETING)}),
    (Stream("caps-close", replies={"qmp_capabilities": close()}), {ALL: FAULT(CLOSED)}),
    (Stream("caps-wrong-id", replies={"qmp_capabilities": raw(b'{"return": {}, "id": 999}\r\n')}),
     {ALL: FAULT(NO_GREETING)}),
    (Stream("caps-unexpected", replies={"qmp_capabilities": raw(b'{"hello": "ID"}\r\n')}),
     {ALL: FAULT(r"unexpected message from QEMU")}),

    # ---- the first reply to a command -----------------------------------
    first_reply("reply-close", close(), FAULT(CLOSED)),
    first_reply("reply-silence", silence(), FAULT(TIMEOUT)),
    first_reply("reply-garbage", raw(b"xyz\r\n"), FAULT(r"invalid JSON")),
    first_reply("reply-nul", raw(b'{"return": {}, "id": ID\x00}\r\n'), FAULT(r"NUL byte")),
    first_reply("reply-non-utf8", raw(b'{"return": "\xc3\x28", "id": ID}\r\n'), FAULT(r"invalid utf-8")),
    first_reply("reply-truncated", lambda c, req: (raw(b'{"return": {"act')(c, req), c.close()),
                FAULT(CLOSED)),
    first_reply("reply-drip-slow", drip(b'{"return": {}, "id": ID}\r\n', 0.1), FAULT(TIMEOUT)),
    first_reply("reply-wrong-id-flood", flood(wrong_id_flood), FAULT(TIMEOUT)),
    first_reply("reply-whitespace-flood", flood(spaces), FAULT(TIMEOUT)),
    # The fleet commands take events as they come (top shows them): the
    # queue may never fill, and the flood then holds the reply past -t.
    first_reply("reply-event-flood", flood(event_flood), FAULT(r"more than 4096 events"),
                **{c: FAULT(r"more than 4096 events|" + TIMEOUT) for c in FLEET_CMDS}),
    first_reply("reply-huge-string", raw(lambda: big(b'{"id": ID, "return": "', b"a", HUGE, b'"}\r\n')),
                FAULT(r"larger than 4194304 bytes|" + TIMEOUT + "|" + NO_GREETING)),
    first_reply("reply-huge-number", raw(lambda: big(b'{"id": ID, "return": ', b"7", 20 << 20, b'}\r\n')),
                FAULT(r"larger than 4194304 bytes|" + TIMEOUT + "|" + NO_GREETING)),
    first_reply("reply-big-array", raw(lambda: big(b'{"id": ID, "return": [', b"0,", 1 << 20, b"0]}\r\n")),
                FAULT(NOT_THE_SHAPE + "|" + TIMEOUT),
                qmp=Expect((0, 3), TIMEOUT_OR_NOTHING)),
    first_reply("reply-deep", raw(b'{"return": ' + b"[" * 100 + b"]" * 100 + b', "id": ID}\r\n'),
                FAULT(r"nested deeper than 64 levels")),
    first_reply("reply-array", raw(b"[1]\r\n"), FAULT(r"not a JSON object")),
    first_reply("reply-unexpected", raw(b'{"hello": "ID"}\r\n'), FAULT(r"unexpected message from QEMU")),
    first_reply("reply-error-string", raw(b'{"error": "no", "id": ID}\r\n'),
                FAULT(r"malformed error reply")),
    # The balloon search takes an error for "not here": no balloon.
    first_reply("reply-error-no-class", error(None, "it went wrong"), FAIL(r"(QMP )?error: it went wrong"),
                **NO_BALLOON),
    first_reply("reply-error-no-desc", error("GenericError", None),
                FAIL(r"GenericError: \(no description\)"), **NO_BALLOON),
    first_reply("reply-error-nulls", lambda c, req: c.send_json(
        {"error": {"class": None, "desc": None}, "id": req.get("id")}),
        FAIL(r"(QMP )?error: \(no description\)"), **NO_BALLOON),
    first_reply("reply-wrong-id", raw(b'{"return": {}, "id": 999999}\r\n'), FAULT(TIMEOUT)),
    first_reply("reply-string-id", raw(b'{"return": {}, "id": "ID"}\r\n'), FAULT(TIMEOUT)),
    first_reply("reply-no-id", raw(b'{"return": {}}\r\n'), FAULT(TIMEOUT)),
    first_reply("reply-return-null", ret(None), FAULT(NOT_THE_SHAPE), qmp=OK),

    # ---- one field of one reply -----------------------------------------
    field("actual-negative", "query-balloon", {"actual": -1}, FAULT(r'"actual"')),
    field("actual-huge", "query-balloon", raw(b'{"return": {"actual": 99999999999999999999999999}, "id": ID}\r\n'),
          FAULT(r"out of the 64-bit range")),
    field("actual-null", "query-balloon", {"actual": None}, FAULT(r'"actual"')),
    field("actual-string", "query-balloon", {"actual": "1073741824"}, FAULT(r'"actual"')),
    field("actual-float", "query-balloon", {"actual": 1.5}, FAULT(r'"actual"')),
    field("actual-missing", "query-balloon", {}, FAULT(r'"actual"')),
    # list shows "no balloon" as a fact
    field("device-not-active-no-desc", "query-balloon", error("DeviceNotActive", None),
          FAIL(r"no balloon device"), list=OK),
    field("base-memory-huge", "query-memory-size-summary",
          raw(b'{"return": {"base-memory": 99999999999999999999}, "id": ID}\r\n'),
          FAULT(r"out of the 64-bit range")),
    field("base-memory-negative", "query-memory-size-summary", {"base-memory": -2}, FAULT(r"base-memory")),
    field("base-memory-null", "query-memory-size-summary", {"base-memory": None}, FAULT(r"base-memory")),
    field("balloon-error-no-desc", "balloon", error("GenericError", None), FAIL(r"GenericError")),
    field("qom-list-type-null", "qom-list:/machine/peripheral-anon",
          [{"name": "device[0]", "type": None}], FAULT(r'"name" and "type"')),
    field("qom-list-name-null", "qom-list:/machine/peripheral-anon",
          [{"name": None, "type": "child<virtio-balloon-pci>"}], FAULT(r'"name" and "type"')),
    field("qom-list-entry-number", "qom-list:/machine/peripheral-anon", [1], FAULT(r'"name" and "type"')),
    field("qom-list-not-array", "qom-list:/machine/peripheral-anon", {"a": 1}, FAULT(r"not return a list|not a list")),
    field("balloon-props-type-null", "qom-list:balloon",
          [{"name": "guest-stats-polling-interval", "type": None}], FAULT(r'"name" and "type"')),
    field("balloon-props-name-null", "qom-list:balloon",
          [{"name": None, "type": "int"}], FAULT(r'"name" and "type"')),
    field("polling-null", "qom-get:guest-stats-polling-interval", None,
          FAULT(r"guest-stats-polling-interval"), **{"qom-get": OK}),
    field("polling-negative", "qom-get:guest-stats-polling-interval", -1,
          FAULT(r"guest-stats-polling-interval"), **{"qom-get": OK}),
    field("polling-huge", "qom-get:guest-stats-polling-interval", 9223372036854775807, OK),
    field("stats-last-update-huge", "qom-get:guest-stats",
          stats_with(last_update=9223372036854775807), OK,
          check=FAIL(r"no statistics within")),
    field("stats-last-update-min", "qom-get:guest-stats",
          stats_with(last_update=-9223372036854775808), FAULT(r"guest-stats")),
    field("stats-last-update-null", "qom-get:guest-stats",
          stats_with(last_update=None), FAULT(r"guest-stats")),
    field("stats-null", "qom-get:guest-stats", stats_with(stats=None), FAULT(r"guest-stats")),
    field("stats-value-null", "qom-get:guest-stats",
          stats_with(**{"stat-free-memory": None}), FAULT(r"guest-stats")),
    field("stats-value-negative", "qom-get:guest-stats",
          stats_with(**{"stat-free-memory": -5}), FAULT(r"guest-stats")),
    field("stats-value-huge", "qom-get:guest-stats",
          raw(b'{"return": {"stats": {"stat-free-memory": 123456789012345678901234},'
              b' "last-update": 1}, "id": ID}\r\n'), FAULT(r"out of the 64-bit range")),
    field("stats-unknown-key-null", "qom-get:guest-stats",
          stats_with(**{"stat-from-the-future": None}), OUT(r"(?m)^from-the-future +null$"),
          **NOT_SHOWN),
    field("stats-unknown-key-negative", "qom-get:guest-stats",
          stats_with(**{"stat-from-the-future": -3}), OUT(r"(?m)^from-the-future +-3$"),
          **NOT_SHOWN),
    field("stats-not-object", "qom-get:guest-stats", "stats", FAULT(r"guest-stats")),
    # top and the metrics show the sample's age; doctor says what it means
    field("stats-stale", "qom-get:guest-stats", stats_with(last_update=1000),
          FAIL(r"no statistics from the guest"), top=OK, **{"top-json": OK, "fleet-prom": OK},
          doctor=FAIL(r"stopped answering"), check=FAIL(r"no statistics within")),
    field("type-null", "qom-get:type", None, OK),
    field("qom-set-error-nulls", "qom-set", lambda c, req: c.send_json(
        {"error": {"class": None, "desc": None}, "id": req.get("id")}), FAIL(r"QMP error")),
    field("status-nulls", "query-status", {"running": None, "status": None}, OK),
    # A guest that does not move, on a VM whose status is all nulls:
    # set --wait stops short and says so without a word about the status.
    (Stream("stuck-status-nulls", replies={"balloon": ret({}),
                                           "query-status": {"running": None, "status": None}}),
     {ALL: OK, "fleet-set-wait": FAIL(r"not settled: the guest did not move"),
      "check": FAIL(r"checks failed")}),

    # ---- what doctor and check read of the device's virtio state ---------
    (Stream("virtio-nulls", replies={
        "x-query-virtio": [None, 5, {"name": None, "path": None},
                           {"name": "virtio-balloon", "path": None},
                           {"name": "virtio-balloon", "path": VIRTIO_PATH}],
        "x-query-virtio-status": {"status": {"statuses": [None, 5]}, "broken": None,
                                  "host-features": {"dev-features": None, "transports": None},
                                  "guest-features": None}}),
     {ALL: OK, "doctor": FAIL(r"problem: .*no guest driver"), "check": FAIL(r"checks failed")}),
    (Stream("virtio-wrong-types", replies={
        "x-query-virtio": {"name": "virtio-balloon"},
        "x-query-virtio-status": {"status": {"statuses": "VIRTIO_CONFIG_S_DRIVER_OK"},
                                  "host-features": {"dev-features": {"a": None}},
                                  "guest-features": {"dev-features": [None, 7],
                                                     "transports": 3}}}),
     {ALL: OK, "doctor": Expect((0, 1)), "check": Expect((0, 1))}),
    # The guest moves, but the events say nothing usable: check follows
    # query-balloon instead.
    (Stream("balloon-event-nulls", replies={"balloon": balloon_with_event_nulls}),
     {ALL: OK, "check": FAIL(r"jumped straight to the target")}),

    # ---- the schema and command list the shell's help and completion read
    # (test-vbctl-hostile.py runs help NAME and completion against these
    # too: SCHEMA_STREAMS)
    (Stream("schema-nulls", replies={"query-qmp-schema": HOSTILE_SCHEMA,
                                     "query-commands": HOSTILE_COMMANDS,
                                     "qom-list:balloon": HOSTILE_PROPS}),
     {ALL: OK, "qom-list": FAULT(r'"name" and "type"'), "qom-set": FAULT(r'"name" and "type"')}),
    (Stream("schema-not-list", replies={"query-qmp-schema": {"a": None},
                                        "query-commands": {"name": None}}),
     {ALL: OK, "doctor": OK}),

    # ---- events ---------------------------------------------------------
    (Stream("event-nulls", events=[{"event": "X", "data": None, "timestamp": None}]), {ALL: OK}),
    (Stream("event-timestamp-huge", events=[{"event": "X", "timestamp": {
        "seconds": 18446744073709551615, "microseconds": 18446744073709551615}}]), {ALL: OK}),
    (Stream("event-timestamp-negative", events=[{"event": "X", "timestamp": {
        "seconds": -1, "microseconds": -1}}]), {ALL: OK}),
    # Not an event, and no reply: whoever reads next finds it.
    (Stream("event-name-null", events=[{"event": None}]),
     {ALL: FAULT(r"unexpected message from QEMU")}),
]

SCHEMA_STREAMS = ["schema-nulls", "schema-not-list"]

# Every stream sends one BALLOON_CHANGE after the negotiation, so that
# "events --count 1" ends when the stream lets it; those above that set
# their own events keep them.
for _stream, _expect in CATALOGUE:
    if not _stream.events:
        _stream.events = [balloon_event]
