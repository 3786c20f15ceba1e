"""The alarm path's InfluxDB queue: lines in a write under way still count as queued, and a flush
returns only once what was submitted before it has been written (or put back on failure)."""

from __future__ import annotations

import asyncio

from hazmon.settings import Settings

from recorder.influx import InfluxWriter


async def test_a_flush_waits_for_the_one_under_way_and_queued_counts_its_lines(settings: Settings) -> None:
    writer = InfluxWriter(settings)
    written: list[list[str]] = []
    release = asyncio.Event()

    async def slow_write(lines: list[str]) -> None:
        await release.wait()
        written.append(lines)

    writer.write = slow_write  # type: ignore[method-assign]
    writer.submit(["a 1", "b 2"])
    background = asyncio.create_task(writer.flush())
    await asyncio.sleep(0)
    assert writer.queued == 2                      # in the write under way, not yet written
    caller = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.05)
    assert not caller.done()                       # waits for the background flush's write
    release.set()
    await asyncio.gather(background, caller)
    assert written == [["a 1", "b 2"]] and writer.queued == 0
    await writer._client.close()


async def test_lines_of_a_failed_write_are_queued_again(settings: Settings) -> None:
    writer = InfluxWriter(settings)

    async def refused(lines: list[str]) -> None:
        raise OSError("connection refused")

    writer.write = refused  # type: ignore[method-assign]
    writer.submit(["a 1"])
    await writer.flush()
    writer.submit(["b 2"])
    assert writer.queued == 2 and writer._pending == ["a 1", "b 2"]
    await writer._client.close()
