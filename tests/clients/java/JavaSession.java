// A whole session of Apache Kafka's own Java client (kafka-clients) against one broker, given
// as the only argument: admin, idempotent and plain producers with every codec and acks
// setting, a classic-protocol consumer group that reads everything back, offset look-ups, and
// rebalances (eager, then cooperative) when a second member joins, and the admin calls around
// them (topic configs, createPartitions, group and offset deletion, deleteRecords, log dirs),
// then transactions and the admin's view of them (describeTransactions, listTransactions,
// describeProducers).
// It checks what it reads back itself (a mismatch throws, so the JVM exits non-zero) and
// prints result lines that do not depend on the broker's ids, so two brokers can be compared
// line by line. Timings go to stderr.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class JavaSession {
    static final String TOPIC = "java-topic";
    static final String OTHER = "java-other";
    static final String REBAL = "java-rebal";
    static final String GROUP = "java-group";
    static final String REBAL_GROUP = "java-rebal-group";
    static final String COOP_GROUP = "java-coop-group";
    static final String CONF = "java-conf";
    static final String GROW = "java-grow";
    static final String COMPACTED = "java-compacted";
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};
    static final String[] ACKS = {"0", "1", "all"};
    static final int PARTITIONS = 3;
    static final int PER_PRODUCER = 6;
    static final int TOTAL = CODECS.length * ACKS.length * PER_PRODUCER;
    static final long T0 = 1_700_000_000_000L;
    static final Duration DEADLINE = Duration.ofSeconds(60);

    static String bootstrap;
    static Admin admin;
    static long started = System.nanoTime();

    public static void main(String[] args) {
        try {
            session(args[0]);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        // A clean exit even if a client thread lingers.
        System.exit(0);
    }

    static void session(String bootstrapServers) throws Exception {
        bootstrap = bootstrapServers;
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        ap.put(AdminClientConfig.CLIENT_ID_CONFIG, "java-admin");
        admin = Admin.create(ap);
        try {
            adminTopics();
            phase("admin");
            produceAll();
            phase("produce");
            consumeGroup();
            phase("consume");
            groupAdmin();
            logAdmin();
            phase("group-and-log-admin");
            configAdmin();
            growTopic();
            compacted();
            phase("config-admin");
            rebalance();
            cooperativeRebalance();
            phase("rebalance");
            deleteTopic();
            phase("delete");
            transactions();
            phase("transactions");
            transactionAdmin();
            phase("transaction-admin");
        } finally {
            admin.close(Duration.ofSeconds(10));
        }
        out("done");
    }

    // ---------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------

    static void adminTopics() throws Exception {
        admin.createTopics(List.of(
                new NewTopic(TOPIC, PARTITIONS, (short) 1),
                new NewTopic(OTHER, 1, (short) 1),
                new NewTopic(REBAL, 4, (short) 1))).all().get(30, TimeUnit.SECONDS);
        // Creating again answers TOPIC_ALREADY_EXISTS.
        try {
            admin.createTopics(List.of(new NewTopic(OTHER, 1, (short) 1))).all().get();
            throw new AssertionError("a second create of " + OTHER + " succeeded");
        } catch (java.util.concurrent.ExecutionException e) {
            out("create-again " + e.getCause().getClass().getSimpleName());
        }
        waitFor("topics listed", () -> listTopics().containsAll(List.of(TOPIC, OTHER, REBAL)));
        out("topics " + listTopics());

        Map<String, TopicDescription> d = admin.describeTopics(List.of(TOPIC, OTHER, REBAL),
                new DescribeTopicsOptions().includeAuthorizedOperations(true)).allTopicNames().get();
        out("authorized " + new TreeSet<>(d.get(TOPIC).authorizedOperations()));
        for (String name : new TreeSet<>(d.keySet())) {
            TopicDescription td = d.get(name);
            check(!td.topicId().equals(Uuid.ZERO_UUID), "a topic id for " + name);
            check(!td.isInternal(), name + " is not internal");
            for (TopicPartitionInfo p : td.partitions()) {
                out("describe " + name + " " + p.partition() + " leader=" + p.leader().id()
                        + " replicas=" + ids(p.replicas()) + " isr=" + ids(p.isr()));
            }
        }
        try {
            admin.describeTopics(List.of("java-missing")).allTopicNames().get();
            throw new AssertionError("describing a missing topic succeeded");
        } catch (java.util.concurrent.ExecutionException e) {
            out("describe-missing " + e.getCause().getClass().getSimpleName());
        }

        DescribeClusterResult c = admin.describeCluster();
        Collection<Node> nodes = c.nodes().get();
        String clusterId = c.clusterId().get();
        check(clusterId != null && !clusterId.isEmpty(), "a cluster id");
        out("cluster nodes=" + ids(new ArrayList<>(nodes)) + " controller=" + c.controller().get().id()
                + " host=" + nodes.iterator().next().host());

        ConfigResource topicRes = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
        ConfigResource brokerRes = new ConfigResource(ConfigResource.Type.BROKER, "1");
        Map<ConfigResource, Config> configs =
                admin.describeConfigs(List.of(topicRes, brokerRes)).all().get();
        // The keys whose values and sources both brokers should agree on.
        for (String key : List.of("cleanup.policy", "compression.type", "max.message.bytes",
                "message.timestamp.type", "min.insync.replicas", "retention.ms", "segment.bytes")) {
            ConfigEntry e = configs.get(topicRes).get(key);
            check(e != null, "topic config " + key);
            out("config topic " + key + "=" + e.value() + " " + e.source());
        }
        for (String key : List.of("group.initial.rebalance.delay.ms", "message.max.bytes",
                "num.partitions", "log.segment.bytes")) {
            ConfigEntry e = configs.get(brokerRes).get(key);
            check(e != null, "broker config " + key);
            out("config broker " + key + "=" + e.value() + " " + e.source());
        }
    }

    /** OffsetDelete and DeleteGroups on the group consumeGroup left empty. */
    static void groupAdmin() throws Exception {
        admin.deleteConsumerGroupOffsets(GROUP, Set.of(new TopicPartition(TOPIC, 1))).all().get();
        out("offsets-deleted " + offsets(admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get()));
        admin.deleteConsumerGroups(List.of(GROUP)).all().get();
        out("group-deleted offsets=" + offsets(admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get()));
        out("delete-group-again " + failure(admin.deleteConsumerGroups(List.of(GROUP)).all()));
    }

    /** Topic configs: created with the topic, altered incrementally, read back with synonyms. */
    static void configAdmin() throws Exception {
        CreateTopicsResult created = admin.createTopics(List.of(new NewTopic(CONF, 1, (short) 1)
                .configs(Map.of("cleanup.policy", "compact", "retention.ms", "86400000",
                        "segment.bytes", "1048576"))));
        created.all().get();
        // CreateTopics v5+ answers with the new topic's configs.
        Config answered = created.config(CONF).get();
        for (String key : List.of("cleanup.policy", "retention.ms", "segment.bytes")) {
            out("created-config " + entry(answered.get(key), false));
        }
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, CONF);
        admin.incrementalAlterConfigs(Map.of(res, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("segment.bytes", ""), AlterConfigOp.OpType.DELETE),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"),
                        AlterConfigOp.OpType.APPEND)))).all().get();
        // Kafka's broker applies what its controller committed a moment later.
        waitFor("altered configs", () -> topicConfig(res).get("retention.ms").value().equals("3600000"));
        Config altered = topicConfig(res);
        for (String key : List.of("cleanup.policy", "retention.ms", "segment.bytes")) {
            out("altered-config " + entry(altered.get(key), true));
        }
        out("invalid-config " + failure(admin.incrementalAlterConfigs(Map.of(res, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "soon"),
                        AlterConfigOp.OpType.SET)))).all()));
    }

    /**
     * A compacted topic: a record without a key is refused; keyed records (lz4, several
     * rounds of overwrites and a tombstone) read back as the latest value of each key, however
     * far each broker's cleaner has got.
     */
    static void compacted() throws Exception {
        admin.createTopics(List.of(new NewTopic(COMPACTED, 1, (short) 1).configs(Map.of(
                "cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.01",
                "segment.ms", "100")))).all().get();
        Properties plain = new Properties();
        plain.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        plain.put(ProducerConfig.ACKS_CONFIG, "1");
        plain.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        plain.put(ProducerConfig.RETRIES_CONFIG, "0");
        try (KafkaProducer<String, String> p =
                new KafkaProducer<>(plain, new StringSerializer(), new StringSerializer())) {
            try {
                p.send(new ProducerRecord<>(COMPACTED, 0, null, "no key")).get();
                throw new AssertionError("a record without a key was taken");
            } catch (java.util.concurrent.ExecutionException e) {
                out("compacted-keyless " + e.getCause().getClass().getSimpleName() + ": "
                        + e.getCause().getMessage());
            }
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int round = 0; round < 4; round++) {
                for (int k = 0; k < 5; k++) {
                    // A second apart: past segment.ms, so each round starts a segment.
                    producer.send(new ProducerRecord<>(COMPACTED, 0, T0 + round * 1000L, "ck" + k,
                            "v" + round + "-" + k)).get();
                }
            }
            producer.send(new ProducerRecord<String, String>(COMPACTED, 0, T0 + 4000L, "ck4", (String) null)).get();
        }
        TopicPartition tp = new TopicPartition(COMPACTED, 0);
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, String> latest = new TreeMap<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.currentTimeMillis() + DEADLINE.toMillis();
            while (consumer.position(tp) < end) {
                check(System.currentTimeMillis() < deadline, "compacted topic read to its end");
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    latest.put(r.key(), String.valueOf(r.value()));
                }
            }
            out("compacted-latest end=" + end + " " + latest);
        }
    }

    static Config topicConfig(ConfigResource res) {
        try {
            return admin.describeConfigs(List.of(res), new DescribeConfigsOptions()
                    .includeSynonyms(true)).all().get().get(res);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static String entry(ConfigEntry e, boolean synonyms) {
        String s = e.name() + "=" + e.value() + " " + e.source();
        if (!synonyms) return s;
        List<String> syn = new ArrayList<>();
        for (ConfigEntry.ConfigSynonym y : e.synonyms()) {
            syn.add(y.name() + "=" + y.value() + ":" + y.source());
        }
        return s + " synonyms=" + syn;
    }

    /** CreatePartitions: grow a topic, fail to shrink it, and use a new partition. */
    static void growTopic() throws Exception {
        admin.createTopics(List.of(new NewTopic(GROW, 1, (short) 1))).all().get();
        admin.createPartitions(Map.of(GROW, NewPartitions.increaseTo(3))).all().get();
        waitFor("three partitions", () -> {
            try {
                return admin.describeTopics(List.of(GROW)).allTopicNames().get().get(GROW)
                        .partitions().size() == 3;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        out("grown " + GROW + " to 3");
        out("shrink " + failure(admin.createPartitions(Map.of(GROW, NewPartitions.increaseTo(2))).all()));
        TopicPartition p2 = new TopicPartition(GROW, 2);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "java-producer-grow");
        RecordMetadata m;
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            m = producer.send(new ProducerRecord<>(GROW, 2, "g", "new partition")).get();
        }
        try (KafkaConsumer<String, String> c = consumer("java-grow-reader", "java-grow-reader")) {
            c.assign(List.of(p2));
            c.seekToBeginning(List.of(p2));
            ConsumerRecord<String, String> r = firstRecord(c, p2);
            out("grown produced " + m.partition() + "@" + m.offset() + " consumed "
                    + r.partition() + "@" + r.offset() + "=" + r.key() + ":" + r.value());
        }
    }

    /** The exception a call failed with, and its message. */
    static String failure(KafkaFuture<?> f) {
        try {
            f.get();
            throw new AssertionError("succeeded, expected to fail");
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage();
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    /** DeleteRecords and DescribeLogDirs, after the group has read everything. */
    static void logAdmin() throws Exception {
        TopicPartition p0 = new TopicPartition(TOPIC, 0);
        var deleted = admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(2)))
                .lowWatermarks().get(p0).get();
        var earliest = admin.listOffsets(Map.of(p0, OffsetSpec.earliest())).all().get().get(p0);
        out("delete-records low-watermark=" + deleted.lowWatermark() + " earliest="
                + earliest.offset());
        var dirs = admin.describeLogDirs(List.of(1)).allDescriptions().get().get(1);
        check(dirs.size() == 1, "one log dir");
        LogDirDescription dir = dirs.values().iterator().next();
        List<String> parts = new ArrayList<>();
        for (var e : dir.replicaInfos().entrySet()) {
            if (!e.getKey().topic().equals(TOPIC)) continue;
            // Sizes depend on how the producers batched: only that there are bytes is compared.
            parts.add(e.getKey().partition() + ":" + (e.getValue().size() > 0) + "/lag="
                    + e.getValue().offsetLag() + "/future=" + e.getValue().isFuture());
        }
        Collections.sort(parts);
        out("log-dirs " + dirs.size() + " error=" + dir.error() + " " + TOPIC + " " + parts
                + " volume=" + (dir.totalBytes().orElse(-1) > 0) + "/"
                + (dir.usableBytes().orElse(-1) > 0));
    }

    static List<String> listTopics() {
        try {
            return new ArrayList<>(new TreeSet<>(admin.listTopics().names().get()));
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static void deleteTopic() throws Exception {
        admin.deleteTopics(List.of(OTHER, CONF, GROW, COMPACTED)).all().get(30, TimeUnit.SECONDS);
        waitFor("deleted topics gone", () -> !listTopics().contains(OTHER)
                && !listTopics().contains(CONF) && !listTopics().contains(GROW)
                && !listTopics().contains(COMPACTED));
        out("after-delete " + listTopics());
    }

    // ---------------------------------------------------------------------------------------
    // Producers: every codec with every acks setting; idempotent where acks=all
    // ---------------------------------------------------------------------------------------

    /** The g-th record of the session, all of whose fields derive from g. */
    static int partitionOf(int g) { return g % PARTITIONS; }
    static String keyOf(int g) { return "k" + g; }
    static long tsOf(int g) { return T0 + g * 1000L; }
    static String valueOf(int g, String codec, String acks) {
        // Repetitive, so that each codec has something to compress.
        return "value " + g + " codec " + codec + " acks " + acks + " " + "abc".repeat(40);
    }
    static RecordHeaders headersOf(int g, String codec) {
        RecordHeaders h = new RecordHeaders();
        h.add("codec", codec.getBytes(StandardCharsets.UTF_8));
        h.add("seq", Integer.toString(g).getBytes(StandardCharsets.UTF_8));
        h.add("empty", null);
        h.add("seq", ("again-" + g).getBytes(StandardCharsets.UTF_8));
        return h;
    }

    static void produceAll() throws Exception {
        long[] next = new long[PARTITIONS];
        int g = 0;
        for (String codec : CODECS) {
            for (String acks : ACKS) {
                boolean idempotent = acks.equals("all");
                Properties p = new Properties();
                p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                p.put(ProducerConfig.ACKS_CONFIG, acks);
                p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
                p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(idempotent));
                p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
                p.put(ProducerConfig.CLIENT_ID_CONFIG, "java-producer-" + codec + "-" + acks);
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                List<Integer> gs = new ArrayList<>();
                try (KafkaProducer<String, String> producer =
                        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < PER_PRODUCER; i++, g++) {
                        sent.add(producer.send(new ProducerRecord<>(TOPIC, partitionOf(g), tsOf(g),
                                keyOf(g), valueOf(g, codec, acks), headersOf(g, codec))));
                        gs.add(g);
                    }
                    producer.flush();
                    StringBuilder line = new StringBuilder("produced " + codec + " acks=" + acks
                            + " idempotent=" + idempotent + " at");
                    for (int i = 0; i < sent.size(); i++) {
                        RecordMetadata m = sent.get(i).get();
                        int pg = gs.get(i);
                        long expected = next[partitionOf(pg)]++;
                        check(m.partition() == partitionOf(pg), "partition of record " + pg);
                        check(m.timestamp() == tsOf(pg), "timestamp of record " + pg);
                        // acks=0 learns no offset.
                        long offset = acks.equals("0") ? -1 : expected;
                        check(m.offset() == offset,
                                "offset of record " + pg + ": " + m.offset() + " != " + offset);
                        line.append(" ").append(m.partition()).append("@").append(m.offset());
                    }
                    out(line.toString());
                }
                // acks=0 gets no answer: wait until the broker has appended before the next
                // producer, so that each partition's order is the order of the session.
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                for (int q = 0; q < PARTITIONS; q++) latest.put(new TopicPartition(TOPIC, q), OffsetSpec.latest());
                waitFor("appended by " + codec + "/" + acks, () -> {
                    try {
                        var r = admin.listOffsets(latest).all().get();
                        for (int q = 0; q < PARTITIONS; q++) {
                            if (r.get(new TopicPartition(TOPIC, q)).offset() != next[q]) return false;
                        }
                        return true;
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
            }
        }
        out("end-offsets " + Arrays.toString(next));
    }

    // ---------------------------------------------------------------------------------------
    // A consumer group member that reads everything back
    // ---------------------------------------------------------------------------------------

    static Properties consumerProps(String group, String clientId) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "200");
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7");
        return c;
    }

    static KafkaConsumer<String, String> consumer(String group, String clientId) {
        return new KafkaConsumer<>(consumerProps(group, clientId),
                new StringDeserializer(), new StringDeserializer());
    }

    /** Checks a record read back against the g it was produced as; returns a printable line. */
    static String verify(ConsumerRecord<String, String> r) {
        int g = Integer.parseInt(r.key().substring(1));
        int n = g / PER_PRODUCER;
        String codec = CODECS[n / ACKS.length];
        String acks = ACKS[n % ACKS.length];
        check(r.partition() == partitionOf(g), "partition of " + r);
        check(r.value().equals(valueOf(g, codec, acks)), "value of " + r);
        check(r.timestamp() == tsOf(g), "timestamp of " + r);
        check(r.timestampType() == TimestampType.CREATE_TIME, "timestamp type of " + r);
        // The leader stamps its epoch (0 for a new topic) on every batch it appends.
        check(r.leaderEpoch().equals(Optional.of(0)), "leader epoch of " + r);
        Header[] want = headersOf(g, codec).toArray();
        Header[] got = r.headers().toArray();
        check(want.length == got.length, "header count of " + r);
        for (int i = 0; i < want.length; i++) {
            check(want[i].key().equals(got[i].key())
                    && Arrays.equals(want[i].value(), got[i].value()), "header " + i + " of " + r);
        }
        return r.partition() + "@" + r.offset() + "=" + r.key();
    }

    static void consumeGroup() throws Exception {
        try (KafkaConsumer<String, String> c = consumer(GROUP, "java-consumer")) {
            c.subscribe(List.of(TOPIC));
            Map<Integer, List<String>> byPartition = new TreeMap<>();
            Map<Integer, Integer> lastG = new HashMap<>();
            int[] count = {0};
            waitFor("all records consumed", () -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    String line = verify(r);
                    int g = Integer.parseInt(r.key().substring(1));
                    // Within a partition the session's order, with no gap in offsets.
                    Integer prev = lastG.put(r.partition(), g);
                    check(prev == null ? g == r.partition() : g == prev + PARTITIONS,
                            "order in partition " + r.partition() + ": " + prev + " then " + g);
                    List<String> seen = byPartition.computeIfAbsent(r.partition(), k -> new ArrayList<>());
                    check(r.offset() == seen.size(), "offset " + r.offset() + " in " + r.partition());
                    seen.add(line);
                    count[0]++;
                }
                return count[0] >= TOTAL;
            });
            check(count[0] == TOTAL, "exactly " + TOTAL + " records, got " + count[0]);
            for (var e : byPartition.entrySet()) {
                out("consumed " + e.getKey() + " " + String.join(" ", e.getValue()));
            }
            out("assignment " + sorted(c.assignment()));

            c.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(c.assignment());
            out("committed " + offsets(committed));
            // With metadata and no leader epoch, then read back whole.
            TopicPartition first = new TopicPartition(TOPIC, 0);
            c.commitSync(Map.of(first, new OffsetAndMetadata(29, Optional.empty(), "java-meta")));
            OffsetAndMetadata om = c.committed(Set.of(first)).get(first);
            out("committed-with-metadata " + om.offset() + " " + om.leaderEpoch() + " " + om.metadata());
            c.commitSync(Map.of(first, new OffsetAndMetadata(30)));
            om = c.committed(Set.of(first)).get(first);
            out("committed-again " + om.offset() + " " + om.leaderEpoch() + " '" + om.metadata() + "'");
            out("partitions-for " + c.partitionsFor(TOPIC).size());
            List<String> topics = new ArrayList<>();
            for (var e : c.listTopics().entrySet()) topics.add(e.getKey() + ":" + e.getValue().size());
            Collections.sort(topics);
            out("consumer-topics " + topics);

            TopicPartition p0 = new TopicPartition(TOPIC, 0);
            TopicPartition p1 = new TopicPartition(TOPIC, 1);
            TopicPartition p2 = new TopicPartition(TOPIC, 2);
            c.seek(p1, 4);
            out("position after seek " + c.position(p1));
            out("seek 1@4 -> " + verify(firstRecord(c, p1)));
            c.seekToBeginning(List.of(p0));
            out("position after seek-to-beginning " + c.position(p0));
            out("seek-to-beginning 0 -> " + verify(firstRecord(c, p0)));

            // Partition 2 holds records 2 and 5 in one uncompressed batch (offsets 0 and 1),
            // then 38 and 41 in one snappy batch (offsets 12 and 13). Look-ups inside the
            // first, at the start of the second, inside the second, and past the last record.
            for (long ts : new long[] {tsOf(5), tsOf(5) - 500, tsOf(38), tsOf(38) - 500, tsOf(41),
                    tsOf(TOTAL + 5)}) {
                OffsetAndTimestamp t = c.offsetsForTimes(Map.of(p2, ts)).get(p2);
                out("offsets-for-times " + (ts - T0) + " -> "
                        + (t == null ? "null" : t.offset() + " ts=" + (t.timestamp() - T0)));
            }
            List<TopicPartition> all = List.of(p0, p1, p2);
            out("beginning-offsets " + longs(c.beginningOffsets(all)));
            out("end-offsets " + longs(c.endOffsets(all)));

            // The admin's view of the group while its member is still in it.
            describeGroup(GROUP);
            out("groups " + listGroups());
            // A group with a member may be neither deleted nor lose its subscribed offsets.
            out("delete-active-group " + failure(admin.deleteConsumerGroups(List.of(GROUP)).all()));
            out("delete-subscribed-offsets " + failure(
                    admin.deleteConsumerGroupOffsets(GROUP, Set.of(p0)).all()));
        }
        waitFor("group empty", () -> describe(GROUP).groupState() == GroupState.EMPTY);
        describeGroup(GROUP);
        out("group-offsets " + offsets(admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get()));
        // An admin may move the offsets of a group without members.
        TopicPartition p1 = new TopicPartition(TOPIC, 1);
        admin.alterConsumerGroupOffsets(GROUP, Map.of(p1, new OffsetAndMetadata(10, "moved")))
                .all().get();
        OffsetAndMetadata moved = admin.listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata().get().get(p1);
        out("group-offsets-altered " + moved.offset() + " " + moved.metadata());

        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        specs.put(new TopicPartition(TOPIC, 0), OffsetSpec.earliest());
        specs.put(p1, OffsetSpec.latest());
        specs.put(new TopicPartition(TOPIC, 2), OffsetSpec.forTimestamp(tsOf(5)));
        List<String> listed = new ArrayList<>();
        for (var e : admin.listOffsets(specs).all().get().entrySet()) {
            listed.add(e.getKey() + "=" + e.getValue().offset() + "@" + e.getValue().timestamp()
                    + "/" + e.getValue().leaderEpoch());
        }
        Collections.sort(listed);
        out("admin-list-offsets " + listed);
    }

    /** The first record of `tp` that polling brings (others' records are let go). */
    static ConsumerRecord<String, String> firstRecord(KafkaConsumer<String, String> c, TopicPartition tp) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        waitFor("a record of " + tp, () -> {
            got.addAll(c.poll(Duration.ofMillis(100)).records(tp));
            return !got.isEmpty();
        });
        return got.get(0);
    }

    static ConsumerGroupDescription describe(String group) {
        try {
            return admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static void describeGroup(String group) {
        ConsumerGroupDescription d = describe(group);
        check(d.coordinator().id() == 1, "coordinator of " + group);
        List<String> members = new ArrayList<>();
        for (MemberDescription m : d.members()) {
            check(m.consumerId().startsWith(m.clientId() + "-"), "member id " + m.consumerId());
            members.add(m.clientId() + ":" + sorted(m.assignment().topicPartitions()));
        }
        Collections.sort(members);
        out("group " + group + " state=" + d.groupState() + " type=" + d.type()
                + " assignor=" + d.partitionAssignor() + " simple=" + d.isSimpleConsumerGroup()
                + " members=" + members);
    }

    static List<String> listGroups() throws Exception {
        List<String> groups = new ArrayList<>();
        for (GroupListing g : admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get()) {
            groups.add(g.groupId() + ":" + g.groupState().map(Object::toString).orElse("?")
                    + ":" + g.type().map(Object::toString).orElse("?") + ":" + g.protocol());
        }
        Collections.sort(groups);
        return groups;
    }

    // ---------------------------------------------------------------------------------------
    // A rebalance: a second member joins a group that has one
    // ---------------------------------------------------------------------------------------

    static class Member implements ConsumerRebalanceListener {
        final String name;
        final KafkaConsumer<String, String> consumer;
        final List<String> events = new ArrayList<>();
        final Map<TopicPartition, Long> consumed = new HashMap<>();
        final List<String> records = new ArrayList<>();

        Member(String name) {
            this(name, REBAL_GROUP, RangeAssignor.class);
        }

        Member(String name, String group, Class<?> assignor) {
            this.name = name;
            Properties c = consumerProps(group, name);
            c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, assignor.getName());
            consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
            consumer.subscribe(List.of(REBAL), this);
        }

        void poll() {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
                records.add(r.partition() + "@" + r.offset());
                consumed.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
            }
        }

        // Eager rebalancing: commit what was read before giving the partitions up, so the next
        // owner starts where this one stopped.
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            events.add("revoked " + sorted(parts));
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            for (TopicPartition tp : parts) {
                Long next = consumed.get(tp);
                if (next != null) commit.put(tp, new OffsetAndMetadata(next));
            }
            if (!commit.isEmpty()) consumer.commitSync(commit);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            events.add("assigned " + sorted(parts));
        }

        List<Integer> assigned() {
            return consumer.assignment().stream().map(TopicPartition::partition).sorted()
                    .collect(Collectors.toList());
        }
    }

    static void produceRebal(int from, int to) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "java-producer-rebal");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>(REBAL, i % 4, "r" + i, "rebal " + i));
            }
            producer.flush();
        }
    }

    /**
     * The same with incremental cooperative rebalancing (still the classic protocol): the first
     * member gives up only what moves, in a second rebalance, and keeps consuming the rest.
     */
    static void cooperativeRebalance() throws Exception {
        Member c1 = new Member("coop-1", COOP_GROUP, CooperativeStickyAssignor.class);
        Member c2 = null;
        try {
            waitFor("coop-1 reads the 40 records", () -> {
                c1.poll();
                return c1.assigned().size() == 4 && c1.records.size() == 40;
            });
            Member joined = new Member("coop-2", COOP_GROUP, CooperativeStickyAssignor.class);
            c2 = joined;
            waitFor("both cooperative members assigned", () -> {
                c1.poll();
                joined.poll();
                return c1.assigned().size() == 2 && joined.assigned().size() == 2;
            });
            out("cooperative after 1=" + c1.assigned() + " 2=" + joined.assigned());
            describeGroup(COOP_GROUP);
            produceRebal(40, 60);
            waitFor("all 60 consumed between them", () -> {
                c1.poll();
                joined.poll();
                return c1.records.size() + joined.records.size() >= 60;
            });
            Set<String> union = new TreeSet<>(c1.records);
            union.addAll(joined.records);
            check(union.size() == 60 && c1.records.size() + joined.records.size() == 60,
                    "60 records once each: " + c1.records + " " + joined.records);
            // How many rebalances a member sits through with nothing new depends on timing
            // (a sync may meet the next rebalance): only what moved is printed.
            out("cooperative 1-events " + moved(c1.events));
            out("cooperative 2-events " + moved(joined.events));
            out("cooperative consumed 1=" + c1.records.size() + " 2="
                    + joined.records.stream().sorted().collect(Collectors.toList()));
        } finally {
            c1.consumer.close();
            if (c2 != null) c2.consumer.close();
        }
    }

    static List<String> moved(List<String> events) {
        return events.stream().filter(e -> !e.endsWith(" []")).collect(Collectors.toList());
    }

    static void rebalance() throws Exception {
        produceRebal(0, 20);
        Member a = new Member("member-a");
        Member b = null;
        try {
            waitFor("member-a owns everything", () -> {
                a.poll();
                return a.assigned().size() == 4 && a.records.size() == 20;
            });
            out("rebalance before a=" + a.assigned());
            Member joined = new Member("member-b");
            b = joined;
            // Both poll in turn: the coordinator holds member-b's join until member-a rejoins.
            waitFor("both members assigned", () -> {
                a.poll();
                joined.poll();
                return !a.assigned().isEmpty() && !joined.assigned().isEmpty()
                        && a.assigned().size() + joined.assigned().size() == 4;
            });
            out("rebalance after a=" + a.assigned() + " b=" + joined.assigned());
            describeGroup(REBAL_GROUP);
            produceRebal(20, 40);
            waitFor("all 40 consumed between them", () -> {
                a.poll();
                joined.poll();
                return a.records.size() + joined.records.size() >= 40;
            });
            Set<String> union = new TreeSet<>(a.records);
            union.addAll(joined.records);
            check(union.size() == 40, "40 distinct records, got " + union.size());
            check(a.records.size() + joined.records.size() == 40, "no record read twice");
            Set<String> expected = new TreeSet<>();
            for (int part = 0; part < 4; part++)
                for (int off = 0; off < 10; off++) expected.add(part + "@" + off);
            check(union.equals(expected), "every offset 0..9 of every partition: " + union);
            out("rebalance a-events " + a.events);
            out("rebalance b-events " + joined.events);
            out("rebalance consumed a=" + a.records.size() + " b=" + joined.records.size()
                    + " b-first=" + joined.records.stream().sorted().collect(Collectors.toList()));
        } finally {
            a.consumer.close();
            if (b != null) b.consumer.close();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Transactions
    // ---------------------------------------------------------------------------------------

    /// A transactional producer commits, aborts and commits again, sending a group's offsets
    /// with each; read_committed reads the committed records only, the group keeps the
    /// committed offsets only.
    static void transactions() throws Exception {
        String topic = "java-txn";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        TopicPartition tp = new TopicPartition(topic, 0);
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "java-txn-id");
        try (KafkaProducer<String, String> p =
                new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            p.initTransactions();
            ConsumerGroupMetadata group = new ConsumerGroupMetadata("java-txn-group");
            for (String outcome : List.of("commit", "abort", "commit2")) {
                p.beginTransaction();
                for (int i = 0; i < 3; i++) {
                    p.send(new ProducerRecord<>(topic, 0, T0 + i, "k" + i, outcome + "-" + i));
                }
                // Sent before the abort: unsent batches would be dropped by it, how many
                // depending on the client's timing.
                p.flush();
                p.sendOffsetsToTransaction(
                        Map.of(tp, new OffsetAndMetadata(outcome.length())), group);
                if (outcome.equals("abort")) p.abortTransaction();
                else p.commitTransaction();
            }
        }
        out("txn-read-committed " + readAll(tp, "read_committed"));
        out("txn-read-uncommitted " + readAll(tp, "read_uncommitted"));
        out("txn-group-offsets " + offsets(admin.listConsumerGroupOffsets("java-txn-group")
                .partitionsToOffsetAndMetadata().get()));
    }

    /// The operator's view of a transaction while it is open and once committed:
    /// describeTransactions, listTransactions with each filter, describeProducers. Epochs
    /// and sequences after the commit are not printed: they depend on the transaction
    /// protocol version the broker offers (KIP-890 bumps the epoch at each commit).
    static void transactionAdmin() throws Exception {
        String topic = "java-ops";
        String id = "java-ops-id";
        admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        pp.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "45000");
        try (KafkaProducer<String, String> p =
                new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            p.initTransactions();
            p.beginTransaction();
            long before = System.currentTimeMillis();
            for (int i = 0; i < 3; i++) {
                p.send(new ProducerRecord<>(topic, 0, T0 + i, "k" + i, "ops-" + i)).get();
            }
            TransactionDescription d = admin.describeTransactions(List.of(id)).description(id).get();
            long started = d.transactionStartTimeMs().orElse(-1);
            out("ops-ongoing state=" + d.state() + " timeout=" + d.transactionTimeoutMs()
                    + " coordinator=" + d.coordinatorId() + " partitions=" + sorted(d.topicPartitions())
                    + " started-now=" + (started >= before - 1000 && started <= System.currentTimeMillis()));
            out("ops-list-ongoing " + listings(new ListTransactionsOptions()
                    .filterStates(List.of(TransactionState.ONGOING))));
            out("ops-list-pid " + listings(new ListTransactionsOptions()
                    .filterProducerIds(List.of(d.producerId()))));
            out("ops-list-empty " + listings(new ListTransactionsOptions()
                    .filterStates(List.of(TransactionState.EMPTY))
                    .filterProducerIds(List.of(d.producerId()))));
            out("ops-list-older " + listings(new ListTransactionsOptions()
                    .filterOnDuration(3_600_000).filterOnTransactionalIdPattern("java-ops-.*")));
            out("ops-list-pattern " + listings(new ListTransactionsOptions()
                    .filterOnTransactionalIdPattern("java-[a-z]+-id")));
            var states = admin.describeProducers(List.of(p0, p1)).all().get();
            List<String> producers = new ArrayList<>();
            for (TopicPartition tp : List.of(p0, p1)) {
                for (ProducerState ps : states.get(tp).activeProducers()) {
                    producers.add(tp + ":same-id=" + (ps.producerId() == d.producerId())
                            + " same-epoch=" + (ps.producerEpoch() == d.producerEpoch())
                            + " seq=" + ps.lastSequence() + " ts=T0+" + (ps.lastTimestamp() - T0)
                            + " coordinator-epoch=" + ps.coordinatorEpoch()
                            + " txn-start=" + ps.currentTransactionStartOffset());
                }
            }
            out("ops-producers-ongoing " + producers);
            p.commitTransaction();
            waitFor("transaction complete", () -> {
                try {
                    return admin.describeTransactions(List.of(id)).description(id).get().state()
                            == TransactionState.COMPLETE_COMMIT;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            d = admin.describeTransactions(List.of(id)).description(id).get();
            out("ops-committed state=" + d.state() + " partitions=" + sorted(d.topicPartitions())
                    + " same-start=" + (d.transactionStartTimeMs().orElse(-1) == started));
            ProducerState ps = admin.describeProducers(List.of(p0)).partitionResult(p0).get()
                    .activeProducers().get(0);
            out("ops-producers-committed coordinator-epoch=" + ps.coordinatorEpoch()
                    + " txn-start=" + ps.currentTransactionStartOffset()
                    + " marker-time-now=" + (ps.lastTimestamp() >= before));
        }
        out("ops-unknown-id " + failure(admin.describeTransactions(List.of("java-ops-nobody"))
                .description("java-ops-nobody")));
    }

    /// The listed transactions of this session's ids, as "id:STATE", sorted.
    static List<String> listings(ListTransactionsOptions options) throws Exception {
        return admin.listTransactions(options).all().get().stream()
                .filter(l -> l.transactionalId().startsWith("java-"))
                .map(l -> l.transactionalId() + ":" + l.state())
                .sorted()
                .collect(Collectors.toList());
    }

    static List<String> readAll(TopicPartition tp, String isolation) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            got.add("end=" + end);
            waitFor("read " + isolation, () -> {
                for (var r : consumer.poll(Duration.ofMillis(100))) got.add(r.value());
                return consumer.position(tp) >= end;
            });
        }
        return got;
    }

    // ---------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------

    static void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void phase(String name) {
        long now = System.nanoTime();
        System.err.printf("phase %s took %d ms%n", name, (now - started) / 1_000_000);
        started = now;
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError("check failed: " + what);
    }

    static void waitFor(String what, BooleanSupplier cond) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out: " + what);
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }
    }

    static List<Integer> ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).sorted().collect(Collectors.toList());
    }

    static List<String> sorted(Collection<TopicPartition> parts) {
        return parts.stream().map(TopicPartition::toString).sorted().collect(Collectors.toList());
    }

    static String offsets(Map<TopicPartition, OffsetAndMetadata> m) {
        return new TreeMap<>(m.entrySet().stream().collect(Collectors.toMap(
                e -> e.getKey().toString(), e -> e.getValue().offset() + "/epoch:"
                        + e.getValue().leaderEpoch().map(String::valueOf).orElse("none")))).toString();
    }

    static String longs(Map<TopicPartition, Long> m) {
        return new TreeMap<>(m.entrySet().stream().collect(Collectors.toMap(
                e -> e.getKey().toString(), Map.Entry::getValue))).toString();
    }
}
