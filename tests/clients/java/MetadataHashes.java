// Kafka's own metadata hashes (KIP-1101) on its jars, as an oracle for
// src/groups/metadata_hash.rs: hash4j's XXH3-64 of a patterned input at lengths crossing every
// size class, and Utils.computeTopicHash / computeGroupHash over a metadata image built from
// TopicRecord and PartitionRecord as the controller writes them. One line per value:
// <label> <signed decimal>.

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.dynatrace.hash4j.hashing.Hashing;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.metadata.PartitionRecord;
import org.apache.kafka.common.metadata.TopicRecord;
import org.apache.kafka.coordinator.common.runtime.KRaftCoordinatorMetadataImage;
import org.apache.kafka.coordinator.group.Utils;
import org.apache.kafka.image.MetadataDelta;
import org.apache.kafka.image.MetadataImage;
import org.apache.kafka.image.MetadataProvenance;

public class MetadataHashes {
    public static void main(String[] args) {
        byte[] data = new byte[3000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7 + 3);
        }
        for (int len : new int[] {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 31, 32, 33, 63, 64, 65, 96,
                97, 127, 128, 129, 150, 160, 200, 239, 240, 241, 255, 256, 500, 1023, 1024, 1025,
                1088, 2048, 2049, 3000}) {
            System.out.println("xxh3-" + len + " " + Hashing.xxh3_64().hashBytesToLong(data, 0, len));
        }
        // Topics named and numbered as the Rust test names them.
        Object[][] topics = {
            {"kip848", new Uuid(0x0123456789abcdefL, 0xfedcba9876543210L), 6},
            {"a", new Uuid(0x0101010101010101L, 0x0101010101010101L), 1},
            {"many-partitions.topic_name", new Uuid(-2L, 7L), 100},
            {"ünïcødé", new Uuid(0x7fffffffffffffffL, 0x8000000000000000L), 3},
        };
        MetadataDelta delta = new MetadataDelta.Builder().setImage(MetadataImage.EMPTY).build();
        for (Object[] t : topics) {
            Uuid id = (Uuid) t[1];
            delta.replay(new TopicRecord().setName((String) t[0]).setTopicId(id));
            for (int p = 0; p < (int) t[2]; p++) {
                delta.replay(new PartitionRecord().setPartitionId(p).setTopicId(id)
                    .setReplicas(List.of(1)).setIsr(List.of(1)).setLeader(1).setLeaderEpoch(0)
                    .setPartitionEpoch(0));
            }
        }
        KRaftCoordinatorMetadataImage image =
            new KRaftCoordinatorMetadataImage(delta.apply(MetadataProvenance.EMPTY));
        Map<String, Long> all = new TreeMap<>();
        for (Object[] t : topics) {
            long h = Utils.computeTopicHash((String) t[0], image);
            all.put((String) t[0], h);
            System.out.println("topic-" + t[0] + " " + h);
        }
        System.out.println("group-all " + Utils.computeGroupHash(all));
        System.out.println("group-one " + Utils.computeGroupHash(Map.of("kip848", all.get("kip848"))));
        System.out.println("group-none " + Utils.computeGroupHash(Map.of()));
    }
}
