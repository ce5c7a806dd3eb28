#!/usr/bin/env python3
"""Docker HEALTHCHECK: GET /healthz on HEALTH_LISTEN inside the container (0 alive, 1 not)."""

import os
import sys
import urllib.request

listen = os.environ.get("HEALTH_LISTEN", "").strip() or "127.0.0.1:8080"
if listen.lower() == "off":
    # Nothing to ask: the container counts as healthy while its process runs.
    sys.exit(0)
host, _, port = listen.rpartition(":")
host = host.strip("[]")
if host in ("", "0.0.0.0", "::"):
    host = "127.0.0.1"
if ":" in host:
    host = f"[{host}]"
try:
    with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=4) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except OSError:
    sys.exit(1)
