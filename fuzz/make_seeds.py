#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/seeds/<target>/, from the test vectors
of the unit tests (src/engine/packet.rs, frame.rs, mod.rs, src/parser.rs) and of tests/.

Run it again after changing the input layout of a target: `python3 fuzz/make_seeds.py`."""

import hashlib
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def write(target, inputs):
    folder = os.path.join(ROOT, target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for data in inputs:
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def u(s):
    return s.encode("utf-8")


# eio_packet: mode byte (0 text frame, 1 v4 binary frame, 2 v3 binary frame), then the frame.
texts = ["4hello", "2probe", "3probe", "3", "1", "5", "6", "4", "4€", "4😀", '42["hi",1]',
         "abc", "", "0{}", "9", "b4AQIDBA=="]
write("eio_packet",
      [b"\x00" + u(t) for t in texts]
      + [b"\x01\x01\x02\x03\x04", b"\x01", b"\x02\x04\x09", b"\x02\x09", b"\x02\x04"])

# eio_payload: mode byte (0 v4, 1 v3 text, 2 v3 binary), then the body.
v4 = [b"4hello\x1ebAQIDBA==\x1e2\x1e4", b"4hello", b"2\x1e6", b"abc", b"4a\x1e", b"b!!!",
      b"\xff\xfe", b"", b"b", b"5\x1e6\x1e1"]
v3_text = [u("2:4€3:4😀10:b4AQIDBA=="), b"6:2probe", b"1:6", b"5:4hi", b"x:4hi", b"4hi",
           b"2:4h\xff", b"", b"99999999999:4", b"2:b4", b"0:"]
v3_binary = [bytes([0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 1, 2, 3, 4]),
             bytes([0x02, 0x01, 0xff, 0x34]), bytes([0x00, 0x05, 0xff, 0x34]), bytes([0x00, 0x01]),
             bytes([0x00, 0x01, 0xff, 0x36]), bytes([0x01, 0x01, 0xff, 0x04])]
write("eio_payload", [b"\x00" + b for b in v4] + [b"\x01" + b for b in v3_text]
      + [b"\x02" + b for b in v3_binary])


# ws_frames: piece-size count n, n size bytes, limit byte (limit = byte * 8), the stream.
def client_frame(first, payload, mask=b"\x12\x34\x56\x78"):
    n = len(payload)
    if n <= 125:
        head = bytes([first, 0x80 | n])
    elif n <= 0xFFFF:
        head = bytes([first, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, 0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


stream = (client_frame(0x81, b'42["hi"]') + client_frame(0x82, b"\x01\x02\x03")
          + client_frame(0x01, b"frag") + client_frame(0x89, b"ping!") + client_frame(0x00, b"men")
          + client_frame(0x80, b"ted") + client_frame(0x82, b"x" * 300)
          + client_frame(0x88, struct.pack(">H", 1000)))
violations = [bytes([0x81, 0x02]) + b"hi", client_frame(0xC1, b"x"), client_frame(0x09, b"x"),
              client_frame(0x89, bytes(126)), client_frame(0x80, b"x"), client_frame(0x83, b"x"),
              client_frame(0x01, b"a") + client_frame(0x81, b"b"),
              client_frame(0x81, b"\xff\xfe"), client_frame(0x82, bytes(200))[:8],
              client_frame(0x02, bytes(60)) + client_frame(0x80, bytes(60)),
              client_frame(0x82, bytes(70000))[:14], client_frame(0x88, b"\x03"),
              client_frame(0x8A, b"")]
write("ws_frames",
      [bytes([0, 64]) + stream, bytes([3, 1, 7, 0x80 | 2, 64]) + stream,
       bytes([1, 0, 2]) + stream]
      + [bytes([2, 3, 0x81, 13]) + v for v in violations])

# sio_packet: flags byte (bit 0: v5), then messages split by 0xff; 0xfe starts a binary one.
def sio(*messages, v5=True):
    return bytes([1 if v5 else 0]) + b"\xff".join(
        b"\xfe" + m if isinstance(m, bytes) else u(m) for m in messages)


write("sio_packet", [
    sio('2/chat,12["hi",1]'), sio("0/random"), sio('0{"token":"1"}'),
    sio('52-/a,7["ev",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]',
        b"\x01\x02", b"\x03"),
    sio("0/admin?token=abc,"), sio('2["message","hi"]', '3/x,5["ok",2.5,null,true]'),
    sio('61-/x,3[{"_placeholder":true,"num":0}]', b"\x09"),
    sio('51-["ev",{"_placeholder":true,"num":1}]', b"x"),
    sio("", "4abc", "9"), sio('2{}'), sio('2abc["x"]'), sio("3[1]"), sio("5-[]"),
    sio("51000-[]"), sio("1x"), sio("0[]"), sio("1/a,"), sio('2["a",'),
    sio('0/', v5=False), sio('2["ev",{"k":[1,-2,3e5,"\\u00e9"]}]', v5=False),
    sio("40", '42["x"]'), sio('451-["x"]'),
])

# eio_query: the query string.
write("eio_query", [u(q) for q in [
    "EIO=4&transport=polling&t=abc&sid=xyz&b64=1", "", "&&transport&sid=a=b&é=ü&EIO=3&",
    "EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAA_", "EIO=3&transport=polling&b64=true",
    "b64=0&b64=false&sid=aaaaaaaaaaaaaaaaaaa/", "EIO=4&transport=polling&t=P1a2b3c",
]])
