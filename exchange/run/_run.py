"""``mais run``: the whole exchange on one machine, fed by generated records in real time.

Order of events: broker and registry (found running, given, or started), the standard's schemas
registered, a sample set generated, one adapter process per ``[[adapters]]`` table, then the
feeders; the live table follows the adapters' metrics. Stopping (Ctrl-C, SIGTERM or the
duration) reverses it: feeders stop, adapters get SIGTERM and drain, and the broker and registry
stop only if this run started them.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.live import Live

from exchange.cli.schemas import register_standard
from exchange.errors import ConfigError, MaisError, TransientError
from exchange.localkafka import free_port
from exchange.registry_client import RegistrySettings, SchemaRegistryClient
from exchange.run._config import AdapterEntry, RunConfig, load_config
from exchange.run._dashboard import render
from exchange.run._feeders import DropFeeder, FeedProgress, MllpFeeder
from exchange.run._processes import AdapterProcess, agency_secret, child_env
from exchange.run._singleview import DEV_USER, SingleViewProcess
from exchange.run._stack import Stack, ensure_stack
from exchange.runtime import DirectorySource, ListenerSource, SourceSpec
from exchange.samples import generate

__all__ = ["RunSettings", "run_exchange"]


@dataclass(frozen=True)
class RunSettings:
    """The options of ``mais run``."""

    config: Path
    state_dir: Path
    duration: float | None = None
    free_ports: bool = False
    kafka_port: int = 9092
    registry_port: int = 8081
    metrics_port: int = 9400
    singleview_port: int = 8700
    seed: int | None = None
    bootstrap_servers: str | None = None
    registry_url: str | None = None


def run_exchange(settings: RunSettings, console: Console) -> int:  # noqa: PLR0915 - one start-up story, in order
    """Run until stopped; return 0 when every adapter stopped cleanly, 1 otherwise."""
    config = load_config(settings.config)
    state = settings.state_dir.resolve()
    if settings.bootstrap_servers and settings.registry_url:
        stack = Stack(settings.bootstrap_servers, settings.registry_url)
    elif settings.bootstrap_servers or settings.registry_url:
        raise ConfigError(
            "give both --bootstrap-servers and --registry-url, or neither",
            hint="without them mais run uses (or starts) the local cluster of `mais dev up`",
        )
    else:
        with console.status("Starting the local Kafka broker and schema registry …"):
            stack = ensure_stack(
                kafka_port=settings.kafka_port,
                registry_port=settings.registry_port,
                free_ports=settings.free_ports,
            )
    stop = threading.Event()
    previous = _install_stop_handlers(stop)
    processes: list[AdapterProcess] = []
    feeders: list[DropFeeder | MllpFeeder] = []
    singleview: SingleViewProcess | None = None
    try:
        started = f" (started {' and '.join(stack.started)})" if stack.started else ""
        console.print(
            f"Kafka at {stack.bootstrap_servers}, schema registry at {stack.registry_url}{started}."
        )
        count = _register_schemas(stack.registry_url, stop)
        console.print(f"{count} standard event schemas registered.")
        samples = state / "samples"
        shutil.rmtree(samples, ignore_errors=True)
        seed, note = _choose_seed(state, config.samples.seed, settings.seed)
        generate(samples, people=config.samples.people, seed=seed)
        console.print(
            f"Sample set of {config.samples.people} people (seed {seed}) generated in {samples}.{note}"
        )
        _remember_seed(state, seed)
        env = child_env(stack.bootstrap_servers, stack.registry_url)
        port = free_port() if settings.free_ports else settings.singleview_port
        singleview = SingleViewProcess(port, state, env)
        singleview.start()
        console.print(
            f"SingleView at [bold]{singleview.url}[/] (sign in as {DEV_USER}, "
            f"password {singleview.password}): choose a purpose, then open a person known to many agencies."
        )
        for i, entry in enumerate(config.adapters):
            source = _source(entry, state, settings.free_ports)
            metrics = free_port() if settings.free_ports else settings.metrics_port + i
            secret = {"MAIS_KEYED_HASH_SECRET": agency_secret(state, entry.agency)}
            log = state / "logs" / f"{entry.name}.log"
            proc = AdapterProcess(entry, source, metrics, log, {**env, **secret})
            proc.start()
            processes.append(proc)
        feeders = [_feeder(p.entry, p.source, samples, stop) for p in processes]
        for feeder in feeders:
            feeder.start()
        feeds: dict[str, FeedProgress] = {
            p.entry.name: f.progress for p, f in zip(processes, feeders, strict=True)
        }
        _watch(settings, config, processes, feeds, stack, stop=stop, console=console)
    finally:
        stop.set()
        for feeder in feeders:
            feeder.join(10)
        codes = _stop_adapters(processes)
        if singleview is not None:
            singleview.stop()
        if stack.started:
            with console.status(f"Stopping the {' and '.join(stack.started)} this run started …"):
                stack.stop()
        _restore(previous)
    failed = [f"{p.entry.name} (exit {code})" for p, code in zip(processes, codes, strict=True) if code != 0]
    if failed:
        console.print(
            f"[red]Adapters that did not stop cleanly:[/] {', '.join(failed)} (logs in {state / 'logs'})"
        )
        return 1
    console.print(f"All adapters stopped cleanly. Logs: {state / 'logs'}")
    return 0


def _watch(
    settings: RunSettings,
    config: RunConfig,
    processes: list[AdapterProcess],
    feeds: dict[str, FeedProgress],
    stack: Stack,
    *,
    stop: threading.Event,
    console: Console,
) -> None:
    began = time.monotonic()
    agency = config.adapters[0].agency
    footer = f"Ctrl-C stops everything. In another terminal: mais tail mais.{agency}.person.v1"

    def view() -> object:
        return render(
            processes,
            feeds,
            bootstrap_servers=stack.bootstrap_servers,
            registry_url=stack.registry_url,
            elapsed=time.monotonic() - began,
            footer=footer,
        )

    with httpx.Client(timeout=2.0) as client, Live(view(), console=console, refresh_per_second=2) as live:  # type: ignore[arg-type]
        while not stop.is_set():
            if settings.duration is not None and time.monotonic() - began >= settings.duration:
                break
            for proc in processes:
                proc.scrape(client)
            live.update(view())  # type: ignore[arg-type]
            if all(p.process is not None and p.process.poll() is not None for p in processes):
                break  # every adapter died: nothing left to watch
            stop.wait(1.0)
        for proc in processes:
            proc.scrape(client)
        live.update(view())  # type: ignore[arg-type]
    console.print()


def _register_schemas(url: str, stop: threading.Event) -> int:
    # the environment's registry credentials and CA apply (a secured exchange given by --registry-url)
    registry = SchemaRegistryClient.from_settings(RegistrySettings(url=url))
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                return len(register_standard(registry))
            except TransientError:
                if time.monotonic() > deadline or stop.is_set():
                    raise
                stop.wait(1.0)
    finally:
        registry.close()


def _source(entry: AdapterEntry, state: Path, free_ports: bool) -> SourceSpec:
    spec = entry.source_spec(state)
    if isinstance(spec, DirectorySource):
        if spec.path.is_relative_to(state):
            shutil.rmtree(spec.path, ignore_errors=True)  # a fresh drop folder each run
        spec.path.mkdir(parents=True, exist_ok=True)
        return spec
    if isinstance(spec, ListenerSource) and free_ports:
        return ListenerSource(spec.kind, spec.host, free_port())
    return spec


def _feeder(
    entry: AdapterEntry, source: SourceSpec, samples: Path, stop: threading.Event
) -> DropFeeder | MllpFeeder:
    files: list[Path] = []
    for pattern in entry.feed:
        found = sorted(samples.glob(pattern))
        if not found:
            raise ConfigError(
                f"adapter {entry.name}: feed {pattern!r} matches no sample file",
                hint="feed paths are relative to the sample set; see exchange/samples/README.md",
            )
        files += found
    if isinstance(source, DirectorySource):
        return DropFeeder(files, source.path, entry.pace, stop)
    if not isinstance(source, ListenerSource):
        raise ConfigError(f"adapter {entry.name}: mais run cannot feed {source}", hint="use dir: or mllp:")
    return MllpFeeder(files, source.host, source.port, entry.pace, stop)


def _choose_seed(state: Path, configured: int, chosen: int | None) -> tuple[int, str]:
    """The sample seed of this run, and a note when it is not the configured one.

    Records fed once are delivered exactly once: feeding the same seed again would show nothing
    flowing. Unless ``--seed`` says otherwise, each run takes the first seed not fed before.
    """
    if chosen is not None:
        return chosen, ""
    fed = _fed_seeds(state)
    seed = configured
    while seed in fed:
        seed += 1
    if seed == configured:
        return seed, ""
    return seed, (
        f" Seed {configured} was fed in an earlier run and exactly-once delivery would skip its records,"
        f" so this run uses seed {seed} (--seed chooses one)."
    )


def _fed_seeds(state: Path) -> set[int]:
    path = state / "fed-seeds"
    if not path.is_file():
        return set()
    return {int(line) for line in path.read_text().split() if line.isdigit()}


def _remember_seed(state: Path, seed: int) -> None:
    with (state / "fed-seeds").open("a") as out:
        out.write(f"{seed}\n")


def _stop_adapters(processes: list[AdapterProcess]) -> list[int | None]:
    for proc in processes:
        proc.terminate()  # all at once; each drains on its own
    return [proc.stop() for proc in processes]


Handler = signal.Handlers | int | None | object


def _install_stop_handlers(stop: threading.Event) -> dict[int, Handler]:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Handler] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handle)
    return previous


def _restore(previous: dict[int, Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]


_ = MaisError  # re-raised untouched: `mais` prints MaisError messages with their hints
