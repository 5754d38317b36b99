// Two members of one consumer group on the consumer protocol (KIP-848, group.protocol=consumer),
// Apache Kafka's Java client, driven line by line from stdin so that the test can restart the
// broker between steps. Arguments: bootstrap address, topic, group.
//
// Commands (stdin), answers (stdout):
//   until <n>   poll both members, commitSync after every poll that returned records, until
//               <n> distinct records are read and each member owns 3 partitions; answers
//               "owned <a's partitions> <b's partitions>" then "done <n>"
//   close       closes both members; answers "duplicates <n>" and exits
// Timeouts throw, so the JVM exits non-zero.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.*;

import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ConsumerRestartSession {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], group = args[2];
        List<KafkaConsumer<String, String>> members = new ArrayList<>();
        for (String name : List.of("member-a", "member-b")) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            KafkaConsumer<String, String> c = new KafkaConsumer<>(p);
            c.subscribe(List.of(topic));
            members.add(c);
        }
        Map<String, Integer> reads = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("close")) {
                for (KafkaConsumer<String, String> c : members) {
                    c.close();
                }
                long dup = reads.values().stream().filter(n -> n > 1).count();
                System.out.println("duplicates " + dup);
                return;
            }
            int want = Integer.parseInt(line.substring("until ".length()));
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (true) {
                for (KafkaConsumer<String, String> c : members) {
                    ConsumerRecords<String, String> got = c.poll(Duration.ofMillis(20));
                    for (ConsumerRecord<String, String> r : got) {
                        reads.merge(r.partition() + "@" + r.offset(), 1, Integer::sum);
                    }
                    if (!got.isEmpty()) {
                        c.commitSync();
                    }
                }
                boolean settled = members.stream().allMatch(c -> c.assignment().size() == 3);
                if (reads.size() >= want && settled) {
                    break;
                }
                if (System.nanoTime() > end) {
                    throw new RuntimeException("read " + reads.size() + " of " + want + ", owning "
                        + members.stream().map(c -> c.assignment().toString()).toList());
                }
            }
            List<String> owned = new ArrayList<>();
            for (KafkaConsumer<String, String> c : members) {
                owned.add(c.assignment().stream().map(TopicPartition::partition).sorted()
                    .map(String::valueOf).reduce((a, b) -> a + "," + b).orElse(""));
            }
            System.out.println("owned " + String.join(" ", owned));
            System.out.println("done " + want);
            System.out.flush();
        }
    }
}
