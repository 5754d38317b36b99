// A sarama session: admin, a snappy producer with headers, a consumer group that commits,
// committed offsets, then the topic deleted. One line per step, compared by
// tests/interop_go.rs.
//
// Sarama picks every request version from Config.Version, not from ApiVersions: V4_0_0_0 asks
// only versions Kafka 4 still serves (KIP-896 removed the old ones).
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

type handler struct {
	want int
	got  chan string
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		hv := ""
		for _, h := range m.Headers {
			if string(h.Key) == "h" {
				hv = string(h.Value)
			}
		}
		h.got <- fmt.Sprintf("(%d,%d,%s,%s,%s)", m.Partition, m.Offset, m.Key, m.Value, hv)
		s.MarkMessage(m, "")
	}
	return nil
}

func main() {
	addr := []string{os.Args[1]}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.ClientID = "sarama-session"
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Compression = sarama.CompressionSnappy
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.CommitInterval = 100 * time.Millisecond

	admin, err := sarama.NewClusterAdmin(addr, cfg)
	must(err, "admin")
	must(admin.CreateTopic("go-topic", &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false), "create topic")
	fmt.Println("topics", topicList(admin))

	producer, err := sarama.NewSyncProducer(addr, cfg)
	must(err, "producer")
	produced := []string{}
	for i := 0; i < 6; i++ {
		p, off, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic:     "go-topic",
			Partition: int32(i % 2),
			Key:       sarama.StringEncoder(fmt.Sprintf("k%d", i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("v%d", i)),
			Headers:   []sarama.RecordHeader{{Key: []byte("h"), Value: []byte(fmt.Sprintf("x%d", i))}},
		})
		must(err, "send")
		produced = append(produced, fmt.Sprintf("(%d,%d)", p, off))
	}
	fmt.Println("produced", strings.Join(produced, ","))
	must(producer.Close(), "producer close")

	group, err := sarama.NewConsumerGroup(addr, "go-group", cfg)
	must(err, "consumer group")
	h := &handler{want: 6, got: make(chan string, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- group.Consume(ctx, []string{"go-topic"}, h) }()
	got := []string{}
	deadline := time.After(20 * time.Second)
	for len(got) < 6 {
		select {
		case m := <-h.got:
			got = append(got, m)
		case err := <-group.Errors():
			must(err, "consume")
		case <-deadline:
			must(fmt.Errorf("only %d of 6 records: %v", len(got), got), "consume")
		}
	}
	// Closing the group commits what was marked before it leaves.
	cancel()
	must(<-done, "consume ends")
	must(group.Close(), "group close")
	sort.Strings(got)
	fmt.Println("consumed", strings.Join(got, ","))

	offsets, err := admin.ListConsumerGroupOffsets("go-group", map[string][]int32{"go-topic": {0, 1}})
	must(err, "committed offsets")
	committed := []string{}
	for _, p := range []int32{0, 1} {
		b := offsets.GetBlock("go-topic", p)
		if b == nil {
			must(fmt.Errorf("no block for partition %d", p), "committed offsets")
		}
		committed = append(committed, fmt.Sprintf("%d:%d", p, b.Offset))
	}
	fmt.Println("committed", strings.Join(committed, ","))

	must(admin.DeleteTopic("go-topic"), "delete topic")
	fmt.Println("after-delete", topicList(admin))
	must(admin.Close(), "admin close")
}

// The topics the cluster has, with their partition counts, as ClusterAdmin lists them
// (Metadata, then DescribeConfigs for each topic).
func topicList(admin sarama.ClusterAdmin) string {
	topics, err := admin.ListTopics()
	must(err, "list topics")
	names := []string{}
	for t, d := range topics {
		names = append(names, fmt.Sprintf("%s:%d", t, d.NumPartitions))
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}
