"""confluent-kafka (librdkafka, built with OpenSSL in its wheel, so SCRAM too) over
SASL_PLAINTEXT against minikafka: for each MECHANISM:USER:PASSWORD given, create a topic,
produce three records and consume them back; for wrong=MECHANISM:USER:PASSWORD, show that the
login is refused. Prints one line per step; exits non-zero on failure.

Usage: confluent_kafka_sasl.py ADDR SPEC..."""
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]


def conf(spec):
    mechanism, user, password = spec.split(":", 2)
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.username": user,
        "sasl.password": password,
    }


for spec in sys.argv[2:]:
    if spec.startswith("wrong="):
        c = conf(spec[len("wrong="):])
        errors = []
        c["error_cb"] = lambda e: errors.append(e)
        p = Producer(c)
        deadline = time.time() + 30
        while time.time() < deadline and not any(
            e.code() == KafkaError._AUTHENTICATION for e in errors
        ):
            p.poll(0.1)
        auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
        print("wrong", c["sasl.mechanism"], auth[0].str() if auth else "not refused")
        continue
    c = conf(spec)
    mechanism = c["sasl.mechanism"]
    topic = "ck-" + mechanism.lower()
    admin = AdminClient(c)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    p = Producer(c)
    delivered = []
    for i in range(3):
        p.produce(topic, value=f"{mechanism}-{i}".encode(),
                  on_delivery=lambda err, m: delivered.append((err, m.offset())))
    p.flush(30)
    assert all(err is None for err, _ in delivered), delivered
    cons = Consumer(dict(c, **{"group.id": "ck-" + mechanism, "auto.offset.reset": "earliest"}))
    cons.subscribe([topic])
    got = []
    deadline = time.time() + 30
    while len(got) < 3 and time.time() < deadline:
        m = cons.poll(0.5)
        if m is not None and m.error() is None:
            got.append(f"{m.offset()}={m.value().decode()}")
    cons.close()
    print("consumed", mechanism, c["sasl.username"], " ".join(got))
print("done")
