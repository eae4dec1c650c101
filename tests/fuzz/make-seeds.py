#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make-seeds.py - writes the hand-made seed inputs of the fuzzers into
tests/fuzz/corpus/NAME/ (one file per seed, named by its content's hash).
The fuzzers' own finds are merged in there by 'make fuzz-merge'."""

import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def line(obj):
    return json.dumps(obj).encode() + b"\r\n"


GREETING = line({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                     "package": ""}, "capabilities": ["oob"]}})


def reply(value):
    return b'{"return": ' + json.dumps(value).encode() + b', "id": @ID}\r\n'


EVENT = line({"event": "BALLOON_CHANGE", "data": {"actual": 1073741824},
              "timestamp": {"seconds": 1700000000, "microseconds": 5}})
STATS = {"stats": {"stat-swap-in": 0, "stat-free-memory": 943718400,
                   "stat-total-memory": 1073741824,
                   "stat-htlb-pgalloc": 18446744073709551615},
         "last-update": 1700000000}
# The client's requests in order: capabilities, query-balloon,
# query-memory-size-summary, the balloon search (peripheral,
# peripheral-anon), polling, stats, set polling, qom-list, balloon,
# query-status.
SESSION = [
    GREETING,
    reply({}),
    reply({"actual": 1073741824}),
    reply({"base-memory": 2147483648, "plugged-memory": 0}),
    reply([]),
    reply([{"name": "device[0]", "type": "child<virtio-balloon-pci>"}]),
    reply(2),
    reply(STATS),
    reply({}),
    reply([{"name": "guest-stats-polling-interval", "type": "int"}]),
    reply({}),
    EVENT + reply({"running": True, "singlestep": False, "status": "running"}),
]


def connection_seeds():
    yield b"\x01".join(SESSION)
    yield b"\x01".join(SESSION[:3] + [line({"error": {"class": "DeviceNotActive",
                                                       "desc": "No balloon device has been activated"},
                                             "id": 0}).replace(b"0}", b"@ID}")])
    yield GREETING + EVENT * 3 + b"\x01" + reply({})
    yield b"\x01".join([GREETING, reply({}), b'{"return": {"actual": -1}, "id": @ID}\r\n'])
    yield b"\x01".join([GREETING, reply({}), b'{"return": {"actual": 99999999999999999999}, "id": @ID}\r\n'])
    yield b"\x01".join([GREETING, reply({}), b'{"return": {}, "id": 99}\r\n' * 4])
    yield b"\x01".join(SESSION[:5] + [reply([{"name": None, "type": None}])])
    yield b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) "


def parser_seeds():
    msgs = [GREETING, reply({}).replace(b"@ID", b"1"), EVENT,
            line({"error": {"class": "GenericError", "desc": "x"}, "id": 2}),
            b'{"a": 18446744073709551615, "b": -9223372036854775808, "c": 1.5e10}',
            b'{"s": "\\u00e9\\ud83d\\ude00 \xc3\xa9"}', b'{"a": [[[[{}]]]]}',
            b" \r\n\t{}{}\n"]
    for i, m in enumerate(msgs):
        yield bytes([i * 7]) + m
    yield bytes([63]) + b"".join(msgs)


def size_seeds():
    boot, cur = 2 << 30, 1 << 30
    for text in ["1G", "1073741824", "512M", "1.5GiB", "2GB", "50%", "12.5%",
                 "+256M", "-512M", "-1.5G", "0", "1", "18446744073709551615",
                 "100%", "1T", "3KB", "0x10", "1e3", "", "-0"]:
        yield struct.pack("<QQ", boot, cur) + text.encode()


def kv_seeds():
    for text in ["value=1073741824", "a.b=1\nc=2", 'x={"a": [1, 2]}', 'v="str"',
                 "n=null", "t=true", "f=1.5", "s=plain text", "path=balloon\nproperty=type",
                 "a=1\na.b=2", "big=18446744073709551615", "neg=-9223372036854775808",
                 "=1", "a..b=1", "nokey"]:
        yield text.encode()


def split_seeds():
    for text in ["query", "set 1G --wait", "qom-get balloon guest-stats",
                 "qmp balloon value=1073741824", "echo 'single quoted' \"double \\\" quote\"",
                 'device_add file={"driver": "null-co", "x": [1, 2]}', "a\\ b c\\",
                 "  leading and trailing  ", "'unterminated", "value='\"2\"'", ""]:
        yield text.encode()


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for s in seeds:
        with open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    write("fuzz-connection", connection_seeds())
    write("fuzz-parser", parser_seeds())
    write("fuzz-size", size_seeds())
    write("fuzz-kv", kv_seeds())
    write("fuzz-split", split_seeds())
