// A kafkajs session against minikafka: admin, an idempotent gzip producer with headers, a
// consumer group, committed offsets, describeGroups and topic offsets. One JSON line per step.
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

const kafka = new Kafka({ clientId: 'kjs', brokers: [process.argv[2]], logLevel: logLevel.NOTHING });

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'js-topic', numPartitions: 2 }] });
  console.log(JSON.stringify({ topics: (await admin.listTopics()).sort() }));

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  await producer.send({
    topic: 'js-topic',
    compression: CompressionTypes.GZIP,
    messages: [0, 1, 2, 3].map((i) => ({ key: 'k' + i, value: 'v' + i, partition: i % 2, headers: { h: 'x' + i } })),
  });

  const consumer = kafka.consumer({ groupId: 'js-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'js-topic', fromBeginning: true });
  const got = [];
  await new Promise((done) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push([partition, Number(message.offset), message.value.toString(), message.headers.h.toString()]);
        if (got.length === 4) done();
      },
    });
  });
  await consumer.disconnect();
  got.sort();
  console.log(JSON.stringify({ consumed: got }));

  const offsets = await admin.fetchOffsets({ groupId: 'js-group', topics: ['js-topic'] });
  console.log(JSON.stringify({ committed: offsets[0].partitions.map((p) => [p.partition, p.offset]).sort() }));
  const groups = await admin.describeGroups(['js-group']);
  console.log(JSON.stringify({ group: [groups.groups[0].state, groups.groups[0].protocolType] }));
  const watermarks = await admin.fetchTopicOffsets('js-topic');
  console.log(JSON.stringify({ watermarks: watermarks.map((w) => [w.partition, w.low, w.high]).sort() }));

  await producer.disconnect();
  await admin.disconnect();
})().catch((e) => {
  console.error('FAIL', e);
  process.exit(1);
});
