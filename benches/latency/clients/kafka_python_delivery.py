"""The load of issue 13 with kafka-python: RECORDS records of 100 B to a new 3-partition topic,
linger_ms=5, sent as fast as Python goes, each timed from send() to its future's callback;
then every record consumed. kafka-python is bound by its own CPU (about 15k records/s here).

    pip install --target /tmp/kp kafka-python==3.0.12
    PYTHONPATH=/tmp/kp python3 kafka_python_delivery.py 127.0.0.1:9092 TOPIC 1 50000

Run by hand, not by cargo bench.
"""
import sys, time
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
bs, topic, acks, N = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
KafkaAdminClient(bootstrap_servers=bs).create_topics([NewTopic(topic, 3, 1)])
p = KafkaProducer(bootstrap_servers=bs, linger_ms=5, acks=(1 if acks == "1" else "all"), batch_size=1000000, max_in_flight_requests_per_connection=5)
now = time.perf_counter
lat = []
val = b"x" * 100
p.partitions_for(topic)
t0 = now()
for i in range(N):
    t = now()
    p.send(topic, val).add_callback(lambda md, t=t: lat.append(now() - t))
p.flush(60)
el = now() - t0
lat.sort()
q = lambda x: lat[min(len(lat) - 1, int(x * len(lat)))] * 1e3
print(f"{topic} acks={acks} {len(lat)}/{N} {N/el/1e3:.0f}k msgs/s p50 {q(.5):.1f} p99 {q(.99):.1f} p99.9 {q(.999):.1f} max {lat[-1]*1e3:.1f} ms", end=" ")
c = KafkaConsumer(bootstrap_servers=bs, enable_auto_commit=False)
c.assign([TopicPartition(topic, i) for i in range(3)]); c.seek_to_beginning()
# From the first poll: one poll may bring every record, leaving no first-to-last interval.
got, t1 = 0, now()
while got < N:
    r = c.poll(1000, max_records=10000)
    got += sum(len(v) for v in r.values())
print(f"consume {N/(now()-t1)/1e3:.0f}k/s")
