// A consumer group of Apache Kafka's Java client on the new consumer protocol (KIP-848,
// group.protocol=consumer) against one broker. Arguments: bootstrap address, topic, records
// per phase. The topic is created with 6 partitions. Two members form the group, a third
// joins, then the second leaves; records are produced before each step and read with
// commitSync after every poll, so that no record is read twice across the rebalances.
//
// Output lines (stdout):
//   owned <ms> <member> [partitions]   each member's assignment whenever it changes
//   rebalance <step> <ms>              from the step (start or close of a member) until every
//                                      partition is owned again, by one member each
//   moved <ms>                         from the end of the leaving member's close until the
//                                      others own its partitions (the leave comes at least
//                                      ASSIGNMENT_INTERVAL after the previous rebalance, so
//                                      that a coordinator's target for it is not held back)
//   read <member> <records>
//   records <read> of <produced> duplicates=<n> missing=<n>
//   committed <partition> <offset> end <offset>
// Timeouts throw, so the JVM exits non-zero; the caller judges the rest.

import java.time.Duration;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class ConsumerProtocolSession {
    static final int PARTITIONS = 6;
    static final Duration DEADLINE = Duration.ofSeconds(90);
    // Kafka's default group.consumer.assignment.interval.ms.
    static final long ASSIGNMENT_INTERVAL_MS = 1000;

    static String bootstrap;
    static String topic;
    static String group;
    static final long started = System.nanoTime();
    // partition -> offset -> members that read it
    static final Map<Integer, Map<Long, List<String>>> reads = new ConcurrentHashMap<>();
    static final Map<String, Set<Integer>> owned = new ConcurrentHashMap<>();
    static final Map<String, Integer> readCount = new ConcurrentHashMap<>();
    static final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

    static long ms() {
        return (System.nanoTime() - started) / 1_000_000;
    }

    static synchronized void out(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void waitFor(String what, BooleanSupplier done) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (!done.getAsBoolean()) {
            if (!failures.isEmpty()) {
                throw new RuntimeException("a member failed while waiting for " + what, failures.get(0));
            }
            if (System.nanoTime() > end) {
                throw new RuntimeException("timed out waiting for " + what + "; owned " + owned);
            }
            Thread.sleep(5);
        }
    }

    /// One member: polls, records what it read, commits after every poll that returned records.
    static class Member extends Thread {
        final String name;
        final AtomicBoolean stop = new AtomicBoolean();

        Member(String name) {
            this.name = name;
            setDaemon(true);
        }

        public void run() {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
                c.subscribe(List.of(topic));
                Set<Integer> last = null;
                while (!stop.get()) {
                    ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(20));
                    for (ConsumerRecord<String, String> r : recs) {
                        reads.computeIfAbsent(r.partition(), k -> new ConcurrentHashMap<>())
                            .computeIfAbsent(r.offset(), k -> Collections.synchronizedList(new ArrayList<>()))
                            .add(name);
                        readCount.merge(name, 1, Integer::sum);
                    }
                    if (!recs.isEmpty()) {
                        c.commitSync();
                    }
                    Set<Integer> now = c.assignment().stream().map(TopicPartition::partition)
                        .collect(Collectors.toCollection(TreeSet::new));
                    if (!now.equals(last)) {
                        owned.put(name, now);
                        out("owned " + ms() + " " + name + " " + now);
                        last = now;
                    }
                }
                c.commitSync();
                owned.remove(name);
            } catch (Throwable t) {
                failures.add(t);
            }
        }
    }

    /// Every partition owned by exactly one of `members`, each of which owns at least one.
    static boolean settled(List<Member> members) {
        int total = 0;
        Set<Integer> union = new HashSet<>();
        for (Member m : members) {
            Set<Integer> s = owned.get(m.name);
            if (s == null || s.isEmpty()) {
                return false;
            }
            total += s.size();
            union.addAll(s);
        }
        if (owned.keySet().stream().anyMatch(n -> members.stream().noneMatch(m -> m.name.equals(n)))) {
            return false;
        }
        return total == PARTITIONS && union.size() == PARTITIONS;
    }

    static int produced = 0;

    static void produce(Producer<String, String> producer, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            int id = produced + i;
            producer.send(new ProducerRecord<>(topic, id % PARTITIONS, "k" + id, "v" + id));
        }
        producer.flush();
        produced += n;
    }

    static int readSoFar() {
        return reads.values().stream().mapToInt(Map::size).sum();
    }

    public static void main(String[] args) {
        try {
            session(args[0], args[1], Integer.parseInt(args[2]));
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    static void session(String bootstrapServers, String topicName, int perPhase) throws Exception {
        bootstrap = bootstrapServers;
        topic = topicName;
        group = topicName + "-group";
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(ap)) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            try (Producer<String, String> producer = new KafkaProducer<>(pp)) {
                produce(producer, perPhase);
                Member a = new Member("member-a");
                Member b = new Member("member-b");
                Member c = new Member("member-c");
                long t0 = System.nanoTime();
                a.start();
                b.start();
                waitFor("two members to own every partition", () -> settled(List.of(a, b)));
                out("rebalance start-two " + (System.nanoTime() - t0) / 1_000_000);
                waitFor("the first records", () -> readSoFar() == produced);

                t0 = System.nanoTime();
                c.start();
                waitFor("three members to own every partition", () -> settled(List.of(a, b, c)));
                long thirdSettled = System.nanoTime();
                out("rebalance join-third " + (thirdSettled - t0) / 1_000_000);
                produce(producer, perPhase);
                waitFor("the second records", () -> readSoFar() == produced);
                long sinceMs = (System.nanoTime() - thirdSettled) / 1_000_000;
                if (sinceMs < ASSIGNMENT_INTERVAL_MS) {
                    Thread.sleep(ASSIGNMENT_INTERVAL_MS - sinceMs);
                }

                t0 = System.nanoTime();
                b.stop.set(true);
                b.join(DEADLINE.toMillis());
                long closed = System.nanoTime();
                waitFor("two members to own every partition again", () -> settled(List.of(a, c)));
                long now = System.nanoTime();
                out("rebalance leave-second " + (now - t0) / 1_000_000);
                out("moved " + (now - closed) / 1_000_000);
                produce(producer, perPhase);
                waitFor("the third records", () -> readSoFar() == produced);
                a.stop.set(true);
                c.stop.set(true);
                a.join(DEADLINE.toMillis());
                c.join(DEADLINE.toMillis());
                if (!failures.isEmpty()) {
                    throw new RuntimeException("a member failed", failures.get(0));
                }
            }
            for (String m : new TreeSet<>(readCount.keySet())) {
                out("read " + m + " " + readCount.get(m));
            }
            int duplicates = 0;
            int read = 0;
            for (Map<Long, List<String>> byOffset : reads.values()) {
                for (List<String> who : byOffset.values()) {
                    read += who.size();
                    duplicates += who.size() - 1;
                }
            }
            out("records " + read + " of " + produced + " duplicates=" + duplicates
                + " missing=" + (produced - readSoFar()));
            Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get();
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                OffsetAndMetadata o = committed.get(tp);
                out("committed " + p + " " + (o == null ? -1 : o.offset()) + " end " + ends.get(tp).offset());
            }
        }
    }
}
