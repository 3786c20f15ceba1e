"""The ``lag`` of ``wire.PartitionLag`` (pipeline metrics) of a Kafka consumer: per assigned partition,
the partition's end (for a ``read_committed`` consumer its last stable offset, as the broker answers
``end_offsets``) minus the consumer's position. Asked of the broker, so a consumer that stopped fetching still shows its lag."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

from hazmon import wire


async def consumer_lags(consumer: AIOKafkaConsumer) -> list[wire.PartitionLag]:
    assigned = sorted(consumer.assignment())
    if not assigned:
        return []
    ends = await consumer.end_offsets(assigned)
    return [wire.PartitionLag(topic=tp.topic, partition=tp.partition, lag=max(0, ends[tp] - await consumer.position(tp)))
            for tp in assigned]
