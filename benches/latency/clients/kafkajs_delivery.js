// The load of issue 13 with kafkajs: RECORDS records of 100 B to a new 3-partition topic, then
// every record consumed. Run by hand, not by cargo bench:
//   npm install --prefix /tmp/kjs kafkajs@2.2.4
//   NODE_PATH=/tmp/kjs/node_modules node kafkajs_delivery.js 127.0.0.1:9092 TOPIC 1 200000
// kafkajs has no linger: a producer sends what one send() call holds. A steady client sends
// batches of BATCH records, IN_FLIGHT calls at a time, each record timed to its call's answer.
const { Kafka, logLevel } = require('kafkajs');
const [bs, topic, acks, n] = [process.argv[2], process.argv[3], process.argv[4], Number(process.argv[5])];
const BATCH = 1000, IN_FLIGHT = 8;
const kafka = new Kafka({ clientId: 'kjs-bench', brokers: [bs], logLevel: logLevel.NOTHING });
(async () => {
  const admin = kafka.admin(); await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }); await admin.disconnect();
  const producer = kafka.producer(); await producer.connect();
  const value = Buffer.alloc(100, 'x');
  const lat = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  async function worker() {
    while (next < n) {
      const count = Math.min(BATCH, n - next); next += count;
      const messages = Array.from({ length: count }, () => ({ value }));
      const t = process.hrtime.bigint();
      await producer.send({ topic, acks: acks === 'all' ? -1 : 1, messages });
      const d = Number(process.hrtime.bigint() - t) / 1e6;
      for (let i = 0; i < count; i++) lat.push(d);
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const el = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  const q = (x) => lat[Math.min(lat.length - 1, Math.floor(x * lat.length))].toFixed(1);
  let line = `${topic} acks=${acks} ${(n / el / 1e3).toFixed(0)}k msgs/s p50 ${q(0.5)} p99 ${q(0.99)} p99.9 ${q(0.999)} max ${lat[lat.length - 1].toFixed(1)} ms`;
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: 'kjs-bench-' + topic, maxBytes: 10485760 }); await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0, t1 = null;
  await new Promise((done) => consumer.run({ eachBatch: async ({ batch }) => {
    if (t1 === null) t1 = process.hrtime.bigint();
    got += batch.messages.length; if (got >= n) done();
  } }));
  line += ` consume ${(n / (Number(process.hrtime.bigint() - t1) / 1e9) / 1e3).toFixed(0)}k/s`;
  console.log(line);
  await consumer.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
