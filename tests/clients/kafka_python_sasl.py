"""kafka-python over SASL_PLAINTEXT against minikafka: for each (mechanism, user, password)
given on the command line, create a topic, produce and consume it back; then a wrong password,
which must be refused. Prints one line per step; exits non-zero on failure.

Usage: kafka_python_sasl.py ADDR MECHANISM:USER:PASSWORD... wrong=MECHANISM:USER:PASSWORD"""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError

bootstrap = sys.argv[1]


def sasl(spec):
    mechanism, user, password = spec.split(":", 2)
    return dict(
        bootstrap_servers=bootstrap,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,
        sasl_plain_username=user,
        sasl_plain_password=password,
    )


for spec in sys.argv[2:]:
    if spec.startswith("wrong="):
        conf = sasl(spec[len("wrong="):])
        try:
            admin = KafkaAdminClient(bootstrap_timeout_ms=5000, **conf)
            admin.list_topics()
            print("wrong", conf["sasl_mechanism"], "accepted")
        except KafkaError as e:
            # kafka-python retries a refused bootstrap until its deadline and then reports the
            # timeout; it also drops a response that arrives with the close (its transport
            # aborts on EOF before handing over the bytes read with it), so the broker's log
            # is where the refusal is checked.
            print("wrong", conf["sasl_mechanism"], type(e).__name__)
        continue
    conf = sasl(spec)
    mechanism = conf["sasl_mechanism"]
    topic = "py-" + mechanism.lower()
    admin = KafkaAdminClient(**conf)
    admin.create_topics([NewTopic(topic, 1, 1)])
    producer = KafkaProducer(acks="all", **conf)
    for i in range(3):
        producer.send(topic, key=b"k%d" % i, value=b"%s-%d" % (mechanism.encode(), i)).get(
            timeout=10
        )
    producer.close()
    consumer = KafkaConsumer(
        topic,
        group_id="py-sasl-" + mechanism.lower(),
        auto_offset_reset="earliest",
        consumer_timeout_ms=15000,
        **conf
    )
    got = []
    for m in consumer:
        got.append("%d=%s" % (m.offset, m.value.decode()))
        if len(got) == 3:
            break
    consumer.close()
    admin.close()
    print("consumed", mechanism, conf["sasl_plain_username"], " ".join(got))
print("done")
