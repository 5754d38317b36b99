// kafkajs transactions: a transactional producer commits, aborts, and commits again with a
// group's offsets (sendOffsets); a second instance with the same transactionalId fences the
// first mid-transaction, and the first one's commit fails. read_committed and
// read_uncommitted consumers then read the partition. One JSON line per step; the same
// session runs against Kafka and the transcripts are compared.
const { Kafka, logLevel } = require('kafkajs');

const TOPIC = 'js-txn';
const kafka = new Kafka({ clientId: 'kjs-txn', brokers: [process.argv[2]], logLevel: logLevel.NOTHING });

function txnProducer() {
  return kafka.producer({ transactionalId: 'js-txn-id', maxInFlightRequests: 1, idempotent: true });
}

async function transaction(producer, values, outcome, offsets) {
  const txn = await producer.transaction();
  await txn.send({ topic: TOPIC, messages: values.map((v) => ({ key: v, value: v, partition: 0 })) });
  if (offsets) {
    await txn.sendOffsets({ consumerGroupId: 'js-txn-group', topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: offsets }] }] });
  }
  await (outcome === 'commit' ? txn.commit() : txn.abort());
  console.log(JSON.stringify({ txn: values, outcome }));
}

// Reads partition 0 from the start until `last` (a value) is seen; returns [offset, value] pairs.
async function readAll(readUncommitted, last) {
  const consumer = kafka.consumer({ groupId: 'js-reader-' + readUncommitted, readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const got = [];
  await new Promise((done) => {
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        got.push([Number(message.offset), message.value.toString()]);
        if (message.value.toString() === last) done();
      },
    });
  });
  await consumer.disconnect();
  return got;
}

// Kafka answers NOT_COORDINATOR while it loads a new offsets topic, and neither sendOffsets nor
// the admin retries that: polls (with a deadline) until the group's coordinator serves.
async function untilCoordinator(admin) {
  for (let i = 0; ; i++) {
    try {
      return await admin.fetchOffsets({ groupId: 'js-txn-group', topics: [TOPIC] });
    } catch (e) {
      if (i === 100 || !e.retriable) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
  await untilCoordinator(admin);

  const producer = txnProducer();
  await producer.connect();
  await transaction(producer, ['a0', 'a1'], 'commit');
  await transaction(producer, ['b0', 'b1'], 'abort');
  await transaction(producer, ['c0', 'c1'], 'commit', '2');

  // The zombie: its transaction has a record in the log when the second instance starts.
  const zombie = await producer.transaction();
  await zombie.send({ topic: TOPIC, messages: [{ key: 'd0', value: 'd0', partition: 0 }] });
  const successor = txnProducer();
  await successor.connect();
  // kafkajs sends the transactional InitProducerId with the first transaction(): that fences.
  const next = await successor.transaction();
  try {
    await zombie.commit();
    console.log(JSON.stringify({ zombie: 'committed' }));
  } catch (e) {
    console.log(JSON.stringify({ zombie: e.type || e.name }));
  }
  await next.send({ topic: TOPIC, messages: [{ key: 'e0', value: 'e0', partition: 0 }] });
  await next.commit();
  console.log(JSON.stringify({ txn: ['e0'], outcome: 'commit' }));

  console.log(JSON.stringify({ read_committed: await readAll(false, 'e0') }));
  console.log(JSON.stringify({ read_uncommitted: await readAll(true, 'e0') }));
  const offsets = await admin.fetchOffsets({ groupId: 'js-txn-group', topics: [TOPIC] });
  console.log(JSON.stringify({ group_offsets: offsets[0].partitions.map((p) => [p.partition, p.offset]) }));
  const watermarks = await admin.fetchTopicOffsets(TOPIC);
  console.log(JSON.stringify({ watermarks: watermarks.map((w) => [w.partition, w.low, w.high]) }));

  await successor.disconnect();
  await producer.disconnect().catch(() => {});
  await admin.disconnect();
})().catch((e) => {
  console.error('FAIL', e);
  process.exit(1);
});
