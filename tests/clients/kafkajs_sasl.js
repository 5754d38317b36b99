// kafkajs over SASL_PLAINTEXT against minikafka: for each MECHANISM:USER:PASSWORD argument,
// create a topic, produce and consume it back; for each wrong=MECHANISM:USER:PASSWORD, the
// refusal kafkajs reports; for each reauth=MECHANISM:USER:PASSWORD (a broker with 1.5 s
// sessions), one producer sending 2.5 s apart, and how many times it authenticated. One JSON
// line per step.
const { Kafka, logLevel } = require('kafkajs');

const broker = process.argv[2];

// kafkajs says at debug level each time an authentication succeeds.
let authentications = 0;
const logCreator = () => ({ log }) => {
  if (/authentication successful|SCRAM.* successful/.test(log.message)) authentications += 1;
};

function client(spec, retries) {
  const [mechanism, username, ...rest] = spec.split(':');
  return [
    mechanism,
    username,
    new Kafka({
      clientId: 'kjs-sasl',
      brokers: [broker],
      logLevel: logLevel.DEBUG,
      logCreator,
      sasl: { mechanism: mechanism.toLowerCase(), username, password: rest.join(':') },
      retry: { retries },
      // Renew a session once less than this is left of it (the broker's are 1.5 s).
      reauthenticationThreshold: 1000,
    }),
  ];
}

(async () => {
  for (const arg of process.argv.slice(3)) {
    if (arg.startsWith('wrong=')) {
      const [mechanism, , kafka] = client(arg.slice('wrong='.length), 0);
      const admin = kafka.admin();
      try {
        await admin.connect();
        console.log(JSON.stringify({ wrong: mechanism, accepted: true }));
      } catch (e) {
        console.log(JSON.stringify({ wrong: mechanism, error: e.name, message: e.message }));
      }
      await admin.disconnect();
      continue;
    }
    if (arg.startsWith('reauth=')) {
      const [mechanism, , kafka] = client(arg.slice('reauth='.length), 0);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'js-reauth', numPartitions: 1 }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const before = authentications;
      const offsets = [];
      for (let i = 0; i < 3; i++) {
        // The scenario itself: each record after the session it would have used has ended.
        if (i > 0) await new Promise((r) => setTimeout(r, 2500));
        const [meta] = await producer.send({ topic: 'js-reauth', messages: [{ value: 'r' + i }] });
        offsets.push(meta.baseOffset);
      }
      await producer.disconnect();
      console.log(JSON.stringify({ reauth: mechanism, offsets, renewed: authentications - before >= 2 }));
      continue;
    }
    const [mechanism, username, kafka] = client(arg, 5);
    const topic = 'js-' + mechanism.toLowerCase();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [0, 1, 2].map((i) => ({ key: 'k' + i, value: mechanism + '-' + i })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'js-sasl-' + mechanism.toLowerCase() });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got = [];
    await new Promise((done) => {
      consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message.offset + '=' + message.value.toString());
          if (got.length === 3) done();
        },
      });
    });
    await consumer.disconnect();
    await admin.disconnect();
    console.log(JSON.stringify({ consumed: mechanism, user: username, records: got }));
  }
  console.log(JSON.stringify({ done: true }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
