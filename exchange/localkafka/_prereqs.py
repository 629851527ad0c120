"""Checks for what a local broker needs on this machine: Java 17+ and (to fetch jars) Maven."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

from exchange.errors import PrerequisiteError

MIN_JAVA = 17
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def java_executable() -> str:
    """The ``java`` to run Kafka with: ``$JAVA_HOME/bin/java`` if set, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    candidates = [str(Path(java_home) / "bin" / "java")] if java_home else []
    candidates.append("java")
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise PrerequisiteError(
        "Java was not found (looked at $JAVA_HOME/bin/java and on PATH)",
        hint=f"install a JDK {MIN_JAVA} or newer (e.g. apt-get install openjdk-17-jdk-headless) "
        "and make sure `java -version` works",
    )


def check_java() -> str:
    """Return the java executable after checking it is version 17 or newer."""
    java = java_executable()
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, check=False, timeout=60)
    match = _JAVA_VERSION.search(proc.stderr + proc.stdout)
    if not match:
        raise PrerequisiteError(
            f"could not read the Java version from `{java} -version`",
            hint=f"make sure {java} is a working JDK {MIN_JAVA}+",
        )
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise PrerequisiteError(
            f"Java {major} is too old: Kafka 4 needs Java {MIN_JAVA} or newer ({java})",
            hint=f"install JDK {MIN_JAVA}+ and point JAVA_HOME at it",
        )
    return java


def maven_executable() -> str:
    """The ``mvn`` used to resolve the broker's jars from Maven Central."""
    found = shutil.which("mvn")
    if not found:
        raise PrerequisiteError(
            "Maven (`mvn`) was not found on PATH; it is needed once to fetch the Kafka jars",
            hint="install Maven 3.8+ (e.g. apt-get install maven), or point MAIS_KAFKA_LIBS at a "
            "folder that already holds the Kafka broker jars",
        )
    return found


def ensure_port_free(port: int, host: str = "127.0.0.1") -> None:
    """Fail with a message naming the port if another process already listens on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # like the JVM's server sockets: lingering TIME_WAIT connections do not block a listener
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PrerequisiteError(
                f"port {port} on {host} is already in use by another process",
                hint=f"stop whatever listens on port {port} (see `ss -ltnp 'sport = :{port}'`), "
                "or choose other ports with --kafka-port or --registry-port",
            ) from exc


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
