"""A kafka-python session against minikafka: admin, produce (gzip, acks=all), a consumer
group that commits, and topic deletion; then KafkaAdminClient's config and partition calls on a
compacted topic (create with configs, describe, alter, grow, delete records) and a dynamic
broker config. Prints one line per step; exits non-zero on failure."""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

bootstrap = sys.argv[1]
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic("py-topic", 2, 1)])
print("topics", ",".join(sorted(admin.list_topics())))

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="gzip")
for i in range(6):
    producer.send("py-topic", key=b"k%d" % i, value=b"v%d" % i, partition=i % 2).get(timeout=10)
producer.flush()

consumer = KafkaConsumer(
    "py-topic",
    bootstrap_servers=bootstrap,
    group_id="py-group",
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    consumer_timeout_ms=8000,
)
got = []
for m in consumer:
    got.append((m.partition, m.offset, m.key.decode(), m.value.decode()))
    if len(got) == 6:
        break
consumer.commit()
print("consumed", sorted(got))
committed = [consumer.committed(TopicPartition("py-topic", p)) for p in (0, 1)]
print("committed", committed)
consumer.close()
# Closed first: its metadata refreshes would create the deleted topic again.
producer.close()

admin.delete_topics(["py-topic"])
print("after-delete", ",".join(sorted(admin.list_topics())))


# KafkaAdminClient's config and partition calls.
TOPIC = "py-compacted"
admin.create_topics([
    NewTopic(TOPIC, 1, 1, topic_configs={
        "cleanup.policy": "compact",
        "segment.bytes": "1048576",
        "min.compaction.lag.ms": "1000",
    })
])


def described(keys=None, config_filter="modified"):
    res = ConfigResource(ConfigResourceType.TOPIC, TOPIC, keys)
    cfg = admin.describe_configs([res], config_filter=config_filter)["topic"][TOPIC]
    return sorted((k, v["value"], v["config_source"]) for k, v in cfg.items())


print("described", described())
altered = admin.alter_configs([
    ConfigResource(ConfigResourceType.TOPIC, TOPIC, {
        "cleanup.policy": "compact,delete",
        "retention.ms": "3600000",
    })
])
print("altered", altered)
print("described-again", described())

admin.create_partitions({TOPIC: 3})
parts = admin.describe_topics([TOPIC])[0]["partitions"]
print("partitions", sorted(p["partition_index"] for p in parts))

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
for i in range(5):
    producer.send(TOPIC, key=b"c%d" % i, value=b"x", partition=0).get(timeout=10)
producer.flush()
tp = TopicPartition(TOPIC, 0)
deleted = admin.delete_records({tp: 3})[tp]
low = deleted["low_watermark"] if isinstance(deleted, dict) else deleted.low_watermark
print("delete-records", low)
watcher = KafkaConsumer(bootstrap_servers=bootstrap)
print("beginning", watcher.beginning_offsets([tp])[tp], "end", watcher.end_offsets([tp])[tp])
watcher.close()

# A dynamic broker config: this node's default for topics that do not set it.
broker = ConfigResource(ConfigResourceType.BROKER, "1", {"log.cleaner.delete.retention.ms": "5000"})
print("broker-altered", admin.alter_configs([broker]))
node = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])["broker"]["1"]
print("broker-described", sorted((k, v["value"], v["config_source"]) for k, v in node.items()))
print("topic-follows", described(["delete.retention.ms"], "all"))

producer.close()
admin.delete_topics([TOPIC])
print("after-admin-delete", ",".join(sorted(admin.list_topics())))
