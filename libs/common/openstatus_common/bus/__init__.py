"""A thin layer over nats-py JetStream: streams, publishing with dedupe ids, durable pull consumers."""

from openstatus_common.bus.batch import BatchConsumer
from openstatus_common.bus.client import Bus, PublishResult
from openstatus_common.bus.consumer import Consumer, ConsumerSpec, Delivery, Reject
from openstatus_common.bus.streams import STREAMS, StreamName

__all__ = [
    "STREAMS",
    "BatchConsumer",
    "Bus",
    "Consumer",
    "ConsumerSpec",
    "Delivery",
    "PublishResult",
    "Reject",
    "StreamName",
]
