import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka's Java consumer with group.protocol=consumer (KIP-848): two, then three, then two
 * members share a six-partition topic; every record is read once and committed; the admin
 * describes the group. Prints one line per observation for the Rust test to check.
 */
public class Kip848Session {
    static final String TOPIC = "java-kip848";
    static final String GROUP = "java-kip848";
    static final int PARTS = 6;
    static String addr;
    /** "partition-offset" -> times read. */
    static final Map<String, Integer> seen = new TreeMap<>();

    static KafkaConsumer<String, String> consumer(String id) {
        Properties p = new Properties();
        p.put("bootstrap.servers", addr);
        p.put("group.id", GROUP);
        p.put("group.protocol", "consumer");
        p.put("client.id", id);
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
        c.subscribe(List.of(TOPIC));
        return c;
    }

    static void take(KafkaConsumer<String, String> c, ConsumerRecords<String, String> recs) {
        for (ConsumerRecord<String, String> r : recs) {
            seen.merge(r.partition() + "-" + r.offset(), 1, Integer::sum);
        }
        if (!recs.isEmpty()) {
            c.commitSync();
        }
    }

    /** Polls until the members own every partition once, within one of each other. */
    static List<Integer> settle(List<KafkaConsumer<String, String>> cs) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            List<Integer> sizes = new ArrayList<>();
            Set<TopicPartition> all = new TreeSet<>((a, b) -> a.partition() - b.partition());
            int sum = 0;
            for (KafkaConsumer<String, String> c : cs) {
                sizes.add(c.assignment().size());
                sum += c.assignment().size();
                all.addAll(c.assignment());
            }
            int max = sizes.stream().max(Integer::compare).orElse(0);
            int min = sizes.stream().min(Integer::compare).orElse(0);
            if (sum == PARTS && all.size() == PARTS && max - min <= 1) {
                sizes.sort(Integer::compare);
                return sizes;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new RuntimeException("group did not settle: " + sizes);
            }
            for (KafkaConsumer<String, String> c : cs) {
                take(c, c.poll(Duration.ofMillis(50)));
            }
        }
    }

    static void produce(KafkaProducer<String, String> prod, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            prod.send(new ProducerRecord<>(TOPIC, i % PARTS, "k" + i, "v" + i)).get();
        }
    }

    static void consume(List<KafkaConsumer<String, String>> cs, int total) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (seen.values().stream().mapToInt(Integer::intValue).sum() < total) {
            if (System.currentTimeMillis() > deadline) {
                throw new RuntimeException("consumed only " + seen.size() + " of " + total);
            }
            for (KafkaConsumer<String, String> c : cs) {
                take(c, c.poll(Duration.ofMillis(50)));
            }
        }
    }

    public static void main(String[] args) throws Exception {
        addr = args[0];
        Properties ap = new Properties();
        ap.put("bootstrap.servers", addr);
        Properties pp = new Properties();
        pp.put("bootstrap.servers", addr);
        pp.put("acks", "all");
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        try (Admin admin = Admin.create(ap); KafkaProducer<String, String> prod = new KafkaProducer<>(pp)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTS, (short) 1))).all().get();

            KafkaConsumer<String, String> a = consumer("a");
            KafkaConsumer<String, String> b = consumer("b");
            System.out.println("two " + settle(List.of(a, b)));
            produce(prod, 0, 60);
            consume(List.of(a, b), 60);

            KafkaConsumer<String, String> c = consumer("c");
            System.out.println("three " + settle(List.of(a, b, c)));
            produce(prod, 60, 120);
            consume(List.of(a, b, c), 120);

            a.close();
            System.out.println("after-leave " + settle(List.of(b, c)));
            produce(prod, 120, 180);
            consume(List.of(b, c), 180);

            int reads = seen.values().stream().mapToInt(Integer::intValue).sum();
            System.out.println("records " + reads + " distinct " + seen.size());
            TreeSet<Long> committed = new TreeSet<>();
            for (KafkaConsumer<String, String> k : List.of(b, c)) {
                for (OffsetAndMetadata o : k.committed(k.assignment()).values()) {
                    committed.add(o.offset());
                }
            }
            System.out.println("committed " + committed);

            ConsumerGroupDescription d =
                admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
            System.out.println("describe " + d.type() + " " + d.groupState() + " members "
                + d.members().size() + " assignor " + d.partitionAssignor());
            b.close();
            c.close();
        }
        System.out.println("done");
    }
}
