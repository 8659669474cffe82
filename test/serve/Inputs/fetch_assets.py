"""Fetches the web page's assets and paths that must not reach any file;
prints the status, type and CSP of each.

usage: fetch_assets.py URL
"""
import sys
import urllib.error
import urllib.request

base = sys.argv[1]
for path in ("/", "/app.js", "/style.css", "/index.html", "/web/app.js",
             "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"):
    try:
        with urllib.request.urlopen(base + path, timeout=30) as r:
            print(path, r.status, r.headers["Content-Type"],
                  r.headers["Content-Security-Policy"], len(r.read()))
    except urllib.error.HTTPError as e:
        print(path, e.code)
