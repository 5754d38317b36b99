"""confluent-kafka (Python on librdkafka) transactions: a transactional producer commits, aborts
and commits again with a group's offsets (send_offsets_to_transaction); a second instance with
the same transactional.id fences the first mid-transaction, and the first one's commit fails.
read_committed and read_uncommitted consumers then read the partition. Prints one line per
step; the same session runs against Kafka and the transcripts are compared."""
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC = "py-txn"
GROUP = "py-txn-group"
TIMEOUT = 30
bootstrap = sys.argv[1]

admin = AdminClient({"bootstrap.servers": bootstrap})
for f in admin.create_topics([NewTopic(TOPIC, 1, 1)]).values():
    f.result(TIMEOUT)


def txn_producer():
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "py-txn-id", "linger.ms": 0})
    p.init_transactions(TIMEOUT)
    return p


def produce(p, values):
    for v in values:
        p.produce(TOPIC, key=v, value=v, partition=0)
    p.flush(TIMEOUT)


# Its group metadata is all send_offsets_to_transaction needs: it never joins.
group = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
# Waits until the group's coordinator serves (Kafka loads a new offsets topic first).
group.committed([TopicPartition(TOPIC, 0)], TIMEOUT)


def transaction(p, values, outcome, offset=None):
    p.begin_transaction()
    produce(p, values)
    if offset is not None:
        tp = TopicPartition(TOPIC, 0, offset)
        p.send_offsets_to_transaction([tp], group.consumer_group_metadata(), TIMEOUT)
    if outcome == "commit":
        p.commit_transaction(TIMEOUT)
    else:
        p.abort_transaction(TIMEOUT)
    print("txn", values, outcome)


producer = txn_producer()
transaction(producer, ["a0", "a1"], "commit")
transaction(producer, ["b0", "b1"], "abort")
transaction(producer, ["c0", "c1"], "commit", 2)

# The zombie: its transaction has a record in the log when the second instance starts.
producer.begin_transaction()
produce(producer, ["d0"])
successor = txn_producer()
try:
    producer.commit_transaction(TIMEOUT)
    print("zombie committed")
except KafkaException as e:
    err = e.args[0]
    print("zombie", err.name(), "fatal" if err.fatal() else "not-fatal")
transaction(successor, ["e0"], "commit")


def read_all(isolation, last):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "py-reader-" + isolation,
        "isolation.level": isolation,
        "enable.auto.commit": False,
    })
    c.assign([TopicPartition(TOPIC, 0, 0)])
    got = []
    while not got or got[-1][1] != last:
        m = c.poll(TIMEOUT)
        if m is None:
            raise SystemExit("no record within %ss after %s" % (TIMEOUT, got))
        if m.error():
            raise KafkaException(m.error())
        got.append((m.offset(), m.value().decode()))
    c.close()
    return got


print("read_committed", read_all("read_committed", "e0"))
print("read_uncommitted", read_all("read_uncommitted", "e0"))
committed = group.committed([TopicPartition(TOPIC, 0)], TIMEOUT)
print("group_offsets", [(tp.partition, tp.offset) for tp in committed])
low, high = group.get_watermark_offsets(TopicPartition(TOPIC, 0), TIMEOUT)
print("watermarks", low, high)
group.close()
successor.flush(TIMEOUT)
