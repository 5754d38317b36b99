"""A kafka-python session against minikafka: admin, produce (gzip, acks=all), a consumer
group that commits, and topic deletion. Prints one line per step; exits non-zero on failure."""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

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

admin.delete_topics(["py-topic"])
print("after-delete", ",".join(sorted(admin.list_topics())))
