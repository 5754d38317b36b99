// Apache Kafka's own Java client (kafka-clients) over SASL_PLAINTEXT against one broker, given
// as the only argument, which knows alice (SCRAM-SHA-512, password alice-secret) and the JAAS
// user carol (PLAIN, c-pw). As alice: the admin's describeUserScramCredentials and
// alterUserScramCredentials (adding bob with SCRAM-SHA-256), a producer and a consumer; then
// the same as bob, and as carol with PLAIN; then wrong passwords, which must be refused with a
// SaslAuthenticationException. Prints one line per step; a failure throws (exit 1).
// With a second argument `reauth` (for a broker with a short connections.max.reauth.ms), it
// instead produces as alice across several session lifetimes, which the client must renew by
// re-authenticating on its open connection (KIP-368).
// With `acls` (for a broker with the StandardAuthorizer and super user carol), carol's admin
// adds bob's SCRAM credential and creates ACLs with createAcls, reading them back with
// describeAcls; then alice may write to
// java-acl but not read it, and bob may do neither (TopicAuthorizationException).

import java.time.Duration;
import java.util.*;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class SaslSession {
    static final Duration DEADLINE = Duration.ofSeconds(60);
    static String bootstrap;

    public static void main(String[] args) {
        try {
            bootstrap = args[0];
            if (args.length > 1 && args[1].equals("reauth")) {
                reauth();
            } else if (args.length > 1 && args[1].equals("acls")) {
                acls();
            } else {
                session();
            }
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    static Properties sasl(String mechanism, String user, String password) {
        String module = mechanism.equals("PLAIN")
                ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, mechanism);
        p.put(SaslConfigs.SASL_JAAS_CONFIG,
                module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return p;
    }

    static void session() throws Exception {
        Properties alice = sasl("SCRAM-SHA-512", "alice", "alice-secret");
        try (Admin admin = Admin.create(alice)) {
            System.out.println("scram-users " + describe(admin));
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                    "bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192),
                    "bob-secret"))).all().get();
            System.out.println("scram-users-altered " + describe(admin));
            try {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(
                        "nobody", ScramMechanism.SCRAM_SHA_256))).all().get();
                System.out.println("delete-missing accepted");
            } catch (ExecutionException e) {
                System.out.println("delete-missing " + e.getCause().getClass().getSimpleName());
            }
            admin.createTopics(List.of(new NewTopic("java-sasl", 1, (short) 1))).all().get();
        }
        roundTrip("alice", alice);
        roundTrip("bob", sasl("SCRAM-SHA-256", "bob", "bob-secret"));
        roundTrip("carol", sasl("PLAIN", "carol", "c-pw"));
        wrong(sasl("SCRAM-SHA-512", "alice", "not-alice-secret"));
        wrong(sasl("SCRAM-SHA-256", "bob", "not-bob-secret"));
        wrong(sasl("PLAIN", "carol", "not-c-pw"));
        wrong(sasl("SCRAM-SHA-256", "alice", "alice-secret"));
        System.out.println("done");
    }

    /** One producer, one connection: a record, then another after each session has ended. */
    static void reauth() throws Exception {
        Properties alice = sasl("SCRAM-SHA-512", "alice", "alice-secret");
        try (Admin admin = Admin.create(alice)) {
            admin.createTopics(List.of(new NewTopic("java-reauth", 1, (short) 1))).all().get();
        }
        Properties pp = new Properties();
        pp.putAll(alice);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        List<Long> offsets = new ArrayList<>();
        try (Producer<String, String> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < 3; i++) {
                if (i > 0) {
                    // The scenario itself: the broker's session lifetime is 1.5 s.
                    Thread.sleep(2500);
                }
                offsets.add(producer.send(new ProducerRecord<>("java-reauth", "r" + i)).get()
                        .offset());
            }
            double reauths = metric(producer, "successful-reauthentication-total");
            double failed = metric(producer, "failed-reauthentication-total");
            System.out.println("reauth produced " + offsets + " reauthenticated=" + (reauths >= 2)
                    + " failed=" + (long) failed);
        }
    }

    static double metric(Producer<?, ?> producer, String name) {
        return producer.metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals(name)
                        && e.getKey().group().equals("producer-metrics"))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                .findFirst().orElseThrow(() -> new IllegalStateException("no metric " + name));
    }

    /** Users with their mechanisms and iterations, sorted. */
    static String describe(Admin admin) throws Exception {
        Map<String, UserScramCredentialsDescription> all =
                admin.describeUserScramCredentials().all().get();
        return new TreeMap<>(all).values().stream()
                .map(d -> d.name() + ":" + d.credentialInfos().stream()
                        .map(i -> i.mechanism().mechanismName() + "/" + i.iterations())
                        .sorted().collect(Collectors.joining(",")))
                .collect(Collectors.joining(" "));
    }

    /** Produces three records as `user`, then reads everything back from the beginning. */
    static void roundTrip(String user, Properties auth) throws Exception {
        Properties pp = new Properties();
        pp.putAll(auth);
        pp.put(ProducerConfig.CLIENT_ID_CONFIG, "java-sasl-" + user);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        List<Long> offsets = new ArrayList<>();
        try (Producer<String, String> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < 3; i++) {
                offsets.add(producer.send(new ProducerRecord<>("java-sasl", user, user + "-" + i))
                        .get().offset());
            }
        }
        System.out.println("produced " + user + " " + offsets);
        Properties cp = new Properties();
        cp.putAll(auth);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "java-sasl-" + user);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> got = new ArrayList<>();
        long end = offsets.get(2) + 1;
        try (Consumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            consumer.subscribe(List.of("java-sasl"));
            long until = System.nanoTime() + DEADLINE.toNanos();
            while (got.size() < end) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException(user + " consumed only " + got);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    got.add(r.offset() + "=" + r.value());
                }
            }
            consumer.commitSync();
            OffsetAndMetadata committed =
                    consumer.committed(Set.of(new TopicPartition("java-sasl", 0)))
                            .get(new TopicPartition("java-sasl", 0));
            System.out.println("consumed " + user + " " + got + " committed=" + committed.offset());
        }
    }

    static void acls() throws Exception {
        Properties carol = sasl("PLAIN", "carol", "c-pw");
        try (Admin admin = Admin.create(carol)) {
            admin.createTopics(List.of(new NewTopic("java-acl", 1, (short) 1))).all().get();
            // bob can log in: it is the authorizer, not the login, that refuses him.
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("bob",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "bob-secret")))
                    .all().get();
            org.apache.kafka.common.resource.ResourcePattern topic =
                    new org.apache.kafka.common.resource.ResourcePattern(
                            org.apache.kafka.common.resource.ResourceType.TOPIC, "java-acl",
                            org.apache.kafka.common.resource.PatternType.LITERAL);
            org.apache.kafka.common.acl.AccessControlEntry write =
                    new org.apache.kafka.common.acl.AccessControlEntry("User:alice", "*",
                            org.apache.kafka.common.acl.AclOperation.WRITE,
                            org.apache.kafka.common.acl.AclPermissionType.ALLOW);
            admin.createAcls(List.of(new org.apache.kafka.common.acl.AclBinding(topic, write)))
                    .all().get();
            String described = admin.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY)
                    .values().get().stream().map(Object::toString).sorted()
                    .collect(Collectors.joining(" "));
            System.out.println("acls " + described);
        }
        Properties alice = sasl("SCRAM-SHA-512", "alice", "alice-secret");
        System.out.println("alice write " + tryWrite(alice));
        System.out.println("alice read " + tryRead(alice));
        Properties bob = sasl("SCRAM-SHA-512", "bob", "bob-secret");
        System.out.println("bob write " + tryWrite(bob));
    }

    static String tryWrite(Properties auth) {
        Properties pp = new Properties();
        pp.putAll(auth);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "20000");
        try (Producer<String, String> producer = new KafkaProducer<>(pp)) {
            return "offset " + producer.send(new ProducerRecord<>("java-acl", "k", "v")).get()
                    .offset();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            return cause.getClass().getSimpleName();
        }
    }

    static String tryRead(Properties auth) {
        Properties cp = new Properties();
        cp.putAll(auth);
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (Consumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            TopicPartition tp = new TopicPartition("java-acl", 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long until = System.nanoTime() + DEADLINE.toNanos();
            while (System.nanoTime() < until) {
                if (!consumer.poll(Duration.ofMillis(200)).isEmpty()) {
                    return "records";
                }
            }
            return "nothing";
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    /** What a client with a wrong password (or an unknown mechanism for the user) is told. */
    static void wrong(Properties auth) {
        String who = auth.get(SaslConfigs.SASL_MECHANISM) + " "
                + auth.get(SaslConfigs.SASL_JAAS_CONFIG).toString().split("username=\"")[1]
                        .split("\"")[0];
        try (Admin admin = Admin.create(auth)) {
            admin.listTopics().names().get();
            System.out.println("wrong " + who + " accepted");
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (!(cause instanceof SaslAuthenticationException)) {
                throw new IllegalStateException("wrong " + who + ": " + cause, cause);
            }
            System.out.println("wrong " + who + " " + cause.getClass().getSimpleName() + ": "
                    + cause.getMessage());
        }
    }
}
