"""The load of issue 13 with confluent-kafka (librdkafka inside): 200,000 records of 100 B to a
new 3-partition topic, linger.ms=5, batch.num.messages=10000, produce() + poll(0) as fast as
Python goes, each record timed from produce() to its delivery callback; librdkafka's own
worst rtt / queue / outbuf latency from its statistics; then every record consumed.

    pip install --target /tmp/ck confluent-kafka==2.16.1
    PYTHONPATH=/tmp/ck python3 confluent_kafka_delivery.py 127.0.0.1:9092 TOPIC 1 [RECORDS]

(acks "1" or "all"; TOPIC must not exist yet.) Run by hand, not by cargo bench.
"""
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
bs, topic, acks = sys.argv[1], sys.argv[2], sys.argv[3]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 200000
a = AdminClient({"bootstrap.servers": bs})
a.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result()
import json
st = {"rtt": 0, "int_latency": 0, "outbuf_latency": 0}
def stats(js):
    d = json.loads(js)
    for b in d["brokers"].values():
        if b["nodeid"] < 0: continue
        for k in st: st[k] = max(st[k], b[k]["max"])
p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "batch.num.messages": 10000, "acks": acks, "statistics.interval.ms": 100, "stats_cb": stats})
lat = []
now = time.perf_counter
def cb(err, msg, t0):
    lat.append(now() - t0)
val = b"x" * 100
p.list_topics(topic, timeout=10)
t0 = now()
for i in range(N):
    while True:
        try:
            t = now()
            p.produce(topic, val, on_delivery=lambda e, m, t=t: cb(e, m, t))
            break
        except BufferError:
            p.poll(0.001)
    p.poll(0)
p.flush(60)
el = now() - t0
lat.sort()
q = lambda x: lat[min(len(lat) - 1, int(x * len(lat)))] * 1e3
print(f"{topic} acks={acks} {N/el/1e3:.0f}k msgs/s p50 {q(.5):.1f} p99 {q(.99):.1f} p99.9 {q(.999):.1f} max {lat[-1]*1e3:.1f} ms", end=" ")
c = Consumer({"bootstrap.servers": bs, "group.id": "g", "enable.auto.commit": False})
c.assign([TopicPartition(topic, i, 0) for i in range(3)])
got, t1 = 0, None
while got < N:
    ms = c.consume(10000, 1.0)
    if ms and t1 is None: t1 = now()
    got += len(ms)
print("max(ms) rtt %.1f queue %.1f outbuf %.1f" % (st["rtt"]/1e3, st["int_latency"]/1e3, st["outbuf_latency"]/1e3), end=" ")
print(f"consume {N/(now()-t1)/1e3:.0f}k/s")
