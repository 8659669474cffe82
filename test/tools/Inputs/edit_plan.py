"""Rewrites a plan file's protobuf through its text form, keeping the frame
valid (magic, version, length, CRC-32), so tests can feed the runtime plans
that are well-formed files but wrong in content.

usage: edit_plan.py PLAN.proto IN.plan OUT.plan PATTERN REPLACEMENT [...]
Replaces the first match of each regular expression PATTERN in the text
form by its REPLACEMENT, pair after pair (both may use \\n for a newline).
"""
import re
import struct
import subprocess
import sys
import zlib

proto, src, dst = sys.argv[1:4]
edits = list(zip(sys.argv[4::2], sys.argv[5::2]))
data = open(src, "rb").read()
magic, version, length = data[:8], data[8:12], struct.unpack("<Q", data[12:20])[0]
payload = data[20:20 + length]
include = proto.rsplit("/", 1)[0]
text = subprocess.run(["protoc", "-I", include, "--decode=llmc.planfile.Plan",
                       proto], input=payload, capture_output=True,
                      check=True).stdout.decode()
edited = text
for pattern, replacement in edits:
    edited, count = re.subn(pattern, replacement, edited, count=1)
    if count != 1:
        sys.exit("edit_plan.py: pattern %r not found" % pattern)
payload = subprocess.run(["protoc", "-I", include,
                          "--encode=llmc.planfile.Plan", proto],
                         input=edited.encode(), capture_output=True,
                         check=True).stdout
open(dst, "wb").write(magic + version + struct.pack("<Q", len(payload)) +
                      payload + struct.pack("<I", zlib.crc32(payload)))
