// The bytes Kafka's own generated classes (kafka-group-coordinator) write for consumer group
// records of __consumer_offsets, for forms a live group does not produce (classic member
// metadata, assignment epochs, partition metadata, regular expressions). Prints one line per
// record: <name> <key hex> <value hex or "null">. The key is the record type then the key at
// version 0, the value its version then the value, as Kafka's coordinator serde writes them.

import java.nio.ByteBuffer;
import java.util.List;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.coordinator.group.generated.*;

public class ConsumerGroupRecordBytes {
    static final Uuid T1 = new Uuid(0x0101010101010101L, 0x0101010101010101L);
    static final Uuid T2 = new Uuid(0x0202020202020202L, 0x0202020202020202L);

    static String hex(short prefix, ApiMessage m) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = m.size(cache, (short) 0);
        ByteBuffer buf = ByteBuffer.allocate(2 + size);
        buf.putShort(prefix);
        m.write(new ByteBufferAccessor(buf), cache, (short) 0);
        StringBuilder s = new StringBuilder();
        for (byte b : buf.array()) {
            s.append(String.format("%02x", b));
        }
        return s.toString();
    }

    static void print(String name, ApiMessage key, ApiMessage value) {
        System.out.println(name + " " + hex(key.apiKey(), key) + " " + (value == null ? "null" : hex((short) 0, value)));
    }

    public static void main(String[] args) {
        print("group-metadata", new ConsumerGroupMetadataKey().setGroupId("g1"),
            new ConsumerGroupMetadataValue().setEpoch(5));
        print("group-metadata-hash", new ConsumerGroupMetadataKey().setGroupId("g1"),
            new ConsumerGroupMetadataValue().setEpoch(5).setMetadataHash(-2));
        print("group-metadata-tombstone", new ConsumerGroupMetadataKey().setGroupId("g1"), null);
        print("member-consumer",
            new ConsumerGroupMemberMetadataKey().setGroupId("g").setMemberId("m"),
            new ConsumerGroupMemberMetadataValue()
                .setInstanceId(null).setRackId("r").setClientId("c").setClientHost("/h")
                .setSubscribedTopicNames(List.of("t", "u")).setSubscribedTopicRegex(null)
                .setRebalanceTimeoutMs(300000).setServerAssignor("uniform")
                .setClassicMemberMetadata(null));
        print("member-classic",
            new ConsumerGroupMemberMetadataKey().setGroupId("g").setMemberId("m"),
            new ConsumerGroupMemberMetadataValue()
                .setInstanceId("i").setRackId(null).setClientId("c").setClientHost("h")
                .setSubscribedTopicNames(List.of()).setSubscribedTopicRegex("t.*")
                .setRebalanceTimeoutMs(-1).setServerAssignor(null)
                .setClassicMemberMetadata(new ConsumerGroupMemberMetadataValue.ClassicMemberMetadata()
                    .setSessionTimeoutMs(45000)
                    .setSupportedProtocols(List.of(new ConsumerGroupMemberMetadataValue.ClassicProtocol()
                        .setName("range").setMetadata(new byte[] {9, 8})))));
        print("member-default",
            new ConsumerGroupMemberMetadataKey().setGroupId("g").setMemberId("m"),
            new ConsumerGroupMemberMetadataValue().setClientId("c").setClientHost("h"));
        print("target-metadata",
            new ConsumerGroupTargetAssignmentMetadataKey().setGroupId("g"),
            new ConsumerGroupTargetAssignmentMetadataValue().setAssignmentEpoch(7).setAssignmentTimestamp(0x0102));
        print("target-member",
            new ConsumerGroupTargetAssignmentMemberKey().setGroupId("g").setMemberId("m"),
            new ConsumerGroupTargetAssignmentMemberValue().setTopicPartitions(List.of(
                new ConsumerGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(T1).setPartitions(List.of(0, 4)),
                new ConsumerGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(T2).setPartitions(List.of()))));
        print("current-assignment",
            new ConsumerGroupCurrentMemberAssignmentKey().setGroupId("g").setMemberId("m"),
            new ConsumerGroupCurrentMemberAssignmentValue()
                .setMemberEpoch(9).setPreviousMemberEpoch(8).setState((byte) 1)
                .setAssignedPartitions(List.of(
                    new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions()
                        .setTopicId(T1).setPartitions(List.of(1)).setAssignmentEpochs(List.of(9)),
                    new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions()
                        .setTopicId(T2).setPartitions(List.of(2)).setAssignmentEpochs(null)))
                .setPartitionsPendingRevocation(List.of(
                    new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions()
                        .setTopicId(T1).setPartitions(List.of(3)).setAssignmentEpochs(List.of()))));
        print("current-assignment-tombstone",
            new ConsumerGroupCurrentMemberAssignmentKey().setGroupId("g").setMemberId("m"), null);
        print("partition-metadata",
            new ConsumerGroupPartitionMetadataKey().setGroupId("g"),
            new ConsumerGroupPartitionMetadataValue().setTopics(List.of(
                new ConsumerGroupPartitionMetadataValue.TopicMetadata()
                    .setTopicId(T1).setTopicName("t").setNumPartitions(6)
                    .setPartitionMetadata(List.of(new ConsumerGroupPartitionMetadataValue.PartitionMetadata()
                        .setPartition(5).setRacks(List.of("r1")))))));
        print("regular-expression",
            new ConsumerGroupRegularExpressionKey().setGroupId("g").setRegularExpression("a.*"),
            new ConsumerGroupRegularExpressionValue().setTopics(List.of("a")).setVersion(3).setTimestamp(4));
    }
}
