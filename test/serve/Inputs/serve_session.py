"""Starts `llmc serve` on a free port, runs a client against it, stops it.

usage: serve_session.py 'SERVE ARGS' -- CLIENT COMMAND (with {url} in it)
The server's "serving ... on http://HOST:PORT" line gives the URL. After
the client, SIGTERM must stop the server with exit code 0 within 20 s.
Prints the client's output, then the server's exit; exits 1 if either
failed (or the server never listened), killing anything left behind.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import time

sep = sys.argv.index("--")
serve_args, client = shlex.split(sys.argv[1]), sys.argv[sep + 1:]
llmc = os.path.join(os.environ["LLMC_TOOLS_DIR"], "llmc")
server = subprocess.Popen([llmc, "serve"] + serve_args + ["--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True)
try:
    url, start = None, time.time()
    while url is None and time.time() - start < 60:
        line = server.stdout.readline()
        if not line:
            break
        print(line.rstrip(), flush=True)
        m = re.search(r"serving .* on (http://\S+)", line)
        url = m.group(1) if m else None
    if url is None:
        sys.exit("the server did not start listening")
    result = subprocess.run([a.replace("{url}", url) for a in client],
                            timeout=300)
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=20)
    print("server exited with %d after SIGTERM" % code)
    if result.returncode != 0 or code != 0:
        sys.exit(1)
finally:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
